"""The Pulumi program runs under slipway's mocks for every stack, with only its stack files.

What monitoring adds is expected where the stack file turns it on (`slipway:monitoring`, as
`pulumi config set` leaves it), so the tests follow a stack whose monitoring changes later."""

{% if cookiecutter.ci == "github" or cookiecutter.compute == "sagemaker" -%}
import json
{% endif -%}
{% if cookiecutter.ci == "github" -%}
import shutil
{% endif -%}
from collections.abc import Callable
from functools import cache
from pathlib import Path

import pytest
from slipway.platform.config import stack_monitoring
from slipway.presets import load_preset
from slipway.testing import ProgramRun, run_program, untagged

INFRA = Path(__file__).resolve().parents[1] / "infra"
STACKS = ["dev", "staging", "prod"]
OUTPUTS = {
    "bucketName",
    "kmsKeyArn",
    "modelPackageGroupName",
    "executionRoleArn",
    "trainingRoleArn",
    "inferenceRoleArn",
{%- if cookiecutter.ci == "github" %}
    "deployRoleArn",
    "candidateRoleArn",
    "previewRoleArn",
{%- endif %}
{%- if cookiecutter.compute == "sagemaker" %}
    "trackingUri",
    "endpointName",
    "modelRepositoryUrl",
    "serving",
    # the engine's pipelines (declared once modelImageTag names a pushed image)
    "trainingPipelineName",
    "batchPipelineName",
{%- endif %}
{%- if cookiecutter.compute == "eks" %}
    "clusterName",
    "kubeconfig",
    "trackingUri",
    "modelRepositoryUrl",
    "modelServiceName",
    # the engine's Jobs (declared once modelImageTag names a pushed image)
    "trainingNamespace",
    "trainingCronJob",
    "batchCronJob",
{%- endif %}
}
# Outputs a stack has only with slipway:monitoring true.
MONITORING_OUTPUTS = {
    "alarmTopicArn",
{%- if cookiecutter.compute == "sagemaker" %}
    "dashboardUrl",
{%- else %}
    "grafanaAdminPassword",
{%- endif %}
{%- if cookiecutter.ci == "github" %}
    "monitorRoleArn",
{%- endif %}
}


{%- if cookiecutter.compute == "eks" %}
# What you set before `pulumi up` (the stack files leave both unset): the networks that reach
# the Kubernetes API (here RFC 5737's TEST-NET-3) and, once pushed, the project image (the
# model server's and the training and batch Jobs').
DEPLOYED = {"slipway:apiAccessCidrs": ["203.0.113.0/24"], "slipway:modelImageTag": "0.1.0"}
{%- else %}
# Once pushed, the project image the training and batch pipelines' steps run in.
DEPLOYED: dict[str, object] = {"slipway:modelImageTag": "0.1.0"}
{%- endif %}


@pytest.fixture(scope="module", params=STACKS)
def stack(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture(scope="module")
def deployed_run() -> Callable[[str], ProgramRun]:
    """``deployed_run(stack)``: the program of ``stack`` as deployed, run once per module and
    shared by every test that reads it."""
    return cache(lambda stack: run_program(INFRA, stack, config=DEPLOYED))


@pytest.fixture(scope="module")
def run(stack: str, deployed_run: Callable[[str], ProgramRun]) -> ProgramRun:
    return deployed_run(stack)


@pytest.fixture(scope="module")
def monitoring(stack: str) -> bool:
    return stack_monitoring(INFRA, stack)
{%- if cookiecutter.ci == "github" %}


def _oidc_condition(run: ProgramRun, output: str) -> dict[str, object]:
    """The trust condition of the role whose ARN is the stack output ``output``."""
    roles = run.of_type("aws:iam/role:Role")
    [role] = [r for r in roles if r.state["arn"] == run.outputs[output]]
    [statement] = json.loads(role.inputs["assumeRolePolicy"])["Statement"]
    return dict(statement["Condition"])


def test_github_roles_trust_one_environment_each(run: ProgramRun, monitoring: bool) -> None:
    stack = run.outputs["preset"]
    environments = {
        "deployRoleArn": stack,
        "candidateRoleArn": stack + "-candidate",
        "previewRoleArn": "preview",
    }
    if monitoring:
        environments["monitorRoleArn"] = "monitor"
    subject = "repo:{{ cookiecutter.github_repository }}:environment:"  # noqa: E501
    for output, environment in environments.items():
        condition = _oidc_condition(run, output)["StringEquals"]
        assert condition["token.actions.githubusercontent.com:aud"] == "sts.amazonaws.com"
        assert condition["token.actions.githubusercontent.com:sub"] == subject + environment, output


def test_reviewed_stacks_trust_only_the_deploy_workflows_on_main(run: ProgramRun) -> None:
    """An environment GitHub created without protection rules is not enough for staging or
    prod: the job must also run release.yml or stack-up.yml from main."""
    condition = _oidc_condition(run, "deployRoleArn")["StringEquals"]
    reviewed = load_preset(run.outputs["preset"]).reviewed_releases
    workflows = "{{ cookiecutter.github_repository }}/.github/workflows/"  # noqa: E501
    candidate = _oidc_condition(run, "candidateRoleArn")["StringEquals"]
    if reviewed:
        assert condition["token.actions.githubusercontent.com:ref"] == "refs/heads/main"
        assert condition["token.actions.githubusercontent.com:job_workflow_ref"] == [
            workflows + "stack-up.yml@refs/heads/main",
            workflows + "release.yml@refs/heads/main",
        ]
        assert candidate["token.actions.githubusercontent.com:job_workflow_ref"] == [
            workflows + "release.yml@refs/heads/main",
        ]
    else:
        assert "token.actions.githubusercontent.com:ref" not in condition
        assert "token.actions.githubusercontent.com:ref" not in candidate


def test_the_account_github_oidc_provider_is_trusted_not_created(
    tmp_path: Path, deployed_run: Callable[[str], ProgramRun]
) -> None:
    run = deployed_run("prod")
    assert run.of_type("aws:iam/openIdConnectProvider:OpenIdConnectProvider") == []
    existing = "arn:aws-us-gov:iam::123456789012:oidc-provider/token.actions.githubusercontent.com"
    shutil.copytree(INFRA, tmp_path / "infra")
    stack_file = tmp_path / "infra" / "Pulumi.prod.yaml"
    stack_file.write_text(stack_file.read_text() + f"  slipway:githubOidcProviderArn: {existing}\n")
    reused = run_program(tmp_path / "infra", "prod", config=DEPLOYED)
    assert reused.of_type("aws:iam/openIdConnectProvider:OpenIdConnectProvider") == []
    trusts = [r.inputs["assumeRolePolicy"] for r in reused.of_type("aws:iam/role:Role")]
    github = [t for t in trusts if "token.actions.githubusercontent.com:sub" in t]
    assert len(github) == (4 if stack_monitoring(INFRA, "prod") else 3)
    assert all(json.loads(t)["Statement"][0]["Principal"]["Federated"] == existing for t in github)
{%- endif %}


def test_exports_every_output(run: ProgramRun, monitoring: bool) -> None:
    expected = OUTPUTS | (MONITORING_OUTPUTS if monitoring else set())
    assert set(run.outputs) == expected | {"preset"}
    assert all(run.outputs[key] for key in expected)


def test_every_taggable_resource_is_tagged(run: ProgramRun) -> None:
    preset = run.outputs["preset"]
    required = {
        "project": "{{ cookiecutter.project_slug }}",
        "environment": preset,
        "owner": {{ cookiecutter.author_name | py }},  # noqa: E501
        "managed-by": "slipway",
    }
    assert untagged(run, required) == []


def test_data_is_protected_only_where_the_preset_says(run: ProgramRun) -> None:
    keep = load_preset(run.outputs["preset"]).deletion_protection
    for stateful in (*run.of_type("aws:s3/bucket:Bucket"), run.one("aws:kms/key:Key")):
        assert (stateful.protect, stateful.retain_on_delete) == (keep, keep), stateful.name


def test_chosen_options_shape_the_stack(run: ProgramRun, monitoring: bool) -> None:
    counts = run.type_counts()
    # The endpoint, its model, config, autoscaling and monitoring schedule belong to the
    # deploy runtime (the first release creates them); the program only describes them.
    for owned_by_the_runtime in (
        "aws:sagemaker/model:Model",
        "aws:sagemaker/endpointConfiguration:EndpointConfiguration",
        "aws:sagemaker/endpoint:Endpoint",
        "aws:appautoscaling/target:Target",
        "aws:sagemaker/monitoringSchedule:MonitoringSchedule",
    ):
        assert owned_by_the_runtime not in counts
    assert counts.get("aws:ecr/repository:Repository", 0) == 1  # the project's serving image
{%- if cookiecutter.compute == "sagemaker" %}
    assert (counts.get("aws:cloudwatch/metricAlarm:MetricAlarm", 0) > 0) is monitoring
    spec = json.loads(run.outputs["serving"])
    assert spec["endpoint_name"] == run.outputs["endpointName"]
    realtime = {{ "True" if cookiecutter.endpoint == "realtime" else "False" }}  # slipway:endpoint
    assert (spec["autoscaling"] is not None) is realtime
    assert (spec["monitoring_schedule"] is not None) is (monitoring and realtime)
    # the training and batch pipelines (image pushed), started by the schedule and retrain rules
    assert counts.get("aws:sagemaker/pipeline:Pipeline", 0) == 2
{%- endif %}
    # no stack creates the account's GitHub OIDC provider; CI's stacks carry a boundary
    assert counts.get("aws:iam/openIdConnectProvider:OpenIdConnectProvider", 0) == 0
    assert counts.get("aws:iam/policy:Policy", 0) {{ ">= 1" if cookiecutter.ci == "github" else "== 0" }}
{%- if cookiecutter.compute == "eks" %}
    assert counts.get("aws:cloudwatch/metricAlarm:MetricAlarm", 0) == 0
    assert counts.get("kubernetes:apps/v1:Deployment", 0) == 1
    assert counts.get("aws:rds/instance:Instance", 0) == 1
    assert counts.get("kubernetes:monitoring.coreos.com/v1:PrometheusRule", 0) == monitoring
    # the drift check (with monitoring); the training and batch Jobs' templates (image pushed)
    assert counts.get("kubernetes:batch/v1:CronJob", 0) == monitoring + 2
    # GitHub roles reach the Kubernetes API only through their access entries (ci=github).
    entries = run.one("eks:index:Cluster").inputs.get("accessEntries") or {}
{%- if cookiecutter.ci == "github" %}
    roles = {
        "deploy": "deployRoleArn",
        "candidate": "candidateRoleArn",
        "preview": "previewRoleArn",
    }
    if monitoring:
        roles["monitor"] = "monitorRoleArn"
    assert {k: e["principalArn"] for k, e in entries.items()} == {
        k: run.outputs[output] for k, output in roles.items()
    }
{%- else %}
    assert entries == {}
{%- endif %}


def test_the_stack_says_what_to_set_before_the_first_up() -> None:
    from slipway.platform import ConfigError

    with pytest.raises(ConfigError, match=r"^slipway:apiAccessCidrs: required with compute eks"):
        run_program(INFRA, "dev")


def test_the_first_up_creates_no_model_server_until_an_image_is_pushed() -> None:
    api_access = {"slipway:apiAccessCidrs": DEPLOYED["slipway:apiAccessCidrs"]}
    first = run_program(INFRA, "dev", config=api_access)
    counts = first.type_counts()
    assert counts.get("aws:ecr/repository:Repository") == 1
    assert counts.get("kubernetes:apps/v1:Deployment", 0) == 0
    assert counts.get("kubernetes:batch/v1:CronJob", 0) == 0


def test_every_kubernetes_object_matches_its_schema(run: ProgramRun) -> None:
    from slipway.eks.manifests import manifests, validate

    version = load_preset(run.outputs["preset"]).eks.kubernetes_version
    found = manifests(run)
    assert found
    for manifest in found:
        validate(manifest, version)
{%- endif %}
