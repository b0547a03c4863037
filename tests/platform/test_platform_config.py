"""Options as stack config: every `slipway:*` key checked with a one-line error naming the key
and its rule, and a project turning monitoring on later with `pulumi config set` alone."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pulumi
import pytest
from slipway.platform import ConfigError, StackConfig, compose, load_config
from slipway.platform.config import KEYS, render_reference, stack_monitoring
from slipway.testing import ProgramRun, run_pulumi

ROOT = Path(__file__).resolve().parents[2]
PROJECT = "churn-model"
SAGEMAKER = {
    "preset": "dev",
    "owner": "ML Team",
    "compute": "sagemaker",
    "endpoint": "realtime",
    "monitoring": "false",
    "alarmEmail": "ml-team@example.com",
    "modelImageTag": "0.1.0",
}
EKS = {
    "preset": "dev",
    "owner": "ML Team",
    "compute": "eks",
    "monitoring": "true",
    "alarmEmail": "ml-team@example.com",
    "apiAccessCidrs": '["203.0.113.0/24"]',
    "modelImageTag": "0.1.0",
    "modelUri": "models:/churn-model@champion",
}
DROP = object()


def _parse(base: dict[str, str], **changes: Any) -> StackConfig:
    values = {**base, **changes}
    return StackConfig.parse({k: v for k, v in values.items() if v is not DROP}, PROJECT, "dev")


@pytest.mark.parametrize(
    ("base", "changes", "message"),
    [
        (SAGEMAKER, {"compute": DROP}, "slipway:compute: required: sagemaker or eks"),
        (SAGEMAKER, {"compute": "ecs"}, "slipway:compute: must be sagemaker or eks (got 'ecs')"),
        (SAGEMAKER, {"preset": DROP}, "slipway:preset: required"),
        (SAGEMAKER, {"preset": "qa"}, "slipway:preset: ...qa.yaml: no such preset"),
        (SAGEMAKER, {"owner": "a\tb"}, "slipway:owner: must be 1-256 letters"),
        (SAGEMAKER, {"monitoring": "yes"}, "slipway:monitoring: must be true or false"),
        (
            SAGEMAKER,
            {"monitoring": "true", "alarmEmail": DROP},
            "slipway:alarmEmail: required when slipway:monitoring is true",
        ),
        (SAGEMAKER, {"alarmEmail": "nobody"}, "slipway:alarmEmail: must be an email address"),
        (
            SAGEMAKER,
            {"monitorng": "true"},
            "slipway:monitorng: unknown key; did you mean slipway:monitoring?",
        ),
        (SAGEMAKER, {"githubRepository": "churn"}, "slipway:githubRepository: must be owner/name"),
        (
            SAGEMAKER,
            {"githubOidcProviderArn": "arn:aws:iam::123456789012:oidc-provider/x"},
            "slipway:githubOidcProviderArn: needs slipway:githubRepository",
        ),
        (
            SAGEMAKER,
            {"githubRepository": "org/churn", "githubOidcProviderArn": "arn:aws:iam::1:x"},
            "slipway:githubOidcProviderArn: must be arn:",
        ),
        (SAGEMAKER, {"endpoint": "batch"}, "slipway:endpoint: must be realtime or serverless"),
        (SAGEMAKER, {"modelName": ""}, "slipway:modelName: must not be empty"),
        (
            SAGEMAKER,
            {"modelUri": "models:/x@champion"},
            "slipway:modelUri: applies to compute eks only",
        ),
        (EKS, {"endpoint": "serverless"}, "slipway:endpoint: must be realtime with compute eks"),
        (EKS, {"baselineKey": "b"}, "slipway:baselineKey: applies to compute sagemaker"),
        (EKS, {"modelUri": DROP}, "slipway:modelUri: required"),
        (EKS, {"apiAccessCidrs": "office"}, "slipway:apiAccessCidrs: must be a YAML/JSON list"),
        (EKS, {"apiAccessCidrs": DROP}, "slipway:apiAccessCidrs: required with compute eks: "),
        (EKS, {"apiAccessCidrs": "[]"}, "slipway:apiAccessCidrs: required with compute eks: "),
        (
            EKS,
            {"apiAccessCidrs": '["0.0.0.0/0"]'},
            "slipway:apiAccessCidrs: 0.0.0.0/0 opens the Kubernetes API",
        ),
    ],
)
def test_a_bad_key_stops_with_one_line_naming_it(
    base: dict[str, str], changes: dict[str, Any], message: str
) -> None:
    pattern = "^" + ".*".join(map(re.escape, message.split("...")))  # "...": anything
    with pytest.raises(ConfigError, match=pattern) as raised:
        _parse(base, **changes)
    assert "\n" not in str(raised.value)
    # pulumi.RunError: the Pulumi CLI prints the message alone, without a traceback
    assert isinstance(raised.value, pulumi.RunError)


def test_defaults_of_optional_keys() -> None:
    config = _parse(SAGEMAKER, endpoint=DROP, monitoring=DROP)
    assert config.sagemaker is not None
    assert (config.sagemaker.endpoint, config.monitoring, config.github) == (
        "realtime",
        False,
        None,
    )
    assert (config.sagemaker.baseline_key, config.sagemaker.model_name) == ("baseline", PROJECT)
    eks = _parse(EKS, apiAccessCidrs="private")
    assert eks.eks is not None and eks.eks.api_access_cidrs == ()
    first_up = _parse(EKS, modelImageTag=DROP)  # before the first image push
    assert first_up.eks is not None and first_up.eks.model_image_tag is None
    # SageMaker too: no training pipelines until the first image is pushed
    sagemaker_first_up = _parse(SAGEMAKER, modelImageTag=DROP)
    assert sagemaker_first_up.sagemaker is not None
    assert sagemaker_first_up.sagemaker.model_image_tag is None


def _run(values: dict[str, str], stack: str = "dev") -> ProgramRun:
    config = {"aws:region": "us-east-1", **{f"slipway:{k}": v for k, v in values.items()}}
    return run_pulumi(
        lambda: compose(load_config(), cli="churn_model").export(),
        project=PROJECT,
        stack=stack,
        config=config,
    )


@pytest.fixture(scope="module")
def monitoring_off() -> ProgramRun:
    return _run({**SAGEMAKER, "githubRepository": "example-org/churn-model"})


def test_monitoring_turned_on_later_by_stack_config_replaces_nothing(
    monitoring_off: ProgramRun,
) -> None:
    on = _run({**SAGEMAKER, "githubRepository": "example-org/churn-model", "monitoring": "true"})
    before, after = {r.urn for r in monitoring_off.resources}, {r.urn for r in on.resources}
    assert before <= after  # no URN disappears: nothing is deleted or replaced
    added = {r.type for r in on.resources if r.urn not in before}
    assert {
        "aws:sns/topic:Topic",
        "aws:cloudwatch/metricAlarm:MetricAlarm",
        "aws:iam/role:Role",  # the drift check's monitor role
    } <= added
    # the Model Monitor schedule joins the serving spec (the deploy runtime creates it)
    assert json.loads(on.outputs["serving"])["monitoring_schedule"] is not None
    assert json.loads(monitoring_off.outputs["serving"])["monitoring_schedule"] is None
    assert set(on.outputs) - set(monitoring_off.outputs) == {
        "alarmTopicArn",
        "dashboardUrl",
        "monitorRoleArn",
    }


def test_the_program_reads_only_slipway_keys_and_refuses_unknown_ones() -> None:
    with pytest.raises(ConfigError, match=r"^slipway:alarmEmails: unknown key"):
        _run({**SAGEMAKER, "alarmEmails": "a@example.com"})


def test_the_configuration_page_lists_every_key() -> None:
    page = (ROOT / "docs" / "configuration.md").read_text()
    assert render_reference() in page, "regenerate: python -m slipway.platform"
    assert len(KEYS) == len({key.name for key in KEYS})


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ('  slipway:monitoring: "true"\n', True),  # as `pulumi config set` writes it
        ("  slipway:monitoring: false\n", False),
        ("  slipway:owner: x\n", False),  # unset: the program's default
        ('  slipway:monitoring: "on"\n', "slipway:monitoring: must be true or false (got 'on')"),
    ],
)
def test_the_stack_files_monitoring_is_read_by_the_programs_rule(
    tmp_path: Path, line: str, expected: bool | str
) -> None:
    (tmp_path / "Pulumi.prod.yaml").write_text("config:\n" + line)
    if isinstance(expected, bool):
        assert stack_monitoring(tmp_path, "prod") is expected
        return
    with pytest.raises(ConfigError) as refused:
        stack_monitoring(tmp_path, "prod")
    assert str(refused.value) == expected
    with pytest.raises(ConfigError, match=r"Pulumi.dev.yaml: No such file or directory$"):
        stack_monitoring(tmp_path, "dev")
