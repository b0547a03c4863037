"""The platform of one stack, composed from slipway's components as its config says.

``compose(config, cli)`` declares the AWS foundation every flavor shares (artifact store,
model registry, roles; with monitoring, the alarm topic) and the components of the
compute flavor, all named after the stack's prefix as the generated program always named
them, so no URN changes. It returns them in a ``Platform``: ``export()`` publishes the
stack outputs that the workflows and the deploy runtime read, and a project adds its own
resources next to the components (``platform.store.bucket_arn``, ``platform.roles``...).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

import pulumi

from slipway.aws import (
    ArtifactStore,
    ArtifactStoreArgs,
    Endpoint,
    EndpointArgs,
    MonitoredEndpoint,
    Monitoring,
    MonitoringArgs,
    Registry,
    RegistryArgs,
    Roles,
    RolesArgs,
    Tracking,
    TrackingArgs,
    TrackingClient,
)
from slipway.aws.api_identity import AUDIENCE_CLAIM, ApiIdentity, ApiIdentityArgs
from slipway.aws.endpoint import DataQuality
from slipway.aws.public_api import PublicApi, PublicApiArgs
from slipway.aws.training import TrainingPipelines, TrainingPipelinesArgs
from slipway.names import (
    BATCH_CRONJOB,
    IMAGE_CONFIG_DIR,
    TRAINING_CRONJOB,
    TRAINING_STARTER_GROUP,
)
from slipway.platform.config import ConfigError, EksOptions, SageMakerOptions, StackConfig
from slipway.platform.public_api import PublicApiOptions

if TYPE_CHECKING:  # the eks extra: imported only when compute is eks
    from slipway import eks


@dataclass
class Platform:
    """The components of one stack (``None`` where the config leaves one out)."""

    config: StackConfig
    store: ArtifactStore
    registry: Registry
    roles: Roles
    monitoring: Monitoring | None
    tracking: Tracking | eks.Tracking | None = None
    endpoint: Endpoint | None = None
    """SageMaker only."""
    network: eks.Network | None = None
    """EKS only, as are ``cluster``, ``serving`` and ``observability``."""
    cluster: eks.Cluster | None = None
    serving: eks.ModelServing | None = None
    training: eks.ModelTraining | None = None
    """EKS only: the steps as Jobs (``pipelines`` on SageMaker)."""
    pipelines: TrainingPipelines | None = None
    observability: eks.Observability | None = None
    serving_access: eks.ServingAccess | None = None
    """EKS only: the model server's NetworkPolicy."""
    identity: ApiIdentity | None = None
    """With ``slipway:publicApi`` and no issuer: the stack's Cognito token issuer."""
    public_api: PublicApi | eks.PublicIngress | None = None
    """With ``slipway:publicApi``: the HTTP API (SageMaker) or the ALB Ingress (EKS)."""
    outputs: dict[str, Any] = field(default_factory=dict)
    """Stack output name -> value; names are a contract with the workflows and runtime."""

    def export(self) -> None:
        """``pulumi.export`` every stack output."""
        for name, value in self.outputs.items():
            pulumi.export(name, value)


def compose(config: StackConfig, cli: str) -> Platform:
    """Declare the stack's components; ``cli`` is the project's command (the EKS drift
    CronJob runs ``<cli> monitor``)."""
    ctx = config.context
    name = ctx.prefix
    store = ArtifactStore(name, ArtifactStoreArgs(ctx))
    registry = Registry(name, RegistryArgs(ctx))
    roles = Roles(
        name,
        RolesArgs(
            ctx,
            bucket_arn=store.bucket_arn,
            kms_key_arn=store.kms_key_arn,
            model_package_group_arn=registry.group_arn,
            github=config.github,
            public_api=config.public_api is not None,
        ),
    )
    # every later component creates its roles with the stack's permissions boundary
    config = replace(config, context=roles.context)
    platform = Platform(config, store, registry, roles, monitoring=None)
    platform.outputs = {
        "preset": ctx.preset.name,
        "bucketName": store.bucket_name,
        "kmsKeyArn": store.kms_key_arn,
        "modelPackageGroupName": registry.group_name,
        "executionRoleArn": roles.execution_role_arn,
        "trainingRoleArn": roles.training_role_arn,
        "inferenceRoleArn": roles.inference_role_arn,
    }
    if config.github is not None:
        platform.outputs["deployRoleArn"] = roles.deploy_role_arn
        platform.outputs["candidateRoleArn"] = roles.candidate_role_arn
        platform.outputs["previewRoleArn"] = roles.preview_role_arn
        if config.monitoring:
            platform.outputs["monitorRoleArn"] = roles.monitor_role_arn
    if config.sagemaker is not None:
        _sagemaker(platform, config.sagemaker)
    if config.eks is not None:
        config_file = f"{IMAGE_CONFIG_DIR}/pipeline.yaml"  # the image's copy (Dockerfile)
        _eks(platform, config.eks, [cli, "monitor", "--config", config_file])
    if platform.monitoring is not None:
        platform.outputs["alarmTopicArn"] = platform.monitoring.topic_arn
    return platform


def _sagemaker(platform: Platform, options: SageMakerOptions) -> None:
    """Managed MLflow, the endpoint and, with monitoring, its alarms, dashboard and (realtime)
    Model Monitor schedule."""
    config, store, roles = platform.config, platform.store, platform.roles
    ctx, name = config.context, config.context.prefix
    realtime = options.endpoint == "realtime"
    platform.tracking = Tracking(
        name,
        TrackingArgs(
            ctx,
            artifact_store_uri=store.uri("mlflow"),
            role_arn=roles.execution_role_arn,
            clients=_tracking_clients(roles),
        ),
    )
    # The endpoint itself is the deploy runtime's: the first release creates it.
    endpoint = platform.endpoint = Endpoint(
        name,
        EndpointArgs(
            ctx,
            kind=options.endpoint,
            role_arn=roles.inference_role_arn,
            kms_key_arn=store.kms_key_arn,
            capture_uri=store.uri("capture") if realtime else None,
            data_quality=DataQuality(
                baseline_uri=store.uri("monitoring", options.baseline_key),
                reports_uri=store.uri("monitoring", "reports"),
                role_arn=roles.execution_role_arn,
            )
            if config.monitoring and realtime
            else None,
        ),
    )
    platform.outputs["trackingUri"] = platform.tracking.tracking_uri
    platform.outputs["endpointName"] = endpoint.endpoint_name
    platform.outputs["modelRepositoryUrl"] = endpoint.repository_url
    platform.outputs["serving"] = endpoint.spec
    if config.public_api is not None:
        tokens = _tokens(platform, config.public_api)
        platform.public_api = PublicApi(
            name,
            PublicApiArgs(
                ctx,
                endpoint_name=endpoint.endpoint_name,
                issuer=tokens.issuer,
                audiences=tokens.audiences,
                scopes=tokens.scopes,
            ),
        )
        platform.outputs["publicApiUrl"] = platform.public_api.url
    if config.monitoring:
        _sagemaker_monitoring(platform, options)
    if options.model_image_tag is not None:  # bootstrap: no image in the repository yet
        _sagemaker_pipelines(platform, options)


def _sagemaker_pipelines(platform: Platform, options: SageMakerOptions) -> None:
    """The training and batch pipelines, scheduled and started by the retrain alarms (only
    once ``modelImageTag`` names their image)."""
    config, store, roles, registry = (
        platform.config,
        platform.store,
        platform.roles,
        platform.registry,
    )
    assert platform.endpoint is not None and platform.tracking is not None
    assert options.model_image_tag is not None
    ctx = config.context
    pipelines = platform.pipelines = TrainingPipelines(
        ctx.prefix,
        TrainingPipelinesArgs(
            ctx,
            image_uri=pulumi.Output.concat(
                platform.endpoint.repository_url, ":", options.model_image_tag
            ),
            role_arn=roles.training_role_arn,
            bucket_name=store.bucket_name,
            bucket_arn=store.bucket_arn,
            kms_key_arn=store.kms_key_arn,
            tracking_uri=platform.tracking.tracking_uri,
            model_package_group_name=registry.group_name,
            model_package_group_arn=registry.group_arn,
            retrain_alarm_arns=platform.monitoring.retrain_alarm_arns
            if platform.monitoring is not None
            else (),
            starter_role_arn=roles.candidate_role_arn,
        ),
    )
    platform.outputs["trainingPipelineName"] = pipelines.training_pipeline_name
    platform.outputs["batchPipelineName"] = pipelines.batch_pipeline_name


def _sagemaker_monitoring(platform: Platform, options: SageMakerOptions) -> None:
    """Alarms on the endpoint, drift and model quality; the dashboard."""
    config, endpoint = platform.config, platform.endpoint
    assert endpoint is not None
    ctx, name = config.context, config.context.prefix
    platform.monitoring = Monitoring(
        name,
        MonitoringArgs(
            ctx,
            alarm_email=str(config.alarm_email),
            endpoint=MonitoredEndpoint(
                endpoint.endpoint_name, options.endpoint, endpoint.variant_names
            ),
            drift_model=config.drift_model,
        ),
    )
    platform.outputs["dashboardUrl"] = platform.monitoring.dashboard_url


def _tracking_clients(roles: Roles) -> list[TrackingClient]:
    """release.yml trains and registers (job `candidate`, candidate role), records the
    approval and reads the champion (job `release`, deploy role); drift.yml reads the
    champion's profile (monitor role)."""
    clients = []
    if roles.candidate_role_arn is not None:
        clients.append(TrackingClient("candidate", roles.candidate_role_arn, "write"))
    if roles.deploy_role_arn is not None:
        clients.append(TrackingClient("deploy", roles.deploy_role_arn, "manage"))
    if roles.monitor_role_arn is not None:
        clients.append(TrackingClient("monitor", roles.monitor_role_arn, "read"))
    return clients


@dataclass(frozen=True)
class _Tokens:
    """The bearer tokens the public API accepts."""

    issuer: pulumi.Input[str]
    jwks_uri: pulumi.Input[str] | None
    audience_claim: str
    """``aud``; ``client_id`` for the stack's Cognito pool (its access tokens carry no aud)."""
    audiences: list[pulumi.Input[str]]
    scopes: list[pulumi.Input[str]]


def _tokens(platform: Platform, options: PublicApiOptions) -> _Tokens:
    """The configured issuer's tokens, or the stack's own Cognito pool (created here)."""
    if not options.cognito:
        return _Tokens(
            str(options.issuer),
            options.jwks_uri,
            "aud",
            list(options.audiences),
            list(options.scopes),
        )
    ctx = platform.config.context
    identity = platform.identity = ApiIdentity(ctx.prefix, ApiIdentityArgs(ctx))
    platform.outputs |= {
        "publicApiTokenUrl": identity.token_url,
        "publicApiClientId": identity.audience,
        "publicApiScope": identity.scope,
    }
    return _Tokens(
        identity.issuer, identity.jwks_uri, AUDIENCE_CLAIM, [identity.audience], [identity.scope]
    )


def _eks(platform: Platform, options: EksOptions, monitor_command: Sequence[str]) -> None:
    """Network, cluster (with the GitHub roles' access), MLflow, the model server and, with
    monitoring, the alarm topic and the Prometheus stack with the drift CronJob."""
    try:
        from slipway import eks
        from slipway.eks.cluster import CiAccess
    except ImportError as exc:
        raise ConfigError(
            f"slipway:compute: eks needs slipway-mlops[eks] installed ({exc.name} is missing)"
        ) from None
    config, store, roles = platform.config, platform.store, platform.roles
    ctx, name = config.context, config.context.prefix
    if config.monitoring:
        platform.monitoring = Monitoring(
            name, MonitoringArgs(ctx, alarm_email=str(config.alarm_email))
        )
    ci_access = None
    if config.github is not None:
        assert roles.deploy_role_arn is not None and roles.preview_role_arn is not None
        ci_access = CiAccess(
            roles.deploy_role_arn,
            roles.preview_role_arn,
            roles.monitor_role_arn,
            roles.candidate_role_arn,
        )
    network = platform.network = eks.Network(name, eks.NetworkArgs(ctx))
    cluster = platform.cluster = eks.Cluster(
        name,
        eks.ClusterArgs(
            ctx,
            network=network,
            kms_key_arn=store.kms_key_arn,
            api_access_cidrs=options.api_access_cidrs,
            ci_access=ci_access,
        ),
    )
    tracking = platform.tracking = eks.Tracking(
        name,
        eks.TrackingArgs(
            ctx,
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
    serving = platform.serving = eks.ModelServing(
        name,
        eks.ModelServingArgs(
            ctx,
            provider=cluster.provider,
            oidc=cluster.oidc,
            bucket_arn=store.bucket_arn,
            kms_key_arn=store.kms_key_arn,
            image_tag=options.model_image_tag,
            model_uri=options.model_uri,
            tracking_uri=tracking.tracking_uri,
            capture_uri=store.uri("capture"),
        ),
    )
    from slipway.eks.observability import DRIFT_JOB

    # bootstrap: until modelImageTag is set there is no image, hence no training or batch Jobs
    training = platform.training = (
        eks.ModelTraining(
            name,
            eks.ModelTrainingArgs(
                ctx,
                provider=cluster.provider,
                oidc=cluster.oidc,
                image=serving.image,
                bucket_name=store.bucket_name,
                bucket_arn=store.bucket_arn,
                kms_key_arn=store.kms_key_arn,
                tracking_uri=tracking.tracking_uri,
                retrain_from=eks.RetrainFrom(serving.namespace, DRIFT_JOB)
                if config.monitoring
                else None,
                starter_group=TRAINING_STARTER_GROUP
                if roles.candidate_role_arn is not None
                else None,
            ),
        )
        if serving.image is not None
        else None
    )
    platform.serving_access = eks.ServingAccess(
        name,
        eks.ServingAccessArgs(
            ctx,
            provider=cluster.provider,
            serving=serving,
            load_balancer_cidrs=network.public_cidrs if config.public_api is not None else (),
        ),
    )
    if config.public_api is not None:
        _public_ingress(platform, config.public_api)
    if training is not None:
        platform.outputs |= {
            "trainingNamespace": training.namespace,
            "trainingCronJob": TRAINING_CRONJOB,
            "batchCronJob": BATCH_CRONJOB,
        }
    platform.outputs |= {
        "clusterName": cluster.cluster_name,
        "kubeconfig": cluster.kubeconfig,
        "trackingUri": tracking.tracking_uri,
        "modelRepositoryUrl": serving.repository_url,
        "modelServiceName": serving.service_name,
    }
    if platform.public_api is not None:
        platform.outputs["publicApiUrl"] = platform.public_api.url
    if platform.monitoring is None:
        return
    platform.observability = eks.Observability(
        name,
        eks.ObservabilityArgs(
            ctx,
            provider=cluster.provider,
            oidc=cluster.oidc,
            serving=serving,
            bucket_arn=store.bucket_arn,
            kms_key_arn=store.kms_key_arn,
            alarm_topic_arn=platform.monitoring.topic_arn,
            capture_uri=store.uri("capture"),
            tracking_uri=tracking.tracking_uri,
            monitor_command=list(monitor_command),
            retrain_job=f"{training.namespace}/{TRAINING_CRONJOB}" if training else None,
            storage_class=cluster.storage_class,
        ),
    )
    platform.outputs["grafanaAdminPassword"] = platform.observability.grafana_admin_password


def _public_ingress(platform: Platform, options: PublicApiOptions) -> None:
    """The ALB Ingress of the public API (its load balancer controller included)."""
    from slipway import eks

    ctx = platform.config.context
    assert platform.network and platform.cluster and platform.serving
    tokens = _tokens(platform, options)
    assert tokens.jwks_uri is not None and options.certificate_arn is not None
    platform.public_api = eks.PublicIngress(
        ctx.prefix,
        eks.PublicIngressArgs(
            ctx,
            provider=platform.cluster.provider,
            oidc=platform.cluster.oidc,
            serving=platform.serving,
            vpc_id=platform.network.vpc_id,
            public_subnet_ids=platform.network.public_subnet_ids,
            cluster_security_group_id=platform.cluster.security_group_id,
            certificate_arn=options.certificate_arn,
            tokens=eks.TokenRules(
                issuer=tokens.issuer,
                jwks_uri=tokens.jwks_uri,
                audience_claim=tokens.audience_claim,
                audience=tokens.audiences[0],
                scope=tokens.scopes[0] if tokens.scopes else None,
            ),
            host=options.host,
            waf=options.waf,
        ),
    )
