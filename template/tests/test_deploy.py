"""``deploy`` and ``deploy-rollback`` end to end, offline, against moto in-process.

The stack (bucket, KMS key, package group, role, image repository with a pushed image,
the {{ cookiecutter.endpoint }} endpoint's serving spec, alarms; no endpoint: the first
release creates it) is emulated by ``slipway.testing.moto_stack.create_stack`` in the
project's region. The stack files the command reads hold only that region (``deploy``
reads nothing else there; tests/test_cli.py checks it finds it in the project's own), so
this module reads none of the project's files and its outcome is the same in every bake
with the same text (the template's option matrix runs it once per distinct text).
moto has no SageMaker UpdateEndpoint: a botocore ``before-call`` hook (not Stubber, not a
moto server) registered on boto3's default session answers it for the clients the command
builds, after botocore validated the request, and switches the endpoint in moto's backend.
The champion is the session's.
"""

from __future__ import annotations

import io
import json
import tarfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
import yaml
from mlflow.tracking import MlflowClient
from moto import mock_aws
from slipway.lifecycle import Approval, promote, register_challenger
from slipway.testing.moto_stack import IMAGE_TAG, Clients, create_stack, image_uri, stack_alarms
from typer.testing import CliRunner, Result

from {{ cookiecutter.package_name }}.cli import app
from {{ cookiecutter.package_name }}.pipeline import Outcome

REGION = "{{ cookiecutter.aws_region }}"
CARD_SECTIONS = {
    "model_overview",
    "intended_uses",
    "training_details",
    "evaluation_details",
    "additional_information",
}
SERVERLESS = {{ "True" if cookiecutter.endpoint == "serverless" else "False" }}
OUTPUTS = "build/outputs.json"


@pytest.fixture(scope="session")
def boto_session() -> boto3.Session:
    """One boto3 session for the whole run: service models are loaded once, not per test.

    Created after moto's import (module top), which installs the handler mock_aws uses.
    """
    return boto3.Session()


@pytest.fixture
def aws(
    in_project: Path, boto_session: boto3.Session, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Clients]:
    """moto for every boto3 client; UpdateEndpoint answered for the default session's."""
    for key in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"):
        monkeypatch.setenv(key, "testing")
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    (in_project / "infra").mkdir(exist_ok=True)
    for stack in ("dev", "staging"):
        stack_file = in_project / "infra" / f"Pulumi.{stack}.yaml"
        stack_file.write_text(yaml.safe_dump({"config": {"aws:region": REGION}}))
    with mock_aws():  # which sets boto3.DEFAULT_SESSION aside until it ends
        boto3.DEFAULT_SESSION = boto_session  # the session `boto3.client` (the command) uses
        clients = Clients(REGION, boto_session)
        yield clients
        clients.close()


@pytest.fixture
def aws_calls(aws: Clients, boto_session: boto3.Session) -> Iterator[list[str]]:
    """Names of every AWS API call made through the session during the test."""
    calls: list[str] = []

    def record(model: Any, **_: Any) -> None:
        calls.append(model.name)

    boto_session.events.register("before-call", record)
    yield calls
    boto_session.events.unregister("before-call", record)


def _write_outputs(root: Path, outputs: dict[str, str], preset: str = "dev") -> None:
    """As ``pulumi stack output --json --show-secrets > build/outputs.json`` would."""
    (root / "build").mkdir(exist_ok=True)
    (root / OUTPUTS).write_text(json.dumps({**outputs, "preset": preset}))


@pytest.fixture
def stack(aws: Clients, in_project: Path) -> dict[str, str]:
    outputs = create_stack(aws, "{{ cookiecutter.project_slug }}-dev", serverless=SERVERLESS)
    _write_outputs(in_project, outputs)
    return outputs


def cli(*args: str) -> Result:
    return CliRunner().invoke(app, list(args))


def deploy(*args: str) -> Result:
    return cli("deploy", "--stack", "dev", "--outputs", OUTPUTS, *args)


def _endpoint_config(aws: Clients, stack: dict[str, str]) -> str:
    endpoints = [e["EndpointName"] for e in aws("sagemaker").list_endpoints()["Endpoints"]]
    if stack["endpointName"] not in endpoints:
        return "(none)"
    endpoint = aws("sagemaker").describe_endpoint(EndpointName=stack["endpointName"])
    return str(endpoint["EndpointConfigName"])


def _packages(aws: Clients, stack: dict[str, str]) -> list[dict[str, Any]]:
    group = stack["modelPackageGroupName"]
    listed = aws("sagemaker").list_model_packages(ModelPackageGroupName=group)
    return [
        aws("sagemaker").describe_model_package(ModelPackageName=p["ModelPackageArn"])
        for p in listed["ModelPackageSummaryList"]
    ]


def _assert_nothing_written(aws: Clients, stack: dict[str, str]) -> None:
    assert aws("s3").list_objects_v2(Bucket=stack["bucketName"])["KeyCount"] == 0
    assert _packages(aws, stack) == []
    assert aws.hook.requests == []
    assert _endpoint_config(aws, stack) == "(none)"


def test_deploy_ships_the_champion_and_deploy_rollback_returns(
    aws: Clients, stack: dict[str, str], outcome: Outcome
) -> None:
    missing = deploy()
    assert missing.exit_code == 2
    assert missing.output.strip().startswith("error: --image-tag: name the tag of the image")

    first = deploy("--image-tag", IMAGE_TAG)
    assert first.exit_code == 0, first.output
    assert "(created)" in first.output and "first release" in first.output

    # model.tar.gz of the champion, MLflow model at the root, under the stack's KMS key
    key = f"models/{outcome.model_name}/v{outcome.version}/model.tar.gz"
    obj = aws("s3").get_object(Bucket=stack["bucketName"], Key=key)
    assert (obj["ServerSideEncryption"], obj["SSEKMSKeyId"]) == ("aws:kms", stack["kmsKeyArn"])
    with tarfile.open(fileobj=io.BytesIO(obj["Body"].read()), mode="r:gz") as tar:
        assert "MLmodel" in tar.getnames()

    # approved package: the approval on record (the gate's, allowed in dev); the project's
    # image from the stack repository; the SageMaker model card of that version
    (package,) = _packages(aws, stack)
    assert package["ModelApprovalStatus"] == "Approved"
    meta = package["CustomerMetadataProperties"]
    assert (meta["approved-by"], meta["approval-kind"]) == ("quality-gate", "automated")
    assert meta["approved-evaluation"] == outcome.report.run_id
    card_name = f"{stack['modelPackageGroupName']}-v{outcome.version}"
    card = aws("sagemaker").describe_model_card(ModelCardName=card_name)
    assert card["ModelCardStatus"] == "PendingReview"
    assert (
        json.loads(card["Content"])["additional_information"]["custom_details"]["model_package_arn"]
        == package["ModelPackageArn"]
    )
    container = package["InferenceSpecification"]["Containers"][0]
    assert container["Image"] == image_uri(REGION, "{{ cookiecutter.project_slug }}-dev")
    assert container["ModelDataUrl"] == f"s3://{stack['bucketName']}/{key}"
    created = _endpoint_config(aws, stack)
    assert created != "(none)" and aws.hook.requests == []

    # the same version again: a new package, and a new version of the same model card
    second = deploy("--image-tag", IMAGE_TAG)
    assert second.exit_code == 0, second.output
    (request,) = aws.hook.requests
    new_config = request["EndpointConfigName"]
    assert _endpoint_config(aws, stack) == new_config != created
    assert len(_packages(aws, stack)) == 2
    assert aws("sagemaker").describe_model_card(ModelCardName=card_name)["ModelCardVersion"] == 2
    if SERVERLESS:
        assert "DeploymentConfig" not in request
        assert "all at once" in second.output
    else:
        policy = request["DeploymentConfig"]["BlueGreenUpdatePolicy"]
        assert policy["TrafficRoutingConfiguration"]["Type"] == "ALL_AT_ONCE"  # one instance
        alarms = request["DeploymentConfig"]["AutoRollbackConfiguration"]["Alarms"]
        endpoint = stack["endpointName"]
        # every alarm the stack's monitoring declares for the variant (five), none of others
        assert alarms == [{"AlarmName": name} for name in stack_alarms(endpoint)]
        assert len(alarms) == 5

    back = cli("deploy-rollback", "--stack", "dev", "--outputs", OUTPUTS)
    assert back.exit_code == 0, back.output
    assert f"{new_config} -> {created}" in back.output
    assert _endpoint_config(aws, stack) == created
    again = cli("deploy-rollback", "--stack", "dev", "--outputs", OUTPUTS)
    assert again.exit_code == 2
    assert again.output.strip() == (
        f"error: rollback: {created} is the endpoint's first release; nothing to return to"
    )


STAGED = "staging-deploy"  # its own model: the session champion stays approved by the gate


def _champion(client: MlflowClient, outcome: Outcome, approval: Callable[[str], Approval]) -> str:
    """A new version of the session's model as STAGED's champion, with ``approval(trainer)``."""
    source = client.get_model_version(outcome.model_name, outcome.version)
    lineage = {k: v for k, v in source.tags.items() if not k.startswith("approv")}
    version = register_challenger(client, source.source, STAGED, lineage)
    promote(client, STAGED, approval(lineage["trained_by"]), str(version.version))
    return str(version.version)


def test_staging_deploys_only_what_a_person_other_than_the_trainer_approved(
    aws: Clients,
    in_project: Path,
    client: MlflowClient,
    outcome: Outcome,
    write_config: Callable[..., Path],
) -> None:
    """Outside dev the gate's approval is not enough, nor the trainer's own: both are refused
    before anything is written; a reviewer's approval ships, with an Approved model card."""
    outputs = create_stack(aws, "{{ cookiecutter.project_slug }}-staging", serverless=SERVERLESS)
    _write_outputs(in_project, outputs, preset="staging")
    config = str(write_config(in_project / "staged", model={"name": STAGED}))
    run = outcome.report.run_id

    def ship() -> Result:
        return cli(
            "deploy",
            "--stack",
            "staging",
            "--outputs",
            OUTPUTS,
            "--config",
            config,
            "--image-tag",
            IMAGE_TAG,
        )

    gate = _champion(client, outcome, lambda trainer: Approval.automated(run))
    refused = ship()
    assert refused.exit_code == 2, refused.output
    assert refused.output.strip() == (
        f"error: approval: champion version {gate}: approved only by the automated gate "
        "(quality-gate); outside dev a person approves (promote --approved-by)"
    )
    _assert_nothing_written(aws, outputs)

    self_approved = _champion(client, outcome, lambda trainer: Approval.human(trainer, run))
    refused = ship()
    assert refused.exit_code == 2, refused.output
    assert (
        refused.output.strip().startswith(f"error: approval: champion version {self_approved}: ")
        and "trained this model and cannot approve it" in refused.output
    )
    _assert_nothing_written(aws, outputs)

    reviewed = _champion(client, outcome, lambda trainer: Approval.human("reviewer-bob", run))
    shipped = ship()
    assert shipped.exit_code == 0, shipped.output
    (package,) = _packages(aws, outputs)
    meta = package["CustomerMetadataProperties"]
    assert (meta["approved-by"], meta["approval-kind"], meta["approved-evaluation"]) == (
        "reviewer-bob",
        "human",
        run,
    )
    assert meta["trained-by"] != "reviewer-bob"
    assert "human approval by reviewer-bob" in package["ApprovalDescription"]
    card = aws("sagemaker").describe_model_card(
        ModelCardName=f"{outputs['modelPackageGroupName']}-v{reviewed}"
    )
    assert card["ModelCardStatus"] == "Approved"
    content = json.loads(card["Content"])
    assert CARD_SECTIONS <= set(content)
    [evaluation] = content["evaluation_details"]
    assert evaluation["datasets"] == [outcome.report.evaluation_data.uri]
    challenger = {m["name"]: m["value"] for m in evaluation["metric_groups"][0]["metric_data"]}
    assert challenger == pytest.approx(outcome.report.challenger)
    assert content["additional_information"]["custom_details"]["approved_by"] == "reviewer-bob"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--canary-percent", "0"], "--canary-percent: must be between 1 and 50"),
        (["--canary-percent", "51"], "--canary-percent: must be between 1 and 50"),
        (["--stack", "nope"], "--stack: no stack config infra/Pulumi.nope.yaml"),
        (["--stack", "../dev"], "--stack: not a stack name (got '../dev')"),
        (["--outputs", "build/none.json"], "--outputs: build/none.json: not a readable JSON"),
        ([], "stack outputs: missing endpointName, serving (is this a sagemaker stack?)"),
    ],
    ids=["canary-0", "canary-51", "unknown-stack", "bad-stack", "no-outputs", "missing-key"],
)
def test_bad_input_is_one_line_and_calls_no_aws(
    aws_calls: list[str], in_project: Path, args: list[str], message: str
) -> None:
    incomplete = {"bucketName": "b", "kmsKeyArn": "k", "modelPackageGroupName": "g"}
    _write_outputs(in_project, {**incomplete, "inferenceRoleArn": "r"})  # no endpointName
    result = deploy("--image-tag", IMAGE_TAG, "--canary-percent", "10", *args)
    assert result.exit_code == 2, result.output
    (line,) = result.output.strip().splitlines()
    assert line.startswith(f"error: {message}"), line
    assert aws_calls == []


@pytest.mark.parametrize("refusal", ["no-champion", "alarm-firing"])
def test_refusals_write_nothing(
    aws: Clients,
    stack: dict[str, str],
    in_project: Path,
    outcome: Outcome,
    write_config: Callable[..., Path],
    refusal: str,
) -> None:
    if refusal == "no-champion":
        config = write_config(in_project / "undeployed", model={"name": "never-trained"})
        result = deploy("--image-tag", IMAGE_TAG, "--config", str(config))
        message = "champion: model 'never-trained' has no champion to deploy"
    else:
        alarm = f"{stack['endpointName']}-ModelLatency"
        aws("cloudwatch").set_alarm_state(AlarmName=alarm, StateValue="ALARM", StateReason="t")
        result = deploy("--image-tag", IMAGE_TAG)
        message = f"alarms: {alarm} already firing; fix the endpoint first"
    assert result.exit_code == 2, result.output
    assert result.output.strip() == f"error: {message}"
    _assert_nothing_written(aws, stack)
{%- if cookiecutter.endpoint == "realtime" %}


def test_realtime_endpoint_without_alarms_needs_no_auto_rollback(
    aws: Clients, in_project: Path, outcome: Outcome
) -> None:
    """A monitoring=no stack has no alarms: refused, unless ``--no-auto-rollback``."""
    outputs = create_stack(aws, "bare", alarms=False)
    _write_outputs(in_project, outputs)
    result = deploy("--image-tag", IMAGE_TAG)
    assert result.exit_code == 2
    assert result.output.strip() == (
        "error: alarms: the endpoint has no CloudWatch alarms to roll back on; "
        "pass --no-auto-rollback to deploy without them"
    )
    _assert_nothing_written(aws, outputs)

    assert deploy("--image-tag", IMAGE_TAG, "--no-auto-rollback").exit_code == 0
    result = deploy("--image-tag", IMAGE_TAG, "--no-auto-rollback")
    assert result.exit_code == 0, result.output
    assert "all at once, baking 120 s, no alarm rollback (--no-auto-rollback)" in result.output
    (request,) = aws.hook.requests
    assert set(request["DeploymentConfig"]) == {"BlueGreenUpdatePolicy"}  # no rollback config
    assert _endpoint_config(aws, outputs) == request["EndpointConfigName"]
{%- endif %}
