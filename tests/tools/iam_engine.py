"""The offline evaluator of slipway.access: npm @cloud-copilot/iam-simulate (AGPL-3.0), run by
Node.js through tests/tools/iam_simulate.cjs, one process per batch. Test time only: the
package never imports or ships it (docs/security.md)."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from slipway.access.matrix import Case, Decision

ROOT = Path(__file__).resolve().parents[2]
RUNNER = ROOT / "tests" / "tools" / "iam_simulate.cjs"
MODULE = ROOT / "build" / "iam-simulate" / "node_modules" / "@cloud-copilot" / "iam-simulate"


def available() -> bool:
    return shutil.which("node") is not None and MODULE.is_dir()


class IamSimulate:
    """``evaluate(cases)``: one Node process for the whole batch. ``plain``: without the
    runner's two shortcuts (one collator, each policy validated once), as the package runs
    by itself; ``shortcuts`` says which the last batch used."""

    def __init__(self, plain: bool = False) -> None:
        self.plain = plain
        self.requests = 0  # asked
        self.evaluated = 0  # distinct, sent to the engine
        self.shortcuts: dict[str, bool] = {}

    def evaluate(self, cases: Sequence[Case]) -> list[Decision]:
        policies: dict[str, Any] = {}
        refs: dict[tuple[str, int], str] = {}

        def ref(name: str, document: dict[str, Any]) -> str:
            if (name, id(document)) not in refs:
                text = json.dumps(document, sort_keys=True)
                key = f"{name}@{hashlib.sha256(text.encode()).hexdigest()[:8]}"
                policies[key] = document
                refs[name, id(document)] = key
            return refs[name, id(document)]

        batch: list[dict[str, Any]] = []
        slots: dict[str, int] = {}  # identical cases (policies and request) are sent once
        order = []
        for case in cases:
            request = case.request
            entry = {
                "principal": request.principal,
                "action": request.action,
                "resource": request.resource,
                "accountId": _resource_account(request.resource, request.account),
                "context": {
                    k: list(v) if isinstance(v, tuple) else v for k, v in request.context.items()
                },
                "identityPolicies": [ref(n, d) for n, d in case.identity],
                "permissionBoundaries": [ref(n, d) for n, d in case.boundary],
                "resourcePolicy": ref(*case.resource_policy) if case.resource_policy else None,
                "documentedKeys": case.documented_keys,
            }
            fingerprint = json.dumps(entry, sort_keys=True)
            if fingerprint not in slots:
                slots[fingerprint] = len(batch)
                batch.append({"id": len(batch), **entry})
            order.append(slots[fingerprint])
        run = subprocess.run(
            ["node", str(RUNNER)],
            input=json.dumps({"policies": policies, "cases": batch}),
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
            env={**os.environ, "IAM_SIMULATE_PLAIN": "1" if self.plain else "0"},
        )
        if run.returncode != 0:
            raise RuntimeError(f"iam-simulate: exit {run.returncode}: {run.stderr.strip()}")
        self.shortcuts = json.loads(run.stderr.strip().splitlines()[-1])["shortcuts"]
        self.requests += len(cases)
        self.evaluated += len(batch)
        results = {r["id"]: _decision(r) for r in map(json.loads, run.stdout.splitlines())}
        return [results[slot] for slot in order]


def _resource_account(resource: str, default: str) -> str:
    parts = resource.split(":")
    return parts[4] if len(parts) > 4 and parts[4] else default


def _decision(result: dict[str, Any]) -> Decision:
    decisive = result.get("grants") if result["decision"] == "Allowed" else result.get("denials")
    labels = []
    for reason in decisive or []:
        if "statementIndex" not in reason:
            continue
        policy = reason.get("policyIdentifier") or reason["policyType"]
        policy = policy.split("@", 1)[0]
        labels.append(f"{policy}#{reason.get('statementId') or reason['statementIndex']}")
    return Decision(result["decision"], tuple(labels), result.get("errors", ""))
