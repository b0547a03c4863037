"""What a rehearsal starts: a workload as its engine declares it, and what became of it."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from slipway.envvars import HOST_ENV, PORT_ENV


class NotRehearsedHere(UserWarning):
    """A declared workload this machine cannot start (docs/rehearsal.md). Raised as a warning
    so that pytest's summary names it; defined in the package so that pytest-xdist's
    controller can import the class when a worker reports the warning."""


@dataclass(frozen=True)
class HttpCheck:
    """One request to the running workload and the answer it must give.

    ``expect`` (optional) judges the response body; it returns ``""`` when the answer is
    right, else what is wrong with it.
    """

    name: str
    method: str
    path: str
    status: int = 200
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)
    expect: Callable[[bytes], str] | None = None


@dataclass(frozen=True)
class Workload:
    """A process an engine (SageMaker, Kubernetes) starts from the stack's declarations.

    ``command`` is the full argv as the engine builds it (image ENTRYPOINT + arguments);
    ``env`` the environment the engine gives it (image ENV, then the declared ones);
    ``mounts`` container paths -> host directories (read-only, e.g. ``/opt/ml/model``);
    ``readiness`` the probe the engine waits on before it sends traffic; ``checks`` the
    requests that prove it serves. ``deviations`` says where the process start differs
    from the real one (no container engine here); the runner adds its own.
    ``own_network=False`` keeps the host's loopback (for a workload that must reach moto or
    an ``mlflow server`` started by the rehearsal): ``port`` must then be free on it.
    ``isolate=False`` starts it without any namespace (an EKS pod calls MLflow and emulated
    AWS on this machine and listens on a port, 5000 or 8080, that others here may hold): it
    gets a free loopback port instead of ``port``, handed over in ``host_env`` and
    ``port_env`` (the variables its entry point reads its address from).
    """

    name: str
    engine: str
    source: str
    command: tuple[str, ...]
    env: dict[str, str]
    port: int
    readiness: HttpCheck
    checks: tuple[HttpCheck, ...] = ()
    mounts: dict[str, Path] = field(default_factory=dict)
    workdir: str = ""
    principal: str = ""
    deviations: tuple[str, ...] = ()
    startup_seconds: float = 60.0
    own_network: bool = True
    isolate: bool = True
    host_env: str = HOST_ENV
    port_env: str = PORT_ENV


@dataclass(frozen=True)
class NotRehearsed:
    """A declared workload the rehearsal could not start, and why (never skipped silently)."""

    name: str
    engine: str
    source: str
    reason: str


@dataclass(frozen=True)
class CheckResult:
    name: str
    ok: bool
    detail: str


@dataclass(frozen=True)
class Outcome:
    """What happened to one workload."""

    name: str
    engine: str
    source: str
    rehearsed: bool
    reason: str = ""
    checks: tuple[CheckResult, ...] = ()
    deviations: tuple[str, ...] = ()
    access_log: Path | None = None
    output: str = ""

    @property
    def ok(self) -> bool:
        return self.rehearsed and all(c.ok for c in self.checks)

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "engine": self.engine,
            "source": self.source,
            "rehearsed": self.rehearsed,
            "ok": self.ok,
            "reason": self.reason,
            "checks": [c.__dict__ for c in self.checks],
            "deviations": list(self.deviations),
            "access_log": str(self.access_log) if self.access_log else None,
        }
