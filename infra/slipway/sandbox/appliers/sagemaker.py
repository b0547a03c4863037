"""SageMaker model, endpoint configuration, endpoint, model package group, data quality job,
pipeline.

moto has no DeleteModelPackageGroup: destroy removes the group (and the packages in it)
from moto's in-process backend instead, and says so in the destroy report.
"""

from __future__ import annotations

from typing import Any

from botocore.exceptions import ClientError

from slipway.sandbox.appliers.base import (
    Applied,
    Applier,
    Declared,
    call,
    ignore_missing,
    pascal,
    tag_list,
)
from slipway.sandbox.errors import SandboxError
from slipway.sandbox.server import AwsClients


def _create_model(aws: AwsClients, d: Declared) -> Applied:
    request: dict[str, Any] = {
        "ModelName": d.physical,
        "ExecutionRoleArn": d.inputs["executionRoleArn"],
        "Tags": tag_list(d),
    }
    if d.inputs.get("primaryContainer"):
        request["PrimaryContainer"] = pascal(d.inputs["primaryContainer"])
    if d.inputs.get("vpcConfig"):
        request["VpcConfig"] = pascal(d.inputs["vpcConfig"])
    arn = call(d, "primaryContainer", aws("sagemaker").create_model, **request)["ModelArn"]
    return Applied(d.physical, {"name": d.physical, "arn": arn})


def _create_endpoint_config(aws: AwsClients, d: Declared) -> Applied:
    request: dict[str, Any] = {
        "EndpointConfigName": d.physical,
        "ProductionVariants": pascal(d.inputs["productionVariants"]),
        "Tags": tag_list(d),
    }
    if d.inputs.get("kmsKeyArn"):
        request["KmsKeyId"] = d.inputs["kmsKeyArn"]
    if d.inputs.get("dataCaptureConfig"):
        request["DataCaptureConfig"] = pascal(d.inputs["dataCaptureConfig"])
    arn = call(d, "productionVariants", aws("sagemaker").create_endpoint_config, **request)[
        "EndpointConfigArn"
    ]
    return Applied(d.physical, {"name": d.physical, "arn": arn})


def _require_model_data(aws: AwsClients, d: Declared) -> None:
    """What SageMaker does when it starts the endpoint's instances: download each variant's
    model data. A missing object fails the endpoint ("Failed to download model data")."""
    sagemaker = aws("sagemaker")
    config = sagemaker.describe_endpoint_config(EndpointConfigName=d.inputs["endpointConfigName"])
    for variant in config["ProductionVariants"]:
        model = sagemaker.describe_model(ModelName=variant["ModelName"])
        for container in [model.get("PrimaryContainer"), *model.get("Containers", [])]:
            url = (container or {}).get("ModelDataUrl", "")
            if not url.startswith("s3://"):
                continue
            bucket, _, key = url.removeprefix("s3://").partition("/")
            try:
                aws("s3").head_object(Bucket=bucket, Key=key)
            except ClientError:
                raise SandboxError(
                    f"{d.type} {d.name}: endpointConfigName: model data {url} does not exist "
                    "when the endpoint starts; SageMaker fails the endpoint (Failed to download "
                    "model data)"
                ) from None


def _create_endpoint(aws: AwsClients, d: Declared) -> Applied:
    _require_model_data(aws, d)
    arn = call(
        d,
        "endpointConfigName",
        aws("sagemaker").create_endpoint,
        EndpointName=d.physical,
        EndpointConfigName=d.inputs["endpointConfigName"],
        Tags=tag_list(d),
    )["EndpointArn"]
    return Applied(d.physical, {"name": d.physical, "arn": arn})


def _create_group(aws: AwsClients, d: Declared) -> Applied:
    arn = call(
        d,
        "modelPackageGroupName",
        aws("sagemaker").create_model_package_group,
        ModelPackageGroupName=d.physical,
        ModelPackageGroupDescription=d.inputs.get("modelPackageGroupDescription", ""),
        Tags=tag_list(d),
    )["ModelPackageGroupArn"]
    return Applied(d.physical, {"modelPackageGroupName": d.physical, "arn": arn})


def _delete_group(aws: AwsClients, id_: str, state: dict[str, Any]) -> None:
    """moto gap: no DeleteModelPackageGroup, so drop it from the in-process backend."""
    from moto.backends import get_backend

    account = str(state.get("arn", "::::123456789012")).split(":")[4]
    backend = get_backend("sagemaker")[account][aws.region]
    for arn, package in list(backend.model_packages.items()):
        if package.model_package_group_name == id_:
            del backend.model_packages[arn]
    backend.model_package_groups.pop(id_, None)


def _create_data_quality(aws: AwsClients, d: Declared) -> Applied:
    inputs = pascal(d.inputs)
    output = inputs["DataQualityJobOutputConfig"]
    outputs = output["MonitoringOutputs"]
    output["MonitoringOutputs"] = outputs if isinstance(outputs, list) else [outputs]
    request = {
        key: inputs[key]
        for key in (
            "DataQualityAppSpecification",
            "DataQualityBaselineConfig",
            "DataQualityJobInput",
            "DataQualityJobOutputConfig",
            "JobResources",
            "RoleArn",
            "StoppingCondition",
        )
        if key in inputs
    }
    arn = call(
        d,
        "dataQualityJobInput",
        aws("sagemaker").create_data_quality_job_definition,
        JobDefinitionName=d.physical,
        Tags=tag_list(d),
        **request,
    )["JobDefinitionArn"]
    return Applied(d.physical, {"name": d.physical, "arn": arn})


def _create_pipeline(aws: AwsClients, d: Declared) -> Applied:
    """The pipeline with the definition the program built (the sagemaker SDK's JSON)."""
    name = d.inputs["pipelineName"]
    arn = call(
        d,
        "pipelineDefinition",
        aws("sagemaker").create_pipeline,
        PipelineName=name,
        PipelineDisplayName=d.inputs.get("pipelineDisplayName") or name,
        PipelineDescription=d.inputs.get("pipelineDescription", ""),
        PipelineDefinition=d.inputs["pipelineDefinition"],
        RoleArn=d.inputs["roleArn"],
        Tags=tag_list(d),
    )["PipelineArn"]
    return Applied(name, {"pipelineName": name, "arn": arn})


def _deleter(method: str, key: str) -> Any:
    def delete(aws: AwsClients, id_: str, state: dict[str, Any]) -> None:
        ignore_missing(getattr(aws("sagemaker"), method), **{key: id_})

    return delete


APPLIERS = {
    "aws:sagemaker/model:Model": Applier(_create_model, _deleter("delete_model", "ModelName")),
    "aws:sagemaker/endpointConfiguration:EndpointConfiguration": Applier(
        _create_endpoint_config, _deleter("delete_endpoint_config", "EndpointConfigName")
    ),
    "aws:sagemaker/endpoint:Endpoint": Applier(
        _create_endpoint, _deleter("delete_endpoint", "EndpointName")
    ),
    "aws:sagemaker/modelPackageGroup:ModelPackageGroup": Applier(_create_group, _delete_group),
    "aws:sagemaker/pipeline:Pipeline": Applier(
        _create_pipeline, _deleter("delete_pipeline", "PipelineName")
    ),
    "aws:sagemaker/dataQualityJobDefinition:DataQualityJobDefinition": Applier(
        _create_data_quality,
        _deleter("delete_data_quality_job_definition", "JobDefinitionName"),
    ),
}
