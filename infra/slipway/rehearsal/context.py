"""What a discoverer reads a stack's workloads from: the applied program and emulated AWS."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from slipway.rehearsal.workload import NotRehearsed, Workload


@dataclass(frozen=True)
class RehearsalContext:
    """One applied stack.

    ``program_dir`` is the project's ``infra/`` (its Dockerfile is one level up); ``run``
    the mocked program run of the last apply (``slipway.testing.ProgramRun``: every declared
    resource with its inputs, and the stack outputs); ``aws`` the emulator's clients
    (``slipway.sandbox.server.AwsClients``) holding what the apply and the releases made;
    ``work_dir`` a scratch directory for this rehearsal.
    """

    program_dir: Path
    stack: str
    run: Any
    aws: Any
    work_dir: Path

    @property
    def project_dir(self) -> Path:
        return self.program_dir.parent

    @property
    def outputs(self) -> dict[str, Any]:
        return dict(self.run.outputs)


Found = Sequence[Workload | NotRehearsed]
Discoverer = Callable[[RehearsalContext], Found]
