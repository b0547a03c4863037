"""First `up`, in order, on an empty account, then the first release, rehearsed.

The order the generated README's first deploy follows: ``pulumi up`` (here: the sandbox
apply to moto) with no image and no model succeeds; the release (push the project's image,
export, register, approve, roll out: the first release creates the endpoint) follows; the
endpoint's inference container then serves (rehearsed: started as SageMaker starts it,
``/ping`` and ``/invocations``); a second ``up`` changes nothing and leaves the release
serving. One bake, one apply per step and one container start, shared by the tests below.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from fnmatch import fnmatchcase
from pathlib import Path
from typing import Any

import pytest
import yaml
from cookiecutter.main import cookiecutter
from evaluation_records import evaluation_report
from matrix import ROOT, STRUCTURAL_COMBOS, combo_id
from program_runs import STACKS, StackRun
from slipway.access import recorder
from slipway.access.expectations import expectations
from slipway.access.release import FIRST, Release, release_requests
from slipway.access.request import read_jsonl
from slipway.access.stack import stack_access
from slipway.deploy import StackOutputs, deploy_champion
from slipway.deploy.spec import RUNTIME_OWNED
from slipway.rehearsal import Outcome
from slipway.sandbox import ApplyReport, apply
from slipway.sandbox.engine import opened, rehearse
from slipway.testing.moto_stack import UpdateEndpointHook, push_image

COMBO = {"compute": "sagemaker", "endpoint": "realtime", "monitoring": "yes", "ci": "github"}
TAG = "first-release"


def release_log(infra: Path) -> Path:
    """The first release's AWS requests (JSON lines, AccessRequest) for the IAM matrix."""
    path = infra / ".slipway-sandbox" / "dev" / "access" / "release.jsonl"
    path.parent.mkdir(parents=True, exist_ok=True)
    return path


@dataclass(frozen=True)
class FirstUp:
    infra: Path
    first: ApplyReport
    before_release: list[Outcome]
    release: Any
    endpoint_after_release: str
    second: ApplyReport
    after_release: list[Outcome]


def _champion(root: Path) -> tuple[str, Any]:
    """A registered MLflow model with an input example and its evaluation record, made
    champion with the gate's approval (what a dev stack deploys)."""
    import mlflow
    import pandas as pd
    from mlflow.tracking import MlflowClient
    from sklearn.linear_model import LogisticRegression
    from slipway.lifecycle import REPORT_ARTIFACT, Approval, promote

    uri = f"sqlite:///{root / 'mlflow.db'}"
    mlflow.set_tracking_uri(uri)
    mlflow.create_experiment("first-up", artifact_location=(root / "artifacts").as_uri())
    mlflow.set_experiment("first-up")
    x = pd.DataFrame({"tenure": [1.0, 5.0, 20.0, 40.0], "charges": [90.0, 70.0, 40.0, 20.0]})
    with mlflow.start_run() as run:
        mlflow.sklearn.log_model(
            LogisticRegression().fit(x, [1, 1, 0, 0]),
            name="model",
            registered_model_name="churn",
            input_example=x.head(3),
            pip_requirements=["scikit-learn"],
        )
        report = evaluation_report(run.info.run_id)
        mlflow.log_dict(report.model_dump(mode="json"), REPORT_ARTIFACT)
    client = MlflowClient(tracking_uri=uri, registry_uri=uri)
    client.set_model_version_tag("churn", "1", "trained_by", "carol")
    promote(client, "churn", Approval.automated(run.info.run_id), "1")
    mlflow.set_tracking_uri(None)  # type: ignore[arg-type]
    return uri, client


@pytest.fixture(scope="module")
def first_up(tmp_path_factory: pytest.TempPathFactory) -> FirstUp:
    tmp = tmp_path_factory.mktemp("first-up")
    project = cookiecutter(str(ROOT), no_input=True, extra_context=COMBO, output_dir=str(tmp))
    infra = Path(project) / "infra"
    first = apply(infra, "dev")  # empty account: no image, no model, no endpoint
    before = rehearse(infra, "dev", first.run)
    with pytest.MonkeyPatch.context() as env:  # mlflow sets these; leave os.environ as it was
        for variable in ("MLFLOW_EXPERIMENT_ID", "MLFLOW_TRACKING_URI"):
            env.setenv(variable, "")  # records the value to restore, even "not set"
            env.delenv(variable)
        _, client = _champion(tmp)
        return _release(infra, first, before, client)


def _release(infra: Path, first: ApplyReport, before: list[Outcome], client: Any) -> FirstUp:
    outputs = StackOutputs.from_mapping(first.run.outputs)
    with opened(infra, "dev") as aws:
        UpdateEndpointHook().register(aws.events)
        # the release's AWS requests, as the deploy role makes them in release.yml (IAM matrix)
        deploy_role = str(first.run.outputs["deployRoleArn"])
        recorder.install(aws, log=release_log(infra), principal=deploy_role)
        image = push_image(aws("ecr"), outputs.repository, TAG)  # what `docker push` records
        release = deploy_champion(client, "churn", aws, outputs, image, poll_seconds=1)
        after_release = aws("sagemaker").describe_endpoint(EndpointName=outputs.endpoint)
    second = apply(infra, "dev")
    outcomes = rehearse(infra, "dev", second.run)  # reads what serves after the second up
    return FirstUp(
        infra, first, before, release, after_release["EndpointConfigName"], second, outcomes
    )


def test_the_first_up_on_an_empty_account_succeeds(first_up: FirstUp) -> None:
    assert first_up.first.failed_checks == []
    assert all(e.action == "created" for e in first_up.first.entries)
    # nothing serves yet, and the rehearsal says so instead of skipping silently
    (outcome,) = first_up.before_release
    assert not outcome.rehearsed
    assert outcome.reason == "the endpoint does not exist yet: the first release creates it"


def test_the_first_up_without_an_image_declares_no_pipeline(first_up: FirstUp) -> None:
    """Bootstrap: before the first push (``slipway:modelImageTag`` unset, as generated) the
    stack declares the image repository and no pipeline, schedule or retrain rule
    (docs/engines.md; tests/engines/test_sagemaker_pipelines.py runs them once it is set)."""
    stack_file = yaml.safe_load((first_up.infra / "Pulumi.dev.yaml").read_text())
    assert "slipway:modelImageTag" not in stack_file["config"]
    run = first_up.first.run
    counts = run.type_counts()
    engine_types = {
        "aws:sagemaker/pipeline:Pipeline",
        "aws:cloudwatch/eventRule:EventRule",
        "aws:cloudwatch/eventTarget:EventTarget",
    }
    assert engine_types.isdisjoint(counts)
    assert counts["aws:ecr/repository:Repository"] == 1  # where the first image goes
    assert not {"trainingPipelineName", "batchPipelineName"} & set(run.outputs)


def test_the_first_release_creates_the_endpoint_and_it_serves(first_up: FirstUp) -> None:
    assert first_up.release.rollout.created
    assert first_up.endpoint_after_release == first_up.release.rollout.new_config
    (outcome,) = first_up.after_release
    assert outcome.rehearsed and outcome.engine == "sagemaker-endpoint"
    assert [(c.name, c.ok) for c in outcome.checks] == [
        ("GET /ping", True),
        ("POST /invocations", True),  # the MLflow model's own prediction of its example
    ], outcome.output
    assert any("image" in d and "not pulled" in d for d in outcome.deviations)


def test_a_second_up_changes_nothing_and_keeps_the_release(first_up: FirstUp) -> None:
    second = first_up.second
    assert not second.changed, [e.key for e in second.entries if e.action != "unchanged"]
    assert second.failed_checks == []
    # pulumi up does not know the endpoint: it cannot roll the release back; the rehearsal,
    # after the second up, started what the endpoint serves: the release's configuration
    (outcome,) = first_up.after_release
    assert f"config {first_up.release.rollout.new_config}," in outcome.source


def test_the_rehearsed_workloads_aws_requests_are_kept(first_up: FirstUp) -> None:
    (outcome,) = first_up.after_release
    assert outcome.access_log is not None and outcome.access_log.is_file()
    platform = outcome.access_log.with_name(
        outcome.access_log.name.replace(".jsonl", ".platform.jsonl")
    )
    fetched = list(read_jsonl(platform))  # SageMaker fetching the model data for the role
    model_data = first_up.release.model.uri.removeprefix("s3://")
    assert {(r.action, r.resource) for r in fetched} == {
        ("s3:GetObject", f"arn:aws:s3:::{model_data}")
    }
    inference_role = first_up.first.run.outputs["inferenceRoleArn"]
    assert {r.principal for r in fetched} == {inference_role}
    report = json.loads(
        (first_up.infra / ".slipway-sandbox/dev/rehearsal/rehearsal.json").read_text()
    )
    assert [o["name"] for o in report] == [outcome.name]


def test_the_release_requests_of_the_deploy_role_are_kept(first_up: FirstUp) -> None:
    requests = list(read_jsonl(release_log(first_up.infra)))
    outputs = first_up.first.run.outputs
    assert {r.principal for r in requests} == {outputs["deployRoleArn"]}
    endpoint = f"arn:aws:sagemaker:us-east-1:123456789012:endpoint/{outputs['endpointName']}"
    made = {(r.action, r.resource) for r in requests}
    assert ("sagemaker:CreateEndpoint", endpoint) in made
    assert any(a == "application-autoscaling:RegisterScalableTarget" for a, _ in made)


def test_the_access_matrix_expects_exactly_what_the_release_makes(first_up: FirstUp) -> None:
    """The deploy role's must-allow rows of the IAM matrix name every request the release
    made (so the engine checks each), and the release made every first-release call of
    slipway.access.release's table (so the table is not stale). A recorded resource may
    end in ``/*``: a package's version is not known before CreateModelPackage."""
    run = first_up.first.run
    stack = stack_access(run, "churn-model", "dev")
    made = {(r.action, r.resource) for r in read_jsonl(release_log(first_up.infra))}
    allowed = {
        (e.request.action, e.request.resource)
        for e in expectations(stack, run)
        if e.role == "deploy" and e.allow
    }

    def matches(resource: str, recorded: str) -> bool:
        return resource == recorded or (recorded.endswith("/*") and fnmatchcase(resource, recorded))

    def unmatched(recorded: set[tuple[str, str]], table: set[tuple[str, str]]) -> list[Any]:
        return sorted(
            (a, r) for a, r in recorded if not any(a == ta and matches(tr, r) for ta, tr in table)
        )

    assert unmatched(made, allowed) == []
    first = {
        (r.action, r.resource)
        for _, r in release_requests(stack, Release("churn", "1"))
        if r.origin == f"release:{FIRST}"
    }
    assert [
        (a, r) for a, r in sorted(first) if not any(a == ma and matches(r, mr) for ma, mr in made)
    ] == []


def test_the_readme_first_deploy_follows_the_rehearsed_order(first_up: FirstUp) -> None:
    readme = (first_up.infra.parent / "README.md").read_text()
    block = readme[readme.index("first deploy is:") :]
    steps = ["make up", "docker push", " deploy --stack dev", "make preview"]
    positions = [block.index(step) for step in steps]
    assert positions == sorted(positions), dict(zip(steps, positions, strict=True))


@pytest.mark.parametrize(
    "combo",
    [c for c in STRUCTURAL_COMBOS if c["compute"] == "sagemaker"],
    ids=lambda c: "-".join(c[k] for k in ("endpoint", "monitoring", "ci")),
)
def test_no_program_declares_what_the_deploy_runtime_owns(
    structural_runs: dict[tuple[str, str], StackRun], combo: dict[str, str]
) -> None:
    """One owner per resource: `pulumi up`/`up --refresh` never touches the endpoint."""
    for stack in STACKS:
        declared = set(structural_runs[combo_id(combo), stack].run.type_counts())
        assert declared.isdisjoint(RUNTIME_OWNED), (stack, declared & set(RUNTIME_OWNED))
