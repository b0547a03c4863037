"""The SageMaker SDK's defaults-config checks run once per distinct config, not once per
lookup or session (slipway.aws.pipeline_definition), and still refuse a bad config every
time; building a definition builds no local-mode session and no boto3 session of its own."""

from __future__ import annotations

from typing import Any

import jsonschema
import pytest
from sagemaker.core.config import config_manager
from sagemaker.core.config.config_manager import SageMakerConfig
from sagemaker.core.helper import session_helper
from slipway.aws.pipeline_definition import (
    PipelineSpec,
    _check_sdk_config_once,
    batch_definition,
    training_definition,
)
from slipway.presets import load_preset


def test_an_accepted_config_is_checked_once_and_a_bad_one_always(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    checks: list[Any] = []
    schema_check = config_manager.jsonschema.validate

    def counted(instance: Any, schema: Any, *args: Any, **kwargs: Any) -> None:
        checks.append(instance)
        schema_check(instance, schema, *args, **kwargs)

    monkeypatch.setattr(config_manager.jsonschema, "validate", counted)
    _check_sdk_config_once()
    _check_sdk_config_once()  # wrapping twice would still check once: the wrapper is kept
    config = {"SchemaVersion": "1.0", "SageMaker": {"PythonSDK": {"Modules": {}}}}
    for _ in range(3):
        SageMakerConfig.validate_sagemaker_config(config)
        SageMakerConfig().validate_sagemaker_config(config)  # as the SDK's lookups call it
    assert checks == [config]
    for _ in range(2):
        session_helper.validate_sagemaker_config(config)  # as every Session's init calls it
    assert checks == [config, config]  # its own check, once

    bad = {"SchemaVersion": "1.0", "SageMaker": {"NoSuchSection": {}}}
    for _ in range(2):
        with pytest.raises(jsonschema.ValidationError):
            SageMakerConfig.validate_sagemaker_config(bad)
    assert checks == [config, config, bad, bad]
    with pytest.raises(jsonschema.ValidationError):
        session_helper.validate_sagemaker_config(bad)


def _spec(stack: str) -> PipelineSpec:
    return PipelineSpec(
        region="us-east-1",
        training_name=f"churn-{stack}-training",
        batch_name=f"churn-{stack}-batch",
        image_uri="123456789012.dkr.ecr.us-east-1.amazonaws.com/churn:1",
        role_arn=f"arn:aws:iam::123456789012:role/churn-{stack}-training",
        kms_key_arn="arn:aws:kms:us-east-1:123456789012:key/1",
        bucket=f"churn-{stack}-bucket",
        tracking_uri="https://mlflow.example.com",
        model_package_group=f"churn-{stack}",
        stack=stack,
        jobs=load_preset(stack).training.sagemaker,
    )


def test_definitions_share_one_session_and_build_no_local_mode_session(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import boto3

    training_definition(_spec("dev"))  # imports the SDK offline; its one session from here
    from sagemaker.mlops.workflow import steps

    sessions: list[object] = []
    original = boto3.Session.__init__

    def counted(self: Any, *args: Any, **kwargs: Any) -> None:
        sessions.append(self)
        original(self, *args, **kwargs)

    monkeypatch.setattr(boto3.Session, "__init__", counted)
    client = steps.LocalSagemakerClient
    for stack in ("staging", "prod"):
        for build in (training_definition, batch_definition):
            definition = build(_spec(stack))
            assert f"role/churn-{stack}-training" in definition  # each stack's own steps
    assert sessions == []  # the SDK's LocalSagemakerClient() would make one per step
    assert steps.LocalSagemakerClient is client  # put back after each build


def test_definitions_make_each_client_once_per_process(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every SDK Session makes five clients; building two stacks' four definitions makes each
    of them once (per service and configuration), and the definitions stay each stack's."""
    import boto3

    training_definition(_spec("dev"))
    made: list[str] = []
    original = boto3.Session.client

    def counted(self: Any, service_name: str, *args: Any, **kwargs: Any) -> Any:
        made.append(service_name)
        return original(self, service_name, *args, **kwargs)

    monkeypatch.setattr(boto3.Session, "client", counted)
    for stack in ("staging", "prod"):
        for build in (training_definition, batch_definition):
            assert f"churn-{stack}-bucket" in build(_spec(stack))
    assert made == []  # all five were made by the first build, in this process
