"""The access matrix (issue 13): every role of every stack of every structural option
combination, evaluated by a real IAM engine (npm @cloud-copilot/iam-simulate, AGPL-3.0, test
time only) for what it must be allowed and what it must be denied.

``KNOWN`` lists today's findings, each a mismatch the engine reports; the comparison is
strict, so a new mismatch fails and so does a finding that went away without its entry
being removed. Each group is a finding of issue 13 to fix (docs/security.md).
"""

from __future__ import annotations

import os
from collections.abc import Callable

import pytest
from access_matrix import Evaluated, evaluate_all, finding
from matrix import ROOT, STRUCTURAL_COMBOS, combo_id
from program_runs import StackRun, stack_cases
from slipway.access.expectations import MLFLOW_CALLS
from slipway.access.report import render, tsv
from tools import iam_engine

pytestmark = pytest.mark.skipif(
    not iam_engine.available(),
    reason="needs Node.js and `make iam-simulate` (npm @cloud-copilot/iam-simulate)",
)
REPORT = ROOT / "build" / "access-matrix"
Combo = dict[str, str]
_SAGEMAKER_UP = (
    "CreateModel",
    "DeleteModel",
    "CreateEndpointConfig",
    "DeleteEndpointConfig",
    "CreateEndpoint",
    "UpdateEndpoint",
    "DeleteEndpoint",
)
_MONITOR_UP = (
    "CreateDataQualityJobDefinition",
    "DeleteDataQualityJobDefinition",
    "CreateMonitoringSchedule",
    "UpdateMonitoringSchedule",
    "DeleteMonitoringSchedule",
)
_TRACKING_UP = (
    "CreateMlflowTrackingServer",
    "UpdateMlflowTrackingServer",
    "DeleteMlflowTrackingServer",
)
_MLFLOW_CALLS = MLFLOW_CALLS["deploy"]


def _sagemaker(combo: Combo, stack: str) -> bool:
    return combo["compute"] == "sagemaker"


def _github(combo: Combo, stack: str) -> bool:
    return combo["ci"] == "github"


# finding -> where it shows (combo, stack); every role not deploy/monitor is clean today.
def _mlflow_app_gap(where: str) -> Callable[[Combo, str], bool]:
    """Where `sagemaker:*` on `mlflow-app/*` reaches another stack's or project's MLflow App."""
    return lambda c, s: (
        _github(c, s)
        and _sagemaker(c, s)
        and (s != "dev" if where == "other stack" else s == "dev")
    )


KNOWN: dict[str, Callable[[Combo, str], bool]] = {
    # ProjectSageMaker: `arn:...:*/<prefix>-*` puts a wildcard in the resource-type part of the
    # ARN, which IAM does not match ("Incorrect wildcard usage", IAM User Guide reference-arns):
    # the deploy role cannot `pulumi up` any SageMaker resource it names.
    **{
        f"deploy must allow sagemaker:{a} [deploy]": _github
        for a in ("CreateModelPackageGroup", "DeleteModelPackageGroup", "AddTags")
    },
    **{
        f"deploy must allow sagemaker:{a} [deploy]": lambda c, s: _github(c, s) and _sagemaker(c, s)
        for a in _SAGEMAKER_UP
    },
    **{
        f"deploy must allow sagemaker:{a} [deploy]": lambda c, s: (
            _github(c, s)
            and _sagemaker(c, s)
            and c["endpoint"] == "realtime"
            and c["monitoring"] == "yes"
        )
        for a in _MONITOR_UP
    },
    **{
        f"deploy must allow sagemaker:{a} [deploy]": lambda c, s: (
            _github(c, s) and _sagemaker(c, s) and s != "dev"
        )
        for a in _TRACKING_UP
    },
    # No sagemaker-mlflow actions on the deploy role: `pipeline run` gets 403 on the tracking
    # server of staging and prod.
    **{
        f"deploy must allow sagemaker-mlflow:{a} [workload]": lambda c, s: (
            _github(c, s) and _sagemaker(c, s) and s != "dev"
        )
        for a in _MLFLOW_CALLS
    },
    # The monitor role lacks sagemaker:CallMlflowAppApi (dev's MLflow App).
    "monitor must allow sagemaker:CallMlflowAppApi [workload]": lambda c, s: (
        _github(c, s) and _sagemaker(c, s) and c["monitoring"] == "yes" and s == "dev"
    ),
    # `sagemaker:*` on `mlflow-app/*`: every stack's (and project's) MLflow App.
    **{
        f"deploy must deny sagemaker:{a} [deny:{where}]": _mlflow_app_gap(where)
        for a in ("DeleteMlflowApp", "CallMlflowAppApi")
        for where in ("other stack", "other project")
    },
    # ProjectKeys: kms:* on key/* conditioned on the project tag only, and the default key
    # policy delegates to IAM: a dev deploy role may delete prod's key.
    **{
        f"deploy must deny kms:{a} [deny:other stack]": _github
        for a in ("ScheduleKeyDeletion", "PutKeyPolicy", "Decrypt")
    },
    # ProjectRoles on role/<prefix>-* includes the deploy role itself; no boundary.
    "deploy must deny iam:PutRolePolicy [deny:own role]": _github,
    "deploy must deny iam:UpdateAssumeRolePolicy [deny:own role]": _github,
    "deploy must deny iam:CreateRole [deny:role without boundary]": _github,
    # GithubOidcProvider: every stack's deploy role manages the account's shared provider.
    "deploy must deny iam:DeleteOpenIDConnectProvider [deny:shared GitHub OIDC provider]": _github,
    "deploy must deny iam:AddClientIDToOpenIDConnectProvider [deny:shared GitHub OIDC provider]": (
        _github
    ),
}
# Roles no workload uses (yet), so nothing must be allowed: the unused-grant report lists
# every statement of theirs (docs/security.md).
NOTHING_TO_ALLOW: dict[str, Callable[[str], bool]] = {
    # No program or workflow starts a SageMaker training job: the pipeline trains in the job.
    "train": lambda combo: True,
    # `pulumi preview` of a SageMaker program makes no AWS call the provider does not answer
    # itself (getRegion, getPartition, getPrebuiltEcrImage; GetCallerIdentity needs none).
    "preview": lambda combo: combo.startswith("sagemaker"),
    # An EKS stack still declares the SageMaker execution and inference roles; nothing runs
    # with them there (tracking is the in-cluster MLflow, serving the cluster's Deployment).
    "exec": lambda combo: combo.startswith("eks"),
    "infer": lambda combo: combo.startswith("eks"),
}
CASES = stack_cases()  # every combo's dev, staging, prod; and two `public` stacks


@pytest.fixture(scope="module")
def evaluated(structural_runs: dict[tuple[str, str], StackRun]) -> Evaluated:
    return evaluate_all({key: stack.run for key, stack in structural_runs.items()})


@pytest.mark.parametrize(("combo", "stack"), CASES, ids=[f"{combo_id(c)}-{s}" for c, s in CASES])
def test_every_role_gets_exactly_what_it_must(
    evaluated: Evaluated, combo: Combo, stack: str
) -> None:
    matrix = evaluated.matrices[combo_id(combo), stack]
    REPORT.mkdir(parents=True, exist_ok=True)
    (REPORT / f"{combo_id(combo)}-{stack}.tsv").write_text(tsv(matrix))
    found = sorted({finding(row) for row in matrix.mismatches()})
    expected = sorted(label for label, where in KNOWN.items() if where(combo, stack))
    assert found == expected
    errors = [row for row in matrix.rows if row.decision.decision == "Error"]
    assert errors == []


def test_the_matrix_covers_every_role_the_stacks_declare(evaluated: Evaluated) -> None:
    for key, matrix in evaluated.matrices.items():
        assert matrix.roles() == sorted(matrix.stack.roles), key
        for role in matrix.stack.roles:
            allowed = [r for r in matrix.rows if r.expectation.role == role and r.expectation.allow]
            denied = [
                r for r in matrix.rows if r.expectation.role == role and not r.expectation.allow
            ]
            assert denied, (key, role)
            if not allowed:
                assert role in NOTHING_TO_ALLOW, (key, role)
                assert NOTHING_TO_ALLOW[role](key[0]), (key, role)


def test_print_one_stack(evaluated: Evaluated, capsys: pytest.CaptureFixture[str]) -> None:
    matrix = evaluated.matrices[combo_id(STRUCTURAL_COMBOS[0]), "dev"]
    text = render(matrix, only_mismatches=os.environ.get("SLIPWAY_ACCESS_ALL") is None)
    with capsys.disabled():
        print(text)
    roles, requests = matrix.size()
    assert f"{roles} roles x {requests} requests" in text
    assert "grants no expected request uses" in text
