"""What emulated AWS holds, service by service: the proof that destroy emptied it."""

from __future__ import annotations

from collections.abc import Callable

from slipway.sandbox.server import AwsClients


def _kms(aws: AwsClients) -> list[str]:
    kms = aws("kms")
    keys = [k["KeyId"] for k in kms.list_keys()["Keys"]]
    live = [
        k for k in keys if kms.describe_key(KeyId=k)["KeyMetadata"]["KeyState"] != "PendingDeletion"
    ]
    aliases = [
        a["AliasName"]
        for a in kms.list_aliases()["Aliases"]
        if not a["AliasName"].startswith("alias/aws/")
    ]
    return live + aliases


def _iam(aws: AwsClients) -> list[str]:
    iam = aws("iam")
    roles = [r["RoleName"] for r in iam.list_roles()["Roles"]]
    policies = [p["Arn"] for p in iam.list_policies(Scope="Local")["Policies"]]
    oidc = [p["Arn"] for p in iam.list_open_id_connect_providers()["OpenIDConnectProviderList"]]
    return roles + policies + oidc


def _sagemaker(aws: AwsClients) -> list[str]:
    sm = aws("sagemaker")
    return (
        [m["ModelName"] for m in sm.list_models()["Models"]]
        + [c["EndpointConfigName"] for c in sm.list_endpoint_configs()["EndpointConfigs"]]
        + [e["EndpointName"] for e in sm.list_endpoints()["Endpoints"]]
        + [
            g["ModelPackageGroupName"]
            for g in sm.list_model_package_groups()["ModelPackageGroupSummaryList"]
        ]
        + [
            j["MonitoringJobDefinitionName"]
            for j in sm.list_data_quality_job_definitions()["JobDefinitionSummaries"]
        ]
        + [p["PipelineName"] for p in sm.list_pipelines()["PipelineSummaries"]]
    )


def _others(aws: AwsClients) -> list[str]:
    scaling = aws("application-autoscaling")
    cloudwatch = aws("cloudwatch")
    return (
        [b["Name"] for b in aws("s3").list_buckets()["Buckets"]]
        + [
            t["ResourceId"]
            for t in scaling.describe_scalable_targets(ServiceNamespace="sagemaker")[
                "ScalableTargets"
            ]
        ]
        + [
            p["PolicyName"]
            for p in scaling.describe_scaling_policies(ServiceNamespace="sagemaker")[
                "ScalingPolicies"
            ]
        ]
        + [a["AlarmName"] for a in cloudwatch.describe_alarms()["MetricAlarms"]]
        + [d["DashboardName"] for d in cloudwatch.list_dashboards()["DashboardEntries"]]
        + [t["TopicArn"] for t in aws("sns").list_topics()["Topics"]]
        + [s["SubscriptionArn"] for s in aws("sns").list_subscriptions()["Subscriptions"]]
        + [r["repositoryName"] for r in aws("ecr").describe_repositories()["repositories"]]
        + aws("eks").list_clusters()["clusters"]
        + [r["Name"] for r in aws("events").list_rules()["Rules"]]
    )


LISTERS: tuple[Callable[[AwsClients], list[str]], ...] = (_kms, _iam, _sagemaker, _others)


def emulator_contents(aws: AwsClients) -> list[str]:
    """Identifiers of every resource moto holds in the services the sandbox uses."""
    return [item for lister in LISTERS for item in lister(aws)]
