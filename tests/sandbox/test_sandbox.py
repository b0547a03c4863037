"""slipway sandbox: baked option combinations applied to moto on 127.0.0.1, together every
resource declaration of every structural combination."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest
from cookiecutter.main import cookiecutter
from matrix import ROOT, STRUCTURAL_COMBOS, combo_id
from program_runs import StackRun
from slipway.cli import app
from slipway.sandbox import SandboxError, apply, destroy
from slipway.sandbox.appliers import APPLIERS
from slipway.sandbox.contents import emulator_contents
from slipway.sandbox.server import AwsClients, EmulatedAws, aws_managed_policy_inputs
from slipway.sandbox.state import SandboxState, state_dir
from stack_config import configure_eks, configure_image
from typer.testing import CliRunner

MOCK_ONLY = {"aws:sagemaker/mlflowApp:MlflowApp"}
# The combinations applied to moto. Their dev stacks declare every resource (type, name and
# inputs) that the dev stack of any structural combination declares (checked below against
# the session's program runs): every declaration is applied, read back and destroyed at least
# once. The other combinations' stacks are subsets (monitoring or CI off) of these.
APPLIED = [
    {"compute": "sagemaker", "endpoint": "realtime", "monitoring": "yes", "ci": "github"},
    {"compute": "sagemaker", "endpoint": "serverless", "monitoring": "yes", "ci": "none"},
    {"compute": "eks", "endpoint": "realtime", "monitoring": "yes", "ci": "github"},
    {"compute": "eks", "endpoint": "realtime", "monitoring": "yes", "ci": "none"},
    # the training starters' binding and admission policy differ with the drift CronJob
    {"compute": "eks", "endpoint": "realtime", "monitoring": "no", "ci": "github"},
]
APPLIED_COMBOS = [
    c for c in STRUCTURAL_COMBOS if any(all(c[k] == v for k, v in a.items()) for a in APPLIED)
]


def declarations(run: StackRun) -> set[tuple[str, str, str]]:
    return {
        (r.type, r.name, json.dumps(r.inputs, sort_keys=True, default=repr))
        for r in run.run.cloud_resources
    }


def test_the_applied_combinations_declare_what_every_combination_declares(
    structural_runs: dict[tuple[str, str], StackRun],
) -> None:
    assert len(APPLIED_COMBOS) == len(APPLIED)
    applied = set().union(
        *(declarations(structural_runs[combo_id(c), "dev"]) for c in APPLIED_COMBOS)
    )
    for combo in STRUCTURAL_COMBOS:
        missing = declarations(structural_runs[combo_id(combo), "dev"]) - applied
        assert not missing, f"{combo_id(combo)}: never applied: {sorted(m[:2] for m in missing)}"


def _bake(tmp: Path, combo: dict[str, str]) -> Path:
    """As generated, with the EKS stacks' API access (and image) set before a real up."""
    project = cookiecutter(str(ROOT), no_input=True, extra_context=combo, output_dir=str(tmp))
    return configure_eks(Path(project) / "infra")


@pytest.mark.parametrize("combo", APPLIED_COMBOS, ids=combo_id)
def test_apply_then_destroy(
    tmp_path: Path, combo: dict[str, str], structural_runs: dict[tuple[str, str], StackRun]
) -> None:
    # configured as the session's shared run is (tests/program_runs.py): the first image
    # pushed on both flavors, so the engine resources (pipelines, schedules, Jobs) are applied
    infra = configure_image(_bake(tmp_path, combo))
    report = apply(infra, "dev")

    # inventory == the plain mocks' resource list (the session's shared run of this
    # combination, tests/program_runs.py); only known gaps are mock-only
    run = structural_runs[combo_id(combo), "dev"].run
    declared = {(r.type, r.name) for r in run.cloud_resources}
    assert {(e.type, e.name) for e in report.entries} == declared
    mock_only = {e.type for e in report.entries if not e.in_moto}
    assert mock_only.isdisjoint(APPLIERS), "a type moto can take stayed mock-only"
    if combo["compute"] == "sagemaker":
        assert mock_only <= MOCK_ONLY
    assert all(e.action == "created" for e in report.entries)

    # references are moto's: the bucket encryption names the key moto created
    key = next(e for e in report.entries if e.type == "aws:kms/key:Key")
    assert key.state["arn"].endswith(key.id)
    assert any(key.id in item for item in report.contents)

    # read-backs: encryption, public access block, trust policies
    props = {c.prop.split("[")[0] for c in report.checks}
    assert {"sseAlgorithm", "kmsMasterKeyId", "blockPublicAcls", "assumeRolePolicy"} <= props
    # with CI, every role of the stack carries its permissions boundary, read back from moto
    assert ("permissionsBoundary" in props) == (combo["ci"] == "github")
    assert report.checks and report.failed_checks == []

    gone = destroy(infra, "dev")
    assert len(gone.removed) == len(report.entries)
    with EmulatedAws("us-east-1") as emulator:  # the saved sandbox, reopened independently
        emulator.load(SandboxState.load(state_dir(infra, "dev")).snapshot_file)
        assert emulator_contents(emulator.aws) == []


@pytest.fixture
def sagemaker_infra(tmp_path: Path) -> Path:
    return _bake(
        tmp_path,
        {"compute": "sagemaker", "endpoint": "realtime", "monitoring": "yes", "ci": "github"},
    )


def test_second_apply_is_a_no_op_and_a_change_replaces_only_it(sagemaker_infra: Path) -> None:
    first = apply(sagemaker_infra, "dev")
    second = apply(sagemaker_infra, "dev")
    assert not second.changed
    assert sorted((e.key, e.id) for e in second.entries) == sorted(
        (e.key, e.id) for e in first.entries
    )
    assert sorted(second.contents) == sorted(first.contents)

    stack = sagemaker_infra / "Pulumi.dev.yaml"
    text = stack.read_text()
    email = re.search(r"(?m)^  slipway:alarmEmail: .*$", text)
    assert email is not None
    stack.write_text(text.replace(email.group(0), "  slipway:alarmEmail: oncall@example.com"))
    third = apply(sagemaker_infra, "dev")
    changed = {e.name for e in third.entries if e.action != "unchanged"}
    assert changed == {"churn-model-dev-alarms-email"}


def test_moto_rejection_names_resource_and_property(sagemaker_infra: Path) -> None:
    main = sagemaker_infra / "__main__.py"
    # a bucket name AWS refuses (under 3 characters) fails at that bucket, naming the property
    program = main.read_text()
    assert "platform = compose(" in program
    main.write_text(
        program.replace(
            "platform = compose(",
            "import pulumi_aws\npulumi_aws.s3.Bucket('bad', bucket='ab')\nplatform = compose(",
            1,
        )
    )
    with pytest.raises(SandboxError, match=r"aws:s3/bucket:Bucket bad: bucket: InvalidBucketName"):
        apply(sagemaker_infra, "dev")
    assert not (state_dir(sagemaker_infra, "dev") / "state.json").exists()  # nothing half-written


def test_refuses_non_loopback_endpoint() -> None:
    with pytest.raises(
        SandboxError, match=r"endpoint: 'https://s3\.amazonaws\.com' is not a loopback"
    ):
        AwsClients("https://s3.amazonaws.com", "us-east-1")


def test_aws_managed_policies_are_in_the_sandbox_partition_only() -> None:
    """AWS's managed policies are attachable in the sandbox's partition; the IAM backends of
    the other five (moto makes them on every request, looking up the caller's account) hold
    none: loaded there they cost ~0.3 s a session and 6x the policies in every snapshot."""
    from moto.core import DEFAULT_ACCOUNT_ID
    from moto.iam.aws_managed_policies import aws_managed_policies_data
    from moto.iam.models import iam_backends

    node = "arn:aws:iam::aws:policy/AmazonEKSWorkerNodePolicy"
    with EmulatedAws("us-east-1") as emulator:
        iam = emulator.aws("iam")
        iam.create_role(RoleName="node", AssumeRolePolicyDocument="{}")
        iam.attach_role_policy(RoleName="node", PolicyArn=node)
        attached = iam.list_attached_role_policies(RoleName="node")["AttachedPolicies"]
        assert [p["PolicyArn"] for p in attached] == [node]
        held = {p: len(b.aws_managed_policies) for p, b in iam_backends[DEFAULT_ACCOUNT_ID].items()}
    assert held.pop("aws") == len(json.loads(aws_managed_policies_data))
    assert len(held) == 5 and set(held.values()) == {0}, held


def test_the_sandbox_builds_aws_managed_policies_as_moto_does() -> None:
    from moto.iam.aws_managed_policies import aws_managed_policies_data
    from moto.iam.models import AWSManagedPolicy

    def fields(policy: AWSManagedPolicy) -> dict[str, object]:
        """All but the random id; the versions' own fields."""
        return {
            **{k: v for k, v in vars(policy).items() if k != "id"},
            "versions": [vars(version) for version in policy.versions],
        }

    data = json.loads(aws_managed_policies_data)
    ours = {
        name: AWSManagedPolicy(name, "1", "aws", **i)  # type: ignore[abstract]
        for name, i in aws_managed_policy_inputs()
    }
    assert ours.keys() == data.keys()
    for name, policy in ours.items():
        assert fields(policy) == fields(AWSManagedPolicy.from_data(name, "1", "aws", data[name]))


def test_sessions_share_the_parsed_models_but_not_their_events() -> None:
    first, second = (AwsClients("http://127.0.0.1:1", "us-east-1") for _ in range(2))
    model = first("s3").meta.service_model
    assert second("s3").meta.service_model._service_description is model._service_description
    loader = first._session._loader
    assert loader.search_paths.count(loader.search_paths[-1]) == 1  # not one more per session
    seen: list[str] = []
    first.events.register("probe", lambda **kw: seen.append("first"))
    second.fresh("s3").meta.events.emit("probe")
    first.fresh("s3").meta.events.emit("probe")
    assert seen == ["first"]


def test_sandboxes_share_moto_s_apps_but_not_its_state() -> None:
    apps = []
    for _ in range(2):
        with EmulatedAws("us-east-1") as emulator:
            s3 = emulator.aws("s3")
            assert s3.list_buckets()["Buckets"] == []
            s3.create_bucket(Bucket="left-behind")
            apps.append(emulator._server.app.app_instances["s3"])
    assert apps[0] is apps[1], "each sandbox built moto's S3 app (its URL rules) again"


def test_cli_apply_twice_then_destroy(sagemaker_infra: Path) -> None:
    runner = CliRunner()
    first = runner.invoke(app, ["sandbox", str(sagemaker_infra), "--stack", "dev"])
    assert first.exit_code == 0, first.output
    assert "mock-only" in first.output and "aws:sagemaker/mlflowApp:MlflowApp" in first.output
    # then the rehearsal table: the endpoint is declared but created by the first release
    assert "workloads rehearsed" in first.output and "NOT" in first.output
    assert "0 of 1 workloads rehearsed, 0 failed" in first.output
    again = runner.invoke(app, ["sandbox", str(sagemaker_infra), "--stack", "dev"])
    assert again.exit_code == 0 and "no changes" in again.output
    gone = runner.invoke(app, ["sandbox", "destroy", str(sagemaker_infra), "--stack", "dev"])
    assert gone.exit_code == 0 and "moto holds nothing" in gone.output
    state = json.loads((state_dir(sagemaker_infra, "dev") / "state.json").read_text())
    assert state == {"resources": []}
    bad = runner.invoke(app, ["sandbox", str(sagemaker_infra), "--stack", "nope"])
    assert bad.exit_code == 1 and "--stack:" in bad.output


@pytest.mark.parametrize(("flag", "loaded"), [("--rehearse", True), ("--no-rehearse", False)])
def test_a_rehearsing_apply_loads_the_model_format_before_the_program(
    flag: str, loaded: bool
) -> None:
    """skops.io is imported before the stack's program when a rehearsal (which loads the
    champion) follows: imported after one, its ufunc lookup loads every lazily registered
    pulumi_aws module (slipway.lifecycle.formats; docs/testing.md). A fresh interpreter:
    this one has skops.io already."""
    script = (
        "import sys\n"
        "import slipway.sandbox\n"
        "def apply(*args, **kwargs):\n"
        "    print('skops.io before the program:', 'skops.io' in sys.modules)\n"
        "    raise SystemExit(0)\n"
        "slipway.sandbox.apply = apply\n"
        "from slipway.cli import app\n"
        f"app(['sandbox', 'infra', '--stack', 'dev', '{flag}'])\n"
    )
    run = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=False
    )
    assert f"skops.io before the program: {loaded}" in run.stdout, run.stdout + run.stderr
