"""Lineage facts attached to runs and model versions: data, code and config versions.

A model is trained from three inputs, each with a content version:

* the training data: :class:`DataVersion` (sha256 of the file; the S3 object version too
  when it came from a versioned bucket);
* the code: :func:`code_sha256` of the project package's sources plus the slipway version
  (the git commit is recorded beside it, but a commit that changes no source retrains
  nothing);
* the config: :func:`config_sha256` of the sections that decide the model.

:class:`Inputs` holds the three; a pipeline whose inputs equal the champion's has nothing
to train (docs/lifecycle.md, "No-op rerun").
"""

from __future__ import annotations

import getpass
import hashlib
import json
import os
import subprocess
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict

UNKNOWN = "unknown"
TRAINED_BY_TAG = "trained_by"
COMMIT_TAG = "git_commit"


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def git_commit(directory: Path) -> str:
    """HEAD commit of the repository holding ``directory`` (``unknown`` outside git)."""
    try:
        result = subprocess.run(
            ["git", "rev-parse", "HEAD"],
            cwd=directory,
            capture_output=True,
            text=True,
            timeout=10,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired):
        return UNKNOWN
    return result.stdout.strip() if result.returncode == 0 else UNKNOWN


def code_sha256(package_dir: Path) -> str:
    """Content version of a project's code: its package's ``*.py`` files (paths and bytes)
    and the slipway version it runs on."""
    from slipway import __version__

    digest = hashlib.sha256(f"slipway {__version__}\n".encode())
    for path in sorted(package_dir.rglob("*.py")):
        digest.update(str(path.relative_to(package_dir)).encode() + b"\0")
        digest.update(path.read_bytes() + b"\0")
    return digest.hexdigest()


def config_sha256(sections: Mapping[str, Any]) -> str:
    """Content version of config ``sections`` (key order does not matter)."""
    text = json.dumps(sections, sort_keys=True, default=str, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()


def trained_by() -> str:
    """Who runs this training: the GitHub actor in Actions, else the local user."""
    if os.environ.get("GITHUB_ACTIONS") == "true" and os.environ.get("GITHUB_ACTOR"):
        return os.environ["GITHUB_ACTOR"]
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return UNKNOWN


class DataVersion(BaseModel):
    """One data file as a run read it: where, which content, how many rows.

    ``version_id``: the S3 object version when the file came from a versioned bucket
    (``s3://bucket/key``); None for a local file, whose content version is ``sha256``.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    uri: str
    sha256: str
    rows: int
    version_id: str | None = None

    def describe(self) -> str:
        """``data/evaluation.csv (sha256 1a2b3c4d5e6f, 114 rows)``, for one-line messages."""
        version = f", version {self.version_id}" if self.version_id else ""
        return f"{self.uri} (sha256 {self.sha256[:12]}{version}, {self.rows} rows)"

    def tags(self, role: str) -> dict[str, str]:
        """Tags ``<role>_sha256``, ``<role>_uri``, ``<role>_rows`` (and ``<role>_version_id``)."""
        tags = {
            f"{role}_sha256": self.sha256,
            f"{role}_uri": self.uri,
            f"{role}_rows": str(self.rows),
        }
        if self.version_id:
            tags[f"{role}_version_id"] = self.version_id
        return tags

    @classmethod
    def from_tags(cls, tags: Mapping[str, str], role: str) -> DataVersion | None:
        if f"{role}_sha256" not in tags:
            return None
        return cls(
            uri=tags.get(f"{role}_uri", UNKNOWN),
            sha256=tags[f"{role}_sha256"],
            rows=int(tags.get(f"{role}_rows", "0")),
            version_id=tags.get(f"{role}_version_id"),
        )


TRAINING = "training_data"
EVALUATION = "evaluation_data"


@dataclass(frozen=True)
class Inputs:
    """What a model is trained from; equal inputs train an equal model."""

    training_data: str
    code: str
    config: str

    def tags(self) -> dict[str, str]:
        return {
            f"{TRAINING}_sha256": self.training_data,
            "code_sha256": self.code,
            "config_sha256": self.config,
        }

    @classmethod
    def from_tags(cls, tags: Mapping[str, str]) -> Inputs | None:
        keys = (f"{TRAINING}_sha256", "code_sha256", "config_sha256")
        if not all(key in tags for key in keys):
            return None
        return cls(*(tags[key] for key in keys))


def training_tags(
    data: DataVersion, inputs: Inputs, commit: str, metrics: Mapping[str, float]
) -> dict[str, str]:
    """Tags a model version gets at registration: its inputs and where they came from."""
    tags = {**data.tags(TRAINING), **inputs.tags(), COMMIT_TAG: commit}
    tags.update({f"metric.{name}": f"{value:.6f}" for name, value in sorted(metrics.items())})
    return tags


def utc_now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")
