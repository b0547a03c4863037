"""Pulumi program of {{ cookiecutter.project_slug }}: thin composition of slipway components.

Options baked in: compute={{ cookiecutter.compute }}, endpoint={{ cookiecutter.endpoint }},
monitoring={{ cookiecutter.monitoring }}, ci={{ cookiecutter.ci }}. Every value comes from
Pulumi.<stack>.yaml; environment defaults come from the slipway preset it names.
"""

import pulumi
from slipway.aws import (
    ArtifactStore,
    ArtifactStoreArgs,
{%- if cookiecutter.compute == "sagemaker" %}
    Endpoint,
    EndpointArgs,
{%- endif %}
{%- if cookiecutter.ci == "github" %}
    GithubDeployment,
{%- endif %}
{%- if cookiecutter.monitoring == "yes" %}
{%- if cookiecutter.compute == "sagemaker" %}
    MonitoredEndpoint,
{%- endif %}
    Monitoring,
    MonitoringArgs,
{%- endif %}
    Registry,
    RegistryArgs,
    Roles,
    RolesArgs,
    StackContext,
{%- if cookiecutter.compute == "sagemaker" %}
    Tracking,
    TrackingArgs,
{%- endif %}
)
{%- if cookiecutter.compute == "sagemaker" %}
from slipway.aws.endpoint import prebuilt_image
{%- endif %}
{%- if cookiecutter.monitoring == "yes" and cookiecutter.compute == "sagemaker" and cookiecutter.endpoint == "realtime" %}
from slipway.aws.monitoring import DataQuality
{%- endif %}
{%- if cookiecutter.compute == "eks" %}
from slipway.eks import (
    Cluster,
    ClusterArgs,
    ModelServing,
    ModelServingArgs,
    Network,
    NetworkArgs,
{%- if cookiecutter.monitoring == "yes" %}
    Observability,
    ObservabilityArgs,
{%- endif %}
    Tracking,
    TrackingArgs,
)
{%- if cookiecutter.ci == "github" %}
from slipway.eks.cluster import CiAccess
{%- endif %}
{%- endif %}
from slipway.presets import load_preset

config = pulumi.Config("slipway")
context = StackContext(
    project=pulumi.get_project(),
    environment=pulumi.get_stack(),
    owner=config.require("owner"),
    preset=load_preset(config.require("preset")),
)
name = context.prefix

store = ArtifactStore(name, ArtifactStoreArgs(context))
registry = Registry(name, RegistryArgs(context))
roles = Roles(
    name,
    RolesArgs(
        context,
        bucket_arn=store.bucket_arn,
        kms_key_arn=store.kms_key_arn,
        model_package_group_arn=registry.group_arn,
{%- if cookiecutter.ci == "github" %}
        github=GithubDeployment(
            config.require("githubRepository"),
            # The account's GitHub OIDC provider, when another stack already created it.
            oidc_provider_arn=config.get("githubOidcProviderArn"),
            drift_monitor={{ "True" if cookiecutter.monitoring == "yes" else "False" }},
{%- if cookiecutter.compute == "eks" %}
            eks_cluster=True,
{%- endif %}
        ),
{%- endif %}
    ),
)
{%- if cookiecutter.compute == "sagemaker" %}
tracking = Tracking(
    name,
    TrackingArgs(
        context, artifact_store_uri=store.uri("mlflow"), role_arn=roles.execution_role_arn
    ),
)
endpoint = Endpoint(
    name,
    EndpointArgs(
        context,
        kind="{{ cookiecutter.endpoint }}",
        image_uri=config.get("modelImage")
        or prebuilt_image(config.require("modelImageRepository"), config.require("modelImageTag")),
        model_data_url=store.uri("models", config.require("modelDataKey")),
        role_arn=roles.inference_role_arn,
        kms_key_arn=store.kms_key_arn,
{%- if cookiecutter.endpoint == "realtime" %}
        capture_uri=store.uri("capture"),
        model_monitor={{ "True" if cookiecutter.monitoring == "yes" else "False" }},
{%- endif %}
    ),
)
{%- endif %}
{%- if cookiecutter.monitoring == "yes" %}
monitoring = Monitoring(
    name,
    MonitoringArgs(
        context,
        alarm_email=config.require("alarmEmail"),
{%- if cookiecutter.compute == "sagemaker" %}
        endpoint=MonitoredEndpoint(endpoint.endpoint_name, "{{ cookiecutter.endpoint }}", endpoint.variant_names),
{%- endif %}
{%- if cookiecutter.compute == "sagemaker" and cookiecutter.ci == "github" %}
        # drift.yml publishes DriftedShare under config/pipeline.yaml's model.name; set
        # slipway:modelName if you renamed the model there.
        drift_model=config.get("modelName") or "{{ cookiecutter.project_slug }}",
{%- endif %}
{%- if cookiecutter.compute == "sagemaker" and cookiecutter.endpoint == "realtime" %}
        data_quality=DataQuality(
            baseline_uri=store.uri("monitoring", config.require("baselineKey")),
            reports_uri=store.uri("monitoring", "reports"),
            role_arn=roles.execution_role_arn,
            kms_key_arn=store.kms_key_arn,
        ),
{%- endif %}
    ),
)
{%- endif %}
{%- if cookiecutter.compute == "eks" %}
network = Network(name, NetworkArgs(context))
cluster = Cluster(
    name,
    ClusterArgs(
        context,
        network=network,
        kms_key_arn=store.kms_key_arn,
        api_access_cidrs=config.get_object("apiAccessCidrs") or [],
{%- if cookiecutter.ci == "github" %}
        # Kubernetes access of the GitHub roles: deploy (cluster admin), drift check, preview.
        ci_access=CiAccess(roles.deploy_role_arn, roles.preview_role_arn, roles.monitor_role_arn),
{%- endif %}
    ),
)
tracking = Tracking(
    name,
    TrackingArgs(
        context,
        provider=cluster.provider,
        oidc=cluster.oidc,
        vpc_id=network.vpc_id,
        private_subnet_ids=network.private_subnet_ids,
        cluster_security_group_id=cluster.security_group_id,
        bucket_name=store.bucket_name,
        bucket_arn=store.bucket_arn,
        kms_key_arn=store.kms_key_arn,
    ),
)
serving = ModelServing(
    name,
    ModelServingArgs(
        context,
        provider=cluster.provider,
        oidc=cluster.oidc,
        bucket_arn=store.bucket_arn,
        kms_key_arn=store.kms_key_arn,
        image_tag=config.require("modelImageTag"),
        model_uri=config.require("modelUri"),
        tracking_uri=tracking.tracking_uri,
        capture_uri=store.uri("capture"),
    ),
)
{%- if cookiecutter.monitoring == "yes" %}
observability = Observability(
    name,
    ObservabilityArgs(
        context,
        provider=cluster.provider,
        oidc=cluster.oidc,
        serving=serving,
        bucket_arn=store.bucket_arn,
        kms_key_arn=store.kms_key_arn,
        alarm_topic_arn=monitoring.topic_arn,
        capture_uri=store.uri("capture"),
        tracking_uri=tracking.tracking_uri,
        monitor_command=["{{ cookiecutter.package_name }}", "monitor"],
        storage_class=cluster.storage_class,
    ),
)
{%- endif %}
{%- endif %}

pulumi.export("preset", context.preset.name)
pulumi.export("bucketName", store.bucket_name)
pulumi.export("kmsKeyArn", store.kms_key_arn)
pulumi.export("modelPackageGroupName", registry.group_name)
pulumi.export("executionRoleArn", roles.execution_role_arn)
pulumi.export("trainingRoleArn", roles.training_role_arn)
pulumi.export("inferenceRoleArn", roles.inference_role_arn)
{%- if cookiecutter.ci == "github" %}
pulumi.export("deployRoleArn", roles.deploy_role_arn)
pulumi.export("previewRoleArn", roles.preview_role_arn)
{%- if cookiecutter.monitoring == "yes" %}
pulumi.export("monitorRoleArn", roles.monitor_role_arn)
{%- endif %}
{%- endif %}
{%- if cookiecutter.compute == "sagemaker" %}
pulumi.export("trackingUri", tracking.tracking_uri)
pulumi.export("endpointName", endpoint.endpoint_name)
{%- endif %}
{%- if cookiecutter.compute == "eks" %}
pulumi.export("clusterName", cluster.cluster_name)
pulumi.export("kubeconfig", cluster.kubeconfig)
pulumi.export("trackingUri", tracking.tracking_uri)
pulumi.export("modelRepositoryUrl", serving.repository_url)
pulumi.export("modelServiceName", serving.service_name)
{%- if cookiecutter.monitoring == "yes" %}
pulumi.export("grafanaAdminPassword", observability.grafana_admin_password)
{%- endif %}
{%- endif %}
{%- if cookiecutter.monitoring == "yes" %}
pulumi.export("alarmTopicArn", monitoring.topic_arn)
{%- if cookiecutter.compute == "sagemaker" %}
pulumi.export("dashboardUrl", monitoring.dashboard_url)
{%- endif %}
{%- endif %}
