"""Start each workload once, wait for its readiness probe, send its checks, stop it."""

from __future__ import annotations

import base64
import json
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from slipway.access.recorder import LOG_ENV, PRINCIPAL_ENV
from slipway.rehearsal.paths import access_log, slug
from slipway.rehearsal.process import Started, environment, start
from slipway.rehearsal.workload import CheckResult, HttpCheck, NotRehearsed, Outcome, Workload

HOOK_DIR = Path(__file__).with_name("hook")
OUTPUT_TAIL = 2000


def rehearse(found: Sequence[Workload | NotRehearsed], work_dir: Path) -> list[Outcome]:
    """One outcome per declared workload, in order; nothing is skipped silently."""
    outcomes = []
    for item in found:
        if isinstance(item, NotRehearsed):
            outcomes.append(
                Outcome(item.name, item.engine, item.source, rehearsed=False, reason=item.reason)
            )
        else:
            outcomes.append(run_one(item, Path(work_dir)))
    return outcomes


@dataclass
class Running:
    """A started workload, its AWS request log and the deviations of its start."""

    workload: Workload
    started: Started
    deviations: list[str]
    log: Path

    def outcome(self, answer: dict[str, Any], output: str) -> Outcome:
        """Judge the probe's ``answer`` (``Started.exchange``); ``output``: the process's."""
        workload = self.workload
        checks = _judge(workload, answer)
        return Outcome(
            workload.name,
            workload.engine,
            workload.source,
            rehearsed=True,
            reason="" if all(c.ok for c in checks) else "started, but a check failed",
            checks=tuple(checks),
            deviations=tuple(self.deviations),
            access_log=self.log,
            output=output[-OUTPUT_TAIL:],
        )


def launch(workload: Workload, work_dir: Path) -> Running:
    """Start ``workload`` as a process whose AWS calls are recorded (not yet checked)."""
    log = access_log(work_dir, workload.name)
    log.touch()
    paths = [str(HOOK_DIR), *filter(None, [workload.env.get("PYTHONPATH", "")])]
    extra = {
        LOG_ENV: str(log),
        PRINCIPAL_ENV: workload.principal,
        # the recorder's sitecustomize first, then what the workload's start needs
        "PYTHONPATH": os.pathsep.join(paths),
    }
    started, deviations = start(
        workload, work_dir / slug(workload.name) / "run", environment(workload, extra)
    )
    deviations = [
        *workload.deviations,
        *deviations,
        f"PYTHONPATH={HOOK_DIR} added: records the workload's AWS requests in {log}",
    ]
    return Running(workload, started, deviations, log)


def run_one(workload: Workload, work_dir: Path) -> Outcome:
    """Start ``workload`` as a process (its AWS calls recorded), check it, stop it."""
    running = launch(workload, work_dir)
    try:
        answer = running.started.exchange(workload.checks)
    finally:
        output = running.started.stop()
    return running.outcome(answer, output)


def _judge(workload: Workload, answer: dict[str, Any]) -> list[CheckResult]:
    ready = answer["ready"]
    results = [_result(workload.readiness, ready)]
    if ready.get("exited"):
        results[0] = CheckResult(workload.readiness.name, False, "the process exited")
    for check, got in zip(workload.checks, answer["results"], strict=False):
        results.append(_result(check, got))
    for check in workload.checks[len(answer["results"]) :]:
        results.append(CheckResult(check.name, False, "not sent: the workload never became ready"))
    return results


def _result(check: HttpCheck, got: dict[str, Any]) -> CheckResult:
    if got["status"] != check.status:
        detail = got.get("error") or f"status {got['status']}, wanted {check.status}"
        return CheckResult(check.name, False, detail)
    body = base64.b64decode(got.get("body", ""))
    wrong = check.expect(body) if check.expect else ""
    return CheckResult(check.name, not wrong, wrong or f"{got['status']}")


def write_report(outcomes: Sequence[Outcome], path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps([o.to_dict() for o in outcomes], indent=1))
