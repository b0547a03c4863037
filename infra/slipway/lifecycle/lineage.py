"""Lineage facts attached to runs and model versions."""

from __future__ import annotations

import hashlib
import subprocess
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path

UNKNOWN = "unknown"


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


def training_tags(data_sha256: str, commit: str, metrics: Mapping[str, float]) -> dict[str, str]:
    """Tags a model version gets at registration."""
    tags = {"training_data_sha256": data_sha256, "git_commit": commit}
    tags.update({f"metric.{name}": f"{value:.6f}" for name, value in sorted(metrics.items())})
    return tags


def utc_now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def approval_tags(approved_by: str) -> dict[str, str]:
    """Tags a model version gets when promoted to champion."""
    return {"approved_by": approved_by, "approved_at": utc_now()}
