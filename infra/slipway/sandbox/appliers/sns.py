"""SNS topic and subscription."""

from __future__ import annotations

from typing import Any

from slipway.sandbox.appliers.base import Applied, Applier, Declared, call, ignore_missing, tag_list
from slipway.sandbox.server import AwsClients


def _create_topic(aws: AwsClients, d: Declared) -> Applied:
    attributes = {}
    if d.inputs.get("kmsMasterKeyId"):
        attributes["KmsMasterKeyId"] = d.inputs["kmsMasterKeyId"]
    arn = call(
        d, "name", aws("sns").create_topic, Name=d.physical, Attributes=attributes, Tags=tag_list(d)
    )["TopicArn"]
    return Applied(arn, {"name": d.physical, "arn": arn})


def _delete_topic(aws: AwsClients, id_: str, state: dict[str, Any]) -> None:
    ignore_missing(aws("sns").delete_topic, TopicArn=id_)


def _create_subscription(aws: AwsClients, d: Declared) -> Applied:
    arn = call(
        d,
        "endpoint",
        aws("sns").subscribe,
        TopicArn=d.inputs["topic"],
        Protocol=d.inputs["protocol"],
        Endpoint=d.inputs["endpoint"],
        ReturnSubscriptionArn=True,
    )["SubscriptionArn"]
    return Applied(arn, {"arn": arn})


def _delete_subscription(aws: AwsClients, id_: str, state: dict[str, Any]) -> None:
    ignore_missing(aws("sns").unsubscribe, SubscriptionArn=id_)


APPLIERS = {
    "aws:sns/topic:Topic": Applier(_create_topic, _delete_topic),
    "aws:sns/topicSubscription:TopicSubscription": Applier(
        _create_subscription, _delete_subscription
    ),
}
