"""The SageMaker SDK's defaults-config check runs once per distinct config, not once per
lookup (slipway.aws.pipeline_definition), and still refuses a bad config every time."""

from __future__ import annotations

from typing import Any

import jsonschema
import pytest
from sagemaker.core.config import config_manager
from sagemaker.core.config.config_manager import SageMakerConfig
from slipway.aws.pipeline_definition import _check_sdk_config_once


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

    bad = {"SchemaVersion": "1.0", "SageMaker": {"NoSuchSection": {}}}
    for _ in range(2):
        with pytest.raises(jsonschema.ValidationError):
            SageMakerConfig.validate_sagemaker_config(bad)
    assert checks == [config, bad, bad]
