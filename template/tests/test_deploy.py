"""``deploy`` and ``deploy-rollback`` end to end, offline, against moto in-process.

The stack (bucket, KMS key, package group, role, image repository with a pushed image,
the {{ cookiecutter.endpoint }} endpoint's serving spec, alarms; no endpoint: the first
release creates it) is emulated by ``slipway.testing.moto_stack.create_stack`` in the
region of ``infra/Pulumi.dev.yaml``. moto has no SageMaker UpdateEndpoint: a botocore
``before-call`` hook (not Stubber, not a moto server) registered on boto3's default
session answers it for the clients the command builds, after botocore validated the
request, and switches the endpoint in moto's backend. The champion is the session's.
"""

from __future__ import annotations

import io
import json
import shutil
import tarfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
import yaml
from moto import mock_aws
from slipway.testing.moto_stack import IMAGE_TAG, Clients, create_stack, image_uri
from typer.testing import CliRunner, Result

from {{ cookiecutter.package_name }}.cli import app
from {{ cookiecutter.package_name }}.pipeline import Outcome

PROJECT = Path(__file__).resolve().parents[1]
STACK_FILE = PROJECT / "infra" / "Pulumi.dev.yaml"
REGION = yaml.safe_load(STACK_FILE.read_text())["config"]["aws:region"]
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
    shutil.copy(STACK_FILE, in_project / "infra" / STACK_FILE.name)
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


def _write_outputs(root: Path, outputs: dict[str, str]) -> None:
    """As ``pulumi stack output --json --show-secrets > build/outputs.json`` would."""
    (root / "build").mkdir(exist_ok=True)
    (root / OUTPUTS).write_text(json.dumps({**outputs, "preset": "dev"}))


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
    aws: Clients, stack: dict[str, str], outcome: Outcome, settings: Any
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

    # approved package, approver from the config, the project's image from the stack repository
    (package,) = _packages(aws, stack)
    assert package["ModelApprovalStatus"] == "Approved"
    assert package["CustomerMetadataProperties"]["approved-by"] == settings.gate.approved_by
    container = package["InferenceSpecification"]["Containers"][0]
    assert container["Image"] == image_uri(REGION, "{{ cookiecutter.project_slug }}-dev")
    assert container["ModelDataUrl"] == f"s3://{stack['bucketName']}/{key}"
    created = _endpoint_config(aws, stack)
    assert created != "(none)" and aws.hook.requests == []

    second = deploy("--image-tag", IMAGE_TAG, "--approved-by", "alice")
    assert second.exit_code == 0, second.output
    (request,) = aws.hook.requests
    new_config = request["EndpointConfigName"]
    assert _endpoint_config(aws, stack) == new_config != created
    assert _packages(aws, stack)[-1]["CustomerMetadataProperties"]["approved-by"] == "alice"
    if SERVERLESS:
        assert "DeploymentConfig" not in request
        assert "all at once" in second.output
    else:
        policy = request["DeploymentConfig"]["BlueGreenUpdatePolicy"]
        assert policy["TrafficRoutingConfiguration"]["Type"] == "ALL_AT_ONCE"  # one instance
        alarms = request["DeploymentConfig"]["AutoRollbackConfiguration"]["Alarms"]
        endpoint = stack["endpointName"]
        assert alarms == [
            {"AlarmName": f"{endpoint}-Invocation5XXErrors"},
            {"AlarmName": f"{endpoint}-ModelLatency"},
        ]

    back = cli("deploy-rollback", "--stack", "dev", "--outputs", OUTPUTS)
    assert back.exit_code == 0, back.output
    assert f"{new_config} -> {created}" in back.output
    assert _endpoint_config(aws, stack) == created
    again = cli("deploy-rollback", "--stack", "dev", "--outputs", OUTPUTS)
    assert again.exit_code == 2
    assert again.output.strip() == (
        f"error: rollback: {created} is the endpoint's first release; nothing to return to"
    )


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
