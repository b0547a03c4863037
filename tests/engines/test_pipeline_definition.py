"""The training pipeline each SageMaker stack declares (the SDK's definition, as Pulumi
sends it): its step graph, and every job step's image, role, KMS keys, instances, spot and
caching, read against the stack's outputs and its preset."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from matrix import STRUCTURAL_COMBOS
from program_runs import single_run
from slipway.presets import load_preset

GRAPH = ["Validate", "Changed", "Train", "Evaluate", "Gate", "Register", "GateRefused"]
IMAGE = {"Get": "Parameters.ImageUri"}


def _steps(steps: list[dict[str, Any]]) -> Iterator[dict[str, Any]]:
    for step in steps:
        yield step
        arguments = step.get("Arguments", {})
        yield from _steps(arguments.get("IfSteps", []))
        yield from _steps(arguments.get("ElseSteps", []))


SAGEMAKER = [c for c in STRUCTURAL_COMBOS if c["compute"] == "sagemaker"]


# two combinations: a single run bakes each combination once
@pytest.mark.parametrize(("combo", "stack"), [(SAGEMAKER[0], "dev"), (SAGEMAKER[-1], "prod")])
def test_the_training_pipeline_runs_each_step_as_declared(
    combo: dict[str, str], stack: str, tmp_path_factory: pytest.TempPathFactory
) -> None:
    run = single_run(tmp_path_factory, combo, stack).run
    outputs, jobs = run.outputs, load_preset(stack).training.sagemaker
    [pipeline] = [
        r
        for r in run.of_type("aws:sagemaker/pipeline:Pipeline")
        if r.inputs["pipelineName"] == outputs["trainingPipelineName"]
    ]
    definition = json.loads(pipeline.inputs["pipelineDefinition"])
    steps = {s["Name"]: s for s in _steps(definition["Steps"])}
    assert list(steps) == GRAPH
    [image] = [p for p in definition["Parameters"] if p["Name"] == "ImageUri"]
    assert image["DefaultValue"].rsplit(":", 1)[0] == outputs["modelRepositoryUrl"]
    key, role = outputs["kmsKeyArn"], outputs["trainingRoleArn"]
    assert pipeline.inputs["roleArn"] == role
    bucket = f"s3://{outputs['bucketName']}/"
    for name in ("Validate", "Evaluate", "Register"):
        arguments = steps[name]["Arguments"]
        cluster = arguments["ProcessingResources"]["ClusterConfig"]
        assert arguments["RoleArn"] == role, name
        assert arguments["AppSpecification"]["ImageUri"] == IMAGE, name
        assert arguments["AppSpecification"]["ContainerArguments"][0] == name.lower()
        assert (cluster["InstanceType"], cluster["VolumeKmsKeyId"]) == (
            jobs.processing_instance_type,
            key,
        ), name
        assert cluster["VolumeSizeInGB"] == jobs.volume_gb
        outputs_config = arguments.get("ProcessingOutputConfig")
        if outputs_config:
            assert outputs_config["KmsKeyId"] == key, name
            for output in outputs_config["Outputs"]:
                uri = output["S3Output"]["S3Uri"]["Std:Join"]["Values"][0]
                assert uri.startswith(bucket), name
        assert "CacheConfig" not in steps[name], name  # reads the bucket's current data
    train = steps["Train"]["Arguments"]
    assert train["RoleArn"] == role
    assert train["AlgorithmSpecification"]["TrainingImage"] == IMAGE
    resources = train["ResourceConfig"]
    assert (resources["InstanceType"], resources["VolumeKmsKeyId"]) == (jobs.instance_type, key)
    assert train["OutputDataConfig"]["KmsKeyId"] == key
    assert train["OutputDataConfig"]["S3OutputPath"].startswith(bucket)
    assert bool(train.get("EnableManagedSpotTraining")) is jobs.spot
    assert train["StoppingCondition"]["MaxRuntimeInSeconds"] == jobs.max_run_minutes * 60
    assert steps["Train"]["CacheConfig"] == {
        "Enabled": True,
        "ExpireAfter": f"P{jobs.cache_days}D",
    }
