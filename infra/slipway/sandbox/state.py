"""The sandbox's state dir: what was applied (JSON) plus moto's backends (snapshot).

``<program_dir>/.slipway-sandbox/<stack>/state.json`` lists every resource of the last
successful apply, in creation order: type, name, id, the fingerprint of its declared
inputs, the state returned to the program, and whether it lives in moto or only in the
mocks. ``moto.pickle`` holds the emulator's data at that moment. Both are written only
after an apply or destroy succeeded, so a failed run leaves the previous sandbox as it was.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

STATE_DIR = ".slipway-sandbox"


@dataclass(frozen=True)
class Entry:
    """One resource in the sandbox."""

    type: str
    name: str
    id: str
    fingerprint: str
    state: dict[str, Any]
    in_moto: bool
    action: str = "created"

    @property
    def key(self) -> str:
        return f"{self.type}::{self.name}"


def fingerprint(inputs: dict[str, Any]) -> str:
    """Digest of declared inputs; equal inputs mean no change."""
    return hashlib.sha256(json.dumps(inputs, sort_keys=True, default=str).encode()).hexdigest()


@dataclass
class SandboxState:
    directory: Path
    entries: list[Entry] = field(default_factory=list)

    @property
    def state_file(self) -> Path:
        return self.directory / "state.json"

    @property
    def snapshot_file(self) -> Path:
        return self.directory / "moto.pickle"

    @classmethod
    def load(cls, directory: Path) -> SandboxState:
        state = cls(directory)
        if state.state_file.is_file():
            raw = json.loads(state.state_file.read_text())
            state.entries = [Entry(**{**item, "action": "unchanged"}) for item in raw["resources"]]
        return state

    def by_key(self) -> dict[str, Entry]:
        return {entry.key: entry for entry in self.entries}

    def write(self, entries: list[Entry]) -> None:
        self.directory.mkdir(parents=True, exist_ok=True)
        payload = {"resources": [asdict(entry) for entry in entries]}
        tmp = self.state_file.with_suffix(".tmp")
        tmp.write_text(json.dumps(payload, indent=1, sort_keys=True, default=str))
        tmp.replace(self.state_file)
        self.entries = entries


def state_dir(program_dir: Path, stack: str) -> Path:
    return Path(program_dir).resolve() / STATE_DIR / stack
