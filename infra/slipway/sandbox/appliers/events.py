"""EventBridge rules (schedule or event pattern) and their targets (a SageMaker pipeline)."""

from __future__ import annotations

from typing import Any

from slipway.sandbox.appliers.base import (
    Applied,
    Applier,
    Declared,
    call,
    ignore_missing,
    pascal,
    tag_list,
)
from slipway.sandbox.server import AwsClients


def _create_rule(aws: AwsClients, d: Declared) -> Applied:
    request: dict[str, Any] = {"Name": d.physical, "State": "ENABLED", "Tags": tag_list(d)}
    for key, field in (
        ("scheduleExpression", "ScheduleExpression"),
        ("eventPattern", "EventPattern"),
        ("description", "Description"),
    ):
        if d.inputs.get(key):
            request[field] = d.inputs[key]
    arn = call(d, "eventPattern", aws("events").put_rule, **request)["RuleArn"]
    return Applied(d.physical, {"name": d.physical, "arn": arn})


def _delete_rule(aws: AwsClients, id_: str, state: dict[str, Any]) -> None:
    ignore_missing(aws("events").delete_rule, Name=id_)


def _create_target(aws: AwsClients, d: Declared) -> Applied:
    target: dict[str, Any] = {"Id": d.name, "Arn": d.inputs["arn"]}
    if d.inputs.get("roleArn"):
        target["RoleArn"] = d.inputs["roleArn"]
    pipeline = d.inputs.get("sagemakerPipelineTarget")
    if pipeline:
        target["SageMakerPipelineParameters"] = {
            "PipelineParameterList": pascal(pipeline.get("pipelineParameterLists") or [])
        }
    call(d, "arn", aws("events").put_targets, Rule=d.inputs["rule"], Targets=[target])
    return Applied(f"{d.inputs['rule']}/{d.name}", {"rule": d.inputs["rule"], "targetId": d.name})


def _delete_target(aws: AwsClients, id_: str, state: dict[str, Any]) -> None:
    rule, _, target = id_.partition("/")
    ignore_missing(aws("events").remove_targets, Rule=rule, Ids=[target])


APPLIERS = {
    "aws:cloudwatch/eventRule:EventRule": Applier(_create_rule, _delete_rule),
    "aws:cloudwatch/eventTarget:EventTarget": Applier(_create_target, _delete_target),
}
