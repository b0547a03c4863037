"""The access matrix of a deployed stack, evaluated by IAM itself: ``slipway access --online``.

The stack is read from ``pulumi stack export`` (its roles, resources, tags, resource policies
and outputs, with the real account's ARNs), its expectations are generated as offline
(``slipway.access.expectations``, without other stacks: pass none), and each request is
asked of IAM's policy simulator with ``SimulatePrincipalPolicy``: the role's own policies and
permissions boundary as IAM holds them, the resource policy and the request's condition keys
from the matrix (IAM API Reference, "SimulatePrincipalPolicy"; the simulator does not
evaluate SCPs of other accounts, and it takes tags only as context keys).

It needs credentials allowed ``iam:SimulatePrincipalPolicy`` and ``iam:GetContextKeysFor*``
on the stack's roles; nothing is changed. Web-identity trust policies are not simulated by
IAM: those rows are reported as not evaluated (offline, tests/test_access_matrix.py does).
CI does not run it (no account); moto does not implement SimulatePrincipalPolicy, so its
test stubs the IAM client (tests/test_access_online.py).
"""

from __future__ import annotations

import json
import subprocess
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

from slipway.access.expectations import expectations
from slipway.access.matrix import NOT_EVALUATED, Case, Decision, Matrix, evaluate
from slipway.access.stack import stack_access
from slipway.testing import ProgramRun, RecordedResource

DECISIONS = {
    "allowed": "Allowed",
    "explicitDeny": "ExplicitlyDenied",
    "implicitDeny": "ImplicitlyDenied",
}


def run_from_export(export: Mapping[str, Any]) -> ProgramRun:
    """``pulumi stack export`` (deployment version 3) as a ``ProgramRun``."""
    deployment = export.get("deployment")
    if not isinstance(deployment, Mapping) or "resources" not in deployment:
        raise ValueError("stack export: no deployment.resources (not `pulumi stack export`?)")
    resources, outputs = [], {}
    for resource in deployment.get("resources") or []:
        urn = str(resource["urn"])
        if resource["type"] == "pulumi:pulumi:Stack":
            outputs = dict(resource.get("outputs") or {})
            continue
        resources.append(
            RecordedResource(
                type=str(resource["type"]),
                name=urn.rsplit("::", 1)[-1],
                urn=urn,
                parent_urn=str(resource.get("parent") or ""),
                custom=bool(resource.get("custom")),
                inputs=dict(resource.get("inputs") or {}),
                state=dict(resource.get("outputs") or {}),
                protect=bool(resource.get("protect")),
                retain_on_delete=bool(resource.get("retainOnDelete")),
                delete_before_replace=bool(resource.get("deleteBeforeReplace")),
            )
        )
    return ProgramRun(tuple(resources), outputs)


def project_of(run: ProgramRun) -> str:
    """The Pulumi project of a run, from its URNs (``urn:pulumi:<stack>::<project>::...``)."""
    for resource in run.resources:
        parts = resource.urn.split("::")
        if len(parts) > 2:
            return parts[1]
    raise ValueError("stack export: no resource URN to read the project from")


def context_entries(context: Mapping[str, Any]) -> list[dict[str, Any]]:
    """Condition keys as the simulator takes them (a list of values: ``stringList``)."""
    entries = []
    for key, value in sorted(context.items()):
        values = list(value) if isinstance(value, (list, tuple)) else [value]
        kind = "stringList" if isinstance(value, (list, tuple)) else "string"
        entries.append(
            {
                "ContextKeyName": key,
                "ContextKeyValues": [str(v) for v in values],
                "ContextKeyType": kind,
            }
        )
    return entries


class SimulatePrincipalPolicy:
    """An ``Evaluator`` asking IAM (``client``: a boto3 IAM client) one request at a time."""

    def __init__(self, client: Any, progress: Callable[[int, int], None] | None = None) -> None:
        self.client = client
        self.progress = progress

    def evaluate(self, cases: Sequence[Case]) -> list[Decision]:
        decisions = []
        for index, case in enumerate(cases, 1):
            decisions.append(self._one(case))
            if self.progress is not None:
                self.progress(index, len(cases))
        return decisions

    def request(self, case: Case) -> dict[str, Any]:
        """The SimulatePrincipalPolicy parameters of ``case``."""
        request = case.request
        params: dict[str, Any] = {
            "PolicySourceArn": request.principal,
            "ActionNames": [request.action],
            "ContextEntries": context_entries(request.context),
        }
        if request.resource != "*":
            params["ResourceArns"] = [request.resource]
        if case.resource_policy is not None:
            params["ResourcePolicy"] = json.dumps(case.resource_policy[1])
            params["ResourceOwner"] = (
                f"arn:aws:iam::{_account(request.resource, request.account)}:root"
            )
        if not params["ContextEntries"]:
            del params["ContextEntries"]
        return params

    def _one(self, case: Case) -> Decision:
        if case.documented_keys:
            return Decision(
                NOT_EVALUATED, error="IAM does not simulate web-identity trust policies"
            )
        try:
            answer = self.client.simulate_principal_policy(**self.request(case))
        except Exception as error:
            return Decision("Error", error=f"{type(error).__name__}: {error}")
        [result] = answer["EvaluationResults"]
        statements = tuple(
            f"{m.get('SourcePolicyId', m.get('SourcePolicyType', '?'))}"
            for m in result.get("MatchedStatements") or []
        )
        return Decision(DECISIONS.get(result["EvalDecision"], result["EvalDecision"]), statements)


def stack_export(stack: str, cwd: Path) -> dict[str, Any]:
    """``pulumi stack export --stack <stack>`` of the program in ``cwd``."""
    try:
        done = subprocess.run(
            ["pulumi", "stack", "export", "--stack", stack, "--cwd", str(cwd)],
            capture_output=True,
            text=True,
            check=False,
        )
    except FileNotFoundError:
        raise ValueError("pulumi: not found (install the Pulumi CLI, or pass --export)") from None
    if done.returncode != 0:
        raise ValueError(f"pulumi stack export --stack {stack}: {done.stderr.strip()}")
    return dict(json.loads(done.stdout))


def check(
    stack: str,
    cwd: Path,
    export: Path | None = None,
    region: str | None = None,
    client: Any = None,
) -> Matrix:
    """The evaluated matrix of the deployed ``stack`` (``export``: a saved export)."""
    data = json.loads(Path(export).read_text()) if export else stack_export(stack, cwd)
    run = run_from_export(data)
    access = stack_access(run, project_of(run), stack, managed_policy=lambda arn: {})
    if client is None:
        import boto3

        client = boto3.client("iam", region_name=region)
    return evaluate(access, expectations(access, run), SimulatePrincipalPolicy(client))


def _account(resource: str, default: str) -> str:
    parts = resource.split(":")
    return parts[4] if len(parts) > 4 and parts[4] else default
