"""Where this slipway-mlops was installed from, for the pin of a project ``slipway new`` makes.

PEP 610: an installer records ``direct_url.json`` for a distribution installed from a URL
(a git repository, a local directory or a wheel file) and none for one from an index.
"""

from __future__ import annotations

import json
from importlib.metadata import PackageNotFoundError, distribution

DISTRIBUTION = "slipway-mlops"


def installed_source(name: str = DISTRIBUTION) -> str | None:
    """The ``slipway_source`` that reproduces this install on a CI runner, or None.

    None: installed from a package index (pin ``==<version>``), or from a URL the project
    could not install from (an https archive).
    """
    try:
        text = distribution(name).read_text("direct_url.json")
    except PackageNotFoundError:
        return None
    if not text:
        return None
    info = json.loads(text)
    url = str(info.get("url", ""))
    vcs = info.get("vcs_info") or {}
    if vcs.get("vcs") == "git" and vcs.get("commit_id"):
        return (
            f"{url}@{vcs['commit_id']}"
            if url.startswith("git+")
            else f"git+{url}@{vcs['commit_id']}"
        )
    if url.startswith("file://"):
        return url  # a wheel or a source tree: the post-gen hook vendors it
    return None
