"""What ``docker run IMAGE ARGS`` would execute, read from the project's Dockerfile.

No container engine here: the final stage's ``ENTRYPOINT``, ``CMD``, ``ENV``, ``USER``,
``WORKDIR`` and ``EXPOSE`` are read with ``dockerfile-parse`` (ARG defaults substituted)
and the rehearsal runs that entry point as a process. Docker's rules: arguments given to
``docker run`` replace ``CMD``; the exec (JSON) form is required so the entry point gets
signals directly (SageMaker asks for it).
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any


class ImageError(ValueError):
    """The Dockerfile cannot be run as the engine would run it."""


@dataclass(frozen=True)
class ImageSpec:
    entrypoint: tuple[str, ...]
    cmd: tuple[str, ...]
    env: dict[str, str] = field(default_factory=dict)
    user: str = ""
    workdir: str = ""
    exposed: tuple[int, ...] = ()

    def argv(self, args: tuple[str, ...] | None = None) -> tuple[str, ...]:
        """``docker run IMAGE *args``: ENTRYPOINT + args (CMD when no args)."""
        return self.entrypoint + (self.cmd if args is None else args)


def read_dockerfile(path: Path, build_args: dict[str, str] | None = None) -> ImageSpec:
    """The final stage of ``path`` (a rendered Dockerfile)."""
    from dockerfile_parse import DockerfileParser

    path = Path(path)
    if not path.is_file():
        raise ImageError(f"image: {path} does not exist")
    parser = DockerfileParser(path=str(path), build_args=build_args or {}, env_replace=True)
    final = _final_stage(parser.structure)
    spec: dict[str, Any] = {"entrypoint": (), "cmd": (), "exposed": ()}
    for item in final:
        instruction, value = item["instruction"], item["value"]
        if instruction in ("ENTRYPOINT", "CMD"):
            spec[instruction.lower()] = _exec_form(instruction, value)
        elif instruction == "USER":
            spec["user"] = value.strip()
        elif instruction == "WORKDIR":
            spec["workdir"] = value.strip()
        elif instruction == "EXPOSE":
            spec["exposed"] += tuple(int(p.split("/")[0]) for p in value.split())
    if not spec["entrypoint"] and not spec["cmd"]:
        raise ImageError(f"image: {path} has neither ENTRYPOINT nor CMD")
    env = {key: value.rstrip(":") if key == "PATH" else value for key, value in parser.envs.items()}
    return ImageSpec(env=env, **spec)


def _final_stage(structure: list[dict[str, Any]]) -> list[dict[str, Any]]:
    starts = [i for i, item in enumerate(structure) if item["instruction"] == "FROM"]
    if not starts:
        raise ImageError("image: the Dockerfile has no FROM")
    return structure[starts[-1] :]


def _exec_form(instruction: str, value: str) -> tuple[str, ...]:
    try:
        parsed = json.loads(value)
    except ValueError:
        parsed = None
    if not isinstance(parsed, list) or not all(isinstance(a, str) for a in parsed):
        raise ImageError(
            f"image: {instruction} must use the exec (JSON) form so the process receives "
            f"SIGTERM directly (got {value!r})"
        )
    return tuple(parsed)


def resolve_path(image_path: str, venv_bin: Path) -> tuple[str, list[str]]:
    """The image's ``PATH`` for a process on this machine: entries that do not exist here
    (the image's virtualenv) become ``venv_bin``; returns the PATH and what was replaced."""
    entries, replaced = [], []
    for entry in filter(None, image_path.split(":")):
        if Path(entry).is_dir():
            entries.append(entry)
        else:
            replaced.append(entry)
            if str(venv_bin) not in entries:
                entries.append(str(venv_bin))
    host = [e for e in os.environ.get("PATH", "").split(":") if e and e not in entries]
    return ":".join([*entries, *host]), replaced
