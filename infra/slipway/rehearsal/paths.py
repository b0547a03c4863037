"""Where a rehearsal keeps its files: ``<work_dir>/<workload>/`` and the access logs.

Access logs (the IAM matrix reads them): ``<work_dir>/access/<workload>.jsonl`` holds the
AWS requests the workload's process made, ``<workload>.platform.jsonl`` those the engine
made for it with the workload's role (e.g. SageMaker fetching the model data). One JSON
object per line, ``slipway.access.request.AccessRequest.to_dict``: principal (role ARN),
action, resource ARN, context (condition keys), origin.
"""

from __future__ import annotations

import re
from pathlib import Path

ACCESS_DIR = "access"


def slug(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "-", name).strip("-")


def access_log(work_dir: Path, workload: str, kind: str = "") -> Path:
    directory = Path(work_dir) / ACCESS_DIR
    directory.mkdir(parents=True, exist_ok=True)
    return directory / (f"{slug(workload)}.{kind}.jsonl" if kind else f"{slug(workload)}.jsonl")
