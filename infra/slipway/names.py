"""Names the platform code and the runtimes must agree on, in one light module.

The Pulumi components (``slipway.aws``, ``slipway.eks``) and the runtimes (``slipway.drift``,
``slipway.serving``) both import these, so neither side keeps a copy and neither pulls
the other's heavy imports.
"""

from __future__ import annotations

# Key prefixes inside the project's artifact bucket (slipway.aws.ArtifactStore); roles
# are scoped to them.
BUCKET_PREFIXES = {
    "data": "data/",
    "models": "models/",
    "capture": "data-capture/",
    "mlflow": "mlflow/",
    "monitoring": "monitoring/",
    # The engines' steps (slipway.jobs): validated data snapshots and evaluations per run.
    "pipelines": "pipelines/",
    # Batch scoring: inputs under batch/input/, predictions under batch/predictions/.
    "batch": "batch/",
    # Labels of captured requests, joined to them by event id (slipway.quality).
    "ground-truth": "ground-truth/",
}
# CloudWatch namespace of the drift metrics (slipway.drift.cloudwatch publishes there; the
# monitor role may put metrics only there; the drift alarm watches it).
DRIFT_NAMESPACE = "Slipway/Drift"
# CloudWatch namespace of the model quality metrics (accuracy, ROC AUC on labelled captures).
QUALITY_NAMESPACE = "Slipway/ModelQuality"
# Pushgateway job of the drift metrics on EKS (slipway.drift.prometheus pushes under it;
# the drift alert rules select it).
DRIFT_METRICS_JOB = "slipway_drift"
# ECR repository of the model server image on EKS (slipway.eks.serving creates it; the
# deploy role may push there only).
MODEL_REPOSITORY = "{prefix}-model"
# SageMaker Pipelines of a stack (slipway.aws.training declares them; `pipeline run --on aws`
# and `batch --on aws` start them by name).
TRAINING_PIPELINE = "{prefix}-training"
BATCH_PIPELINE = "{prefix}-batch"
# EKS: the namespace and CronJobs of the lifecycle steps (slipway.eks.training declares them;
# `pipeline run --on aws`, `batch --on aws` and the drift check start Jobs from them).
TRAINING_NAMESPACE = "training"
TRAINING_CRONJOB = "training"
# Kubernetes group (EKS access entry of release.yml's candidate role) that may start the
# training Job (``pipeline run --on aws``) and follow it: slipway.eks.training.
TRAINING_STARTER_GROUP = "slipway:training-starters"
BATCH_CRONJOB = "batch"
# Where the generated Dockerfile copies the project's config/ (config/pipeline.yaml): the
# EKS drift CronJob runs in an empty working directory and reads its config from there.
IMAGE_CONFIG_DIR = "/home/app/config"
