"""apply and destroy: run the program against moto, persist the sandbox between runs."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import yaml

from slipway.sandbox.contents import emulator_contents
from slipway.sandbox.errors import SandboxError
from slipway.sandbox.mocks import SandboxMocks, delete
from slipway.sandbox.readback import Check, read_back
from slipway.sandbox.server import AwsClients, EmulatedAws
from slipway.sandbox.state import Entry, SandboxState, state_dir
from slipway.testing.mocks import DEFAULT_REGION
from slipway.testing.programs import ProgramRun, run_program


@dataclass(frozen=True)
class ApplyReport:
    entries: list[Entry]
    removed: list[Entry]
    checks: list[Check]
    contents: list[str]
    run: ProgramRun

    @property
    def changed(self) -> bool:
        return bool(self.removed) or any(e.action != "unchanged" for e in self.entries)

    @property
    def failed_checks(self) -> list[Check]:
        return [c for c in self.checks if not c.ok]


@dataclass(frozen=True)
class DestroyReport:
    removed: list[Entry]
    remaining: list[str] = field(default_factory=list)


def stack_region(program_dir: Path, stack: str) -> str:
    """``aws:region`` of ``Pulumi.<stack>.yaml`` (the provider default otherwise)."""
    stack_file = Path(program_dir) / f"Pulumi.{stack}.yaml"
    if not stack_file.is_file():
        raise SandboxError(f"--stack: {stack_file} does not exist")
    config = (yaml.safe_load(stack_file.read_text()) or {}).get("config") or {}
    return str(config.get("aws:region") or DEFAULT_REGION)


def _open(directory: Path, emulator: EmulatedAws) -> SandboxState:
    state = SandboxState.load(directory)
    if state.entries or state.snapshot_file.is_file():
        if not state.snapshot_file.is_file():
            raise SandboxError(f"state: {state.snapshot_file} is missing; delete {directory}")
        emulator.load(state.snapshot_file)
    return state


def apply(program_dir: Path, stack: str, directory: Path | None = None) -> ApplyReport:
    """Apply the program to a sandbox; creates, replaces or removes only what changed."""
    program_dir = Path(program_dir).resolve()
    directory = directory or state_dir(program_dir, stack)
    with EmulatedAws(stack_region(program_dir, stack)) as emulator:
        state = _open(directory, emulator)
        mocks = SandboxMocks(emulator.aws, state.by_key())
        try:
            run = run_program(program_dir, stack, mocks=mocks)
        except Exception as exc:
            if mocks.error is not None:
                raise mocks.error from exc
            raise
        declared = {entry.key for entry in mocks.entries}
        removed = [e for e in reversed(state.entries) if e.key not in declared]
        for entry in removed:
            delete(emulator.aws, entry)
        checks = read_back(emulator.aws, mocks.entries)
        contents = emulator_contents(emulator.aws)
        directory.mkdir(parents=True, exist_ok=True)
        emulator.save(state.snapshot_file)
        state.write(mocks.entries)
        write_outputs(directory, run.outputs)
    removed = [replace(e, action="deleted") for e in removed]
    return ApplyReport(mocks.entries, removed, checks, contents, run)


def destroy(program_dir: Path, stack: str, directory: Path | None = None) -> DestroyReport:
    """Delete every applied resource, newest first; fail if moto still holds anything."""
    program_dir = Path(program_dir).resolve()
    directory = directory or state_dir(program_dir, stack)
    with EmulatedAws(stack_region(program_dir, stack)) as emulator:
        state = _open(directory, emulator)
        applied = list(reversed(state.entries))
        for entry in applied:
            delete(emulator.aws, entry)
        remaining = emulator_contents(emulator.aws)
        if remaining:
            raise SandboxError(f"destroy: moto still holds {', '.join(remaining)}")
        directory.mkdir(parents=True, exist_ok=True)
        emulator.save(state.snapshot_file)
        state.write([])
    return DestroyReport([replace(e, action="deleted") for e in applied], remaining)


OUTPUTS = "outputs.json"


def write_outputs(directory: Path, outputs: dict[str, Any]) -> None:
    """The stack outputs as ``pulumi stack output --json`` prints them (secrets shown)."""
    (directory / OUTPUTS).write_text(json.dumps(outputs, indent=1, sort_keys=True, default=str))


@contextmanager
def opened(program_dir: Path, stack: str, directory: Path | None = None) -> Iterator[AwsClients]:
    """The applied sandbox, running: clients of emulated AWS holding the last apply.

    What is done through them (a release: export, register, approve, roll out) is saved
    into the sandbox when the block ends without an error, so the next apply, rehearsal or
    ``opened`` sees it.
    """
    program_dir = Path(program_dir).resolve()
    directory = directory or state_dir(program_dir, stack)
    with EmulatedAws(stack_region(program_dir, stack)) as emulator:
        state = _open(directory, emulator)
        if not state.entries:
            raise SandboxError(
                f"state: nothing applied in {directory}; run `slipway sandbox` first"
            )
        yield emulator.aws
        emulator.save(state.snapshot_file)


def rehearse(
    program_dir: Path, stack: str, run: ProgramRun, directory: Path | None = None
) -> list[Any]:
    """Start every workload the applied stack declares (``slipway.rehearsal``)."""
    from slipway.rehearsal import RehearsalContext
    from slipway.rehearsal.stack import rehearse_stack

    program_dir = Path(program_dir).resolve()
    directory = directory or state_dir(program_dir, stack)
    work_dir = directory / "rehearsal"
    with opened(program_dir, stack, directory) as aws:
        return rehearse_stack(RehearsalContext(program_dir, stack, run, aws, work_dir))
