"""Typed loader for the stack presets in ``stacks/`` (dev, staging, prod).

A preset holds every environment-dependent default the Pulumi components use:
sizes, autoscaling bounds, retention, deletion protection, capture sampling and
alarm thresholds. Components read them from here, never from literals.
A bad value fails with ``<file>: <key>: <rule>``.
"""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from slipway.resources import stacks_dir

PRESET_NAMES = ("dev", "staging", "prod")


class PresetError(ValueError):
    """A preset file is missing, unreadable or holds an invalid value."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def _within(allowed: tuple[str, ...], **chosen: str) -> None:
    """Each chosen size is one of ``allowed`` (the list the policy pack enforces)."""
    for field, value in chosen.items():
        if value not in allowed:
            raise ValueError(f"{field}: {value} is not in allowed_instance_types {list(allowed)}")


class Retention(_Strict):
    capture_days: int = Field(ge=1, le=3650)
    noncurrent_version_days: int = Field(ge=1, le=3650)
    log_days: Literal[1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1827, 3653]


class Autoscaling(_Strict):
    min_capacity: int = Field(ge=1, le=100)
    max_capacity: int = Field(ge=1, le=100)
    target_invocations_per_instance: int = Field(ge=1, le=100_000)
    scale_in_cooldown_seconds: int = Field(ge=0, le=3600)
    scale_out_cooldown_seconds: int = Field(ge=0, le=3600)

    @model_validator(mode="after")
    def _bounds(self) -> Autoscaling:
        if self.max_capacity < self.min_capacity:
            raise ValueError(
                f"max_capacity ({self.max_capacity}) must be >= min_capacity ({self.min_capacity})"
            )
        return self


class Serverless(_Strict):
    # AWS: memory 1024-6144 MB in 1 GB steps, max concurrency 1-200.
    memory_size_mb: Literal[1024, 2048, 3072, 4096, 5120, 6144]
    max_concurrency: int = Field(ge=1, le=200)


class Deployment(_Strict):
    """Blue/green traffic shifting of a release (slipway.deploy.rollout).

    AWS requires a canary to be at most 50% of the variant's instances
    (TrafficRoutingConfig.CanarySize), so ``canary`` needs a fleet of two or more;
    ``all_at_once`` shifts every request at once and keeps the old fleet for ``bake_seconds``
    while the alarms watch (TerminationWaitInSeconds, 0-3600).
    """

    traffic: Literal["all_at_once", "canary"]
    bake_seconds: int = Field(ge=0, le=3600)
    canary_percent: int = Field(default=0, ge=0, le=50)

    @model_validator(mode="after")
    def _canary(self) -> Deployment:
        if self.traffic == "canary" and not self.canary_percent:
            raise ValueError("canary_percent: a canary needs 1-50 (percent of capacity)")
        return self


class SageMaker(_Strict):
    instance_type: str = Field(pattern=r"^ml\.[a-z0-9]+\.[a-z0-9]+$")
    initial_instance_count: int = Field(ge=1, le=100)
    autoscaling: Autoscaling
    deployment: Deployment
    serverless: Serverless
    data_capture_sampling_percent: int = Field(ge=0, le=100)
    monitoring_instance_type: str = Field(pattern=r"^ml\.[a-z0-9]+\.[a-z0-9]+$")
    monitoring_schedule: str = Field(pattern=r"^cron\(.+\)$")
    tracking_server_size: Literal["Small", "Medium", "Large"]
    # "mlflow_app": serverless MLflow App (no idle hourly charge); "tracking_server": sized
    # MLflow tracking server (billed per hour). See docs/tracking-cost.md.
    tracking: Literal["mlflow_app", "tracking_server"]
    # Instance types this environment may run (endpoint and monitoring jobs); the policy pack
    # refuses any other (slipway.policies, docs/policy-pack.md).
    allowed_instance_types: tuple[str, ...] = Field(min_length=1)

    @model_validator(mode="after")
    def _allowed(self) -> SageMaker:
        _within(
            self.allowed_instance_types,
            instance_type=self.instance_type,
            monitoring_instance_type=self.monitoring_instance_type,
        )
        return self

    @model_validator(mode="after")
    def _canary_fits(self) -> SageMaker:
        smallest = min(self.initial_instance_count, self.autoscaling.min_capacity)
        percent = self.deployment.canary_percent
        if self.deployment.traffic == "canary" and 2 * -(-smallest * percent // 100) > smallest:
            raise ValueError(
                f"deployment: a {percent}% canary does not fit a {smallest}-instance fleet (AWS: "
                "at most 50% of the variant's instances); use traffic: all_at_once"
            )
        return self


class NodeGroup(_Strict):
    instance_types: tuple[str, ...] = Field(min_length=1)
    min_size: int = Field(ge=0, le=100)
    desired_size: int = Field(ge=0, le=100)
    max_size: int = Field(ge=1, le=100)

    @model_validator(mode="after")
    def _bounds(self) -> NodeGroup:
        if not self.min_size <= self.desired_size <= self.max_size:
            raise ValueError("sizes must satisfy min_size <= desired_size <= max_size")
        return self


class Resources(_Strict):
    """Kubernetes requests and limits of one container."""

    cpu_request: str = Field(pattern=r"^\d+(\.\d+)?m?$")
    cpu_limit: str = Field(pattern=r"^\d+(\.\d+)?m?$")
    memory_request: str = Field(pattern=r"^\d+(Mi|Gi)$")
    memory_limit: str = Field(pattern=r"^\d+(Mi|Gi)$")


class Serving(Resources):
    min_replicas: int = Field(ge=1, le=100)
    max_replicas: int = Field(ge=1, le=100)
    target_cpu_percent: int = Field(ge=1, le=100)

    @model_validator(mode="after")
    def _bounds(self) -> Serving:
        if self.max_replicas < self.min_replicas:
            raise ValueError("max_replicas must be >= min_replicas")
        return self


class Eks(_Strict):
    # kubernetes-validate ships offline schemas for 1.25-1.37; EKS standard support is the
    # newest few minor versions: keep this in both ranges.
    kubernetes_version: str = Field(pattern=r"^1\.(2[5-9]|3[0-7])$")
    nat_gateways: Literal["one", "per_az"]
    availability_zones: int = Field(ge=2, le=6)
    node_group: NodeGroup
    serving: Serving
    database_instance_class: str = Field(pattern=r"^db\.[a-z0-9]+\.[a-z0-9]+$")
    database_storage_gb: int = Field(ge=20, le=65536)
    database_multi_az: bool
    # Requests and limits of the MLflow tracking server pod.
    mlflow_resources: Resources
    database_backup_days: int = Field(ge=1, le=35)
    # Helm chart versions (community-charts/mlflow, prometheus-community/kube-prometheus-stack
    # and prometheus-community/prometheus-pushgateway).
    mlflow_chart_version: str = Field(pattern=r"^\d+\.\d+\.\d+$")
    prometheus_chart_version: str = Field(pattern=r"^\d+\.\d+\.\d+$")
    pushgateway_chart_version: str = Field(pattern=r"^\d+\.\d+\.\d+$")
    # aws/eks-charts aws-load-balancer-controller (the public API's Ingress; 3.x serves
    # the `jwt-validation` annotation, added in controller v2.15.0).
    lb_controller_chart_version: str = Field(pattern=r"^\d+\.\d+\.\d+$")
    prometheus_retention_days: int = Field(ge=1, le=365)
    # Prometheus' EBS volume (gp3, the project key); keep it >= 2 GiB per retention day.
    prometheus_storage_gb: int = Field(ge=10, le=16384)
    # Kubernetes CronJob schedule (five fields) of the drift check on captured requests.
    monitor_schedule: str = Field(pattern=r"^(\S+\s+){4}\S+$")
    # Alert when no drift result was pushed for this long (a few missed schedule runs).
    drift_stale_hours: int = Field(ge=1, le=24 * 31)
    ecr_keep_images: int = Field(ge=1, le=1000)
    # Share of answered /invocations requests the model server writes to data-capture/.
    capture_sampling_percent: int = Field(ge=0, le=100)
    # EC2 node types and RDS classes this environment may run; the policy pack refuses others.
    allowed_instance_types: tuple[str, ...] = Field(min_length=1)

    @model_validator(mode="after")
    def _allowed(self) -> Eks:
        _within(
            self.allowed_instance_types,
            database_instance_class=self.database_instance_class,
            **{
                f"node_group.instance_types[{i}]": t
                for i, t in enumerate(self.node_group.instance_types)
            },
        )
        return self


class SageMakerTraining(_Strict):
    """The SageMaker Pipeline's jobs (slipway.aws.training): sizes, spot, limits, schedule.

    Instance types must be in ``sagemaker.allowed_instance_types`` and be ones the job type
    accepts (tests/test_presets.py checks botocore's ``TrainingInstanceType`` and
    ``ProcessingInstanceType``).
    With ``spot``, SageMaker waits up to ``max_wait_minutes`` for capacity (it must be at
    least ``max_run_minutes``: CreateTrainingJob's StoppingCondition rule).
    """

    instance_type: str = Field(pattern=r"^ml\.[a-z0-9]+\.[a-z0-9]+$")
    processing_instance_type: str = Field(pattern=r"^ml\.[a-z0-9]+\.[a-z0-9]+$")
    batch_instance_type: str = Field(pattern=r"^ml\.[a-z0-9]+\.[a-z0-9]+$")
    volume_gb: int = Field(ge=1, le=16384)
    spot: bool
    max_run_minutes: int = Field(ge=5, le=7 * 24 * 60)
    max_wait_minutes: int = Field(ge=5, le=7 * 24 * 60)
    # How long SageMaker reuses a training step run on the same data, image and config.
    cache_days: int = Field(ge=1, le=365)
    # EventBridge schedule of the training pipeline; null: none (retrain on drift or by hand).
    schedule: str | None = Field(pattern=r"^(cron|rate)\(.+\)$")

    @model_validator(mode="after")
    def _limits(self) -> SageMakerTraining:
        if self.spot and self.max_wait_minutes < self.max_run_minutes:
            raise ValueError(
                f"max_wait_minutes ({self.max_wait_minutes}) must be >= max_run_minutes "
                f"({self.max_run_minutes}) with spot training"
            )
        return self


class EksTraining(_Strict):
    """The Kubernetes Jobs of the pipeline (slipway.eks.training)."""

    # Kubernetes CronJob schedule (five fields); null: none (retrain on drift or by hand).
    schedule: str | None = Field(pattern=r"^(\S+\s+){4}\S+$")
    resources: Resources
    # activeDeadlineSeconds of the Job, in minutes.
    deadline_minutes: int = Field(ge=5, le=7 * 24 * 60)


class Training(_Strict):
    """Training, evaluation and batch scoring on the stack's engine (docs/engines.md)."""

    sagemaker: SageMakerTraining
    eks: EksTraining


class PublicApi(_Strict):
    """The optional public API (``slipway:publicApi``, docs/public-api.md)."""

    # API Gateway stage throttling: steady requests per second and burst (token bucket).
    throttle_rate: int = Field(ge=1, le=10_000)
    throttle_burst: int = Field(ge=1, le=5_000)
    # AWS WAF rate-based rule (EKS with waf): requests per client IP per 5 minutes.
    waf_rate_limit: int = Field(ge=10, le=2_000_000_000)
    # Lifetime of the access tokens of the stack's Cognito app client.
    token_minutes: int = Field(ge=5, le=1440)


class Alarms(_Strict):
    latency_p99_ms: int = Field(ge=1)
    errors_5xx: int = Field(ge=0)
    errors_4xx: int = Field(ge=0)
    cpu_percent: int = Field(ge=1, le=100)
    memory_percent: int = Field(ge=1, le=100)
    period_seconds: Literal[60, 300, 900, 3600]
    evaluation_periods: int = Field(ge=1, le=100)
    drift_score: float = Field(gt=0, le=1)
    # Model quality on labelled captures (slipway.quality): alarm (and retrain) below these.
    min_accuracy: float = Field(gt=0, le=1)
    min_roc_auc: float = Field(gt=0, le=1)


class Preset(_Strict):
    """Every environment-dependent default of a Slipway stack."""

    name: str = Field(pattern=r"^[a-z][a-z0-9-]*$")
    deletion_protection: bool
    reviewed_releases: bool = True
    """A person reviews each release (staging, prod): the deploy role trusts only the deploy
    workflows on the default branch and may not approve model packages."""
    access_logging: bool
    retention: Retention
    sagemaker: SageMaker
    eks: Eks
    training: Training
    public_api: PublicApi
    alarms: Alarms

    @model_validator(mode="after")
    def _training_sizes(self) -> Preset:
        jobs = self.training.sagemaker
        _within(
            self.sagemaker.allowed_instance_types,
            **{
                "training.sagemaker.instance_type": jobs.instance_type,
                "training.sagemaker.processing_instance_type": jobs.processing_instance_type,
                "training.sagemaker.batch_instance_type": jobs.batch_instance_type,
            },
        )
        return self


def preset_path(name_or_path: str | Path) -> Path:
    """Resolve a preset name (``dev``) or a path to a YAML file."""
    candidate = Path(name_or_path)
    if candidate.suffix in {".yaml", ".yml"}:
        return candidate
    return stacks_dir() / f"{name_or_path}.yaml"


def _describe(error: dict[str, object]) -> str:
    loc = ".".join(str(part) for part in error["loc"]) or "<root>"  # type: ignore[attr-defined]
    message = str(error["msg"]).removeprefix("Value error, ")
    if error["type"] == "extra_forbidden":
        message = "unknown key"
    elif error["type"] == "missing":
        message = "required key is missing"
    return f"{loc}: {message}"


def load_preset(name_or_path: str | Path) -> Preset:
    """Load and validate one preset; raise PresetError naming file, key and rule."""
    path = preset_path(name_or_path)
    try:
        text = path.read_text()
    except FileNotFoundError:
        known = ", ".join(sorted(p.stem for p in stacks_dir().glob("*.yaml")))
        raise PresetError(f"{path}: no such preset (known: {known})") from None
    return _parsed(path, text)


@functools.lru_cache(maxsize=64)
def _parsed(path: Path, text: str) -> Preset:
    """A preset file's text, parsed and validated once per process (a Preset is immutable;
    a program run reads each stack's preset several times)."""
    try:
        raw = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise PresetError(f"{path}: not valid YAML ({exc.__class__.__name__})") from None
    if not isinstance(raw, dict):
        raise PresetError(f"{path}: <root>: must be a mapping of keys")
    try:
        return Preset.model_validate(raw)
    except ValidationError as exc:
        raise PresetError(f"{path}: {_describe(exc.errors()[0])}") from None  # type: ignore[arg-type]
