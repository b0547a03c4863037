"""Process environment changes that are undone on exit."""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping
from contextlib import contextmanager


@contextmanager
def environ_changed(
    set_: Mapping[str, str] | None = None,
    default: Mapping[str, str] | None = None,
    cleared: tuple[str, ...] = (),
) -> Iterator[None]:
    """Within the block: ``set_`` variables set, ``default`` ones set where unset, ``cleared``
    ones removed; on exit every one of them is as it was."""
    set_, default = set_ or {}, default or {}
    keys = (*set_, *default, *cleared)
    saved = {key: os.environ.get(key) for key in keys}
    for key in cleared:
        os.environ.pop(key, None)
    for key, fallback in default.items():
        os.environ.setdefault(key, fallback)
    os.environ.update(set_)
    try:
        yield
    finally:
        for key, before in saved.items():
            if before is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = before
