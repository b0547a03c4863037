"""The ``SLIPWAY_*`` variables one side sets and another reads, named once; imports nothing,
so the light readers (server entry point, job containers, generated project) stay light.

Each comment: who sets it -> who reads it. A variable used in one module only stays there.
"""

# serving: the pod spec, the launcher or the rehearsal sets them -> slipway.serving reads them
MODEL_URI_ENV = "SLIPWAY_MODEL_URI"  # eks.serving, launcher, rehearsal.process -> entry/app/pending
HOST_ENV = "SLIPWAY_HOST"  # eks.serving (0.0.0.0), rehearsal.workload -> serving.entry
PORT_ENV = "SLIPWAY_PORT"  # eks.serving, rehearsal.workload -> serving.entry
WORKERS_ENV = "SLIPWAY_WORKERS"  # rehearsal.eks ("1") -> serving.entry (default: one per CPU)
ALLOW_NO_MODEL_ENV = "SLIPWAY_ALLOW_NO_MODEL"  # eks.serving (bootstrap) -> serving.pending
CAPTURE_URI_ENV = "SLIPWAY_CAPTURE_S3_URI"  # eks.serving -> serving.capture
CAPTURE_SAMPLING_ENV = "SLIPWAY_CAPTURE_SAMPLING_PERCENT"  # eks.serving, rehearsal.eks -> capture
CAPTURE_KMS_KEY_ENV = "SLIPWAY_CAPTURE_KMS_KEY_ID"  # eks.serving -> serving.capture
CAPTURE_SERVICE_ENV = "SLIPWAY_CAPTURE_SERVICE"  # eks.serving -> serving.capture

# training: the Job/pipeline definitions set them -> the generated project's container/steps read
ML_ROOT_ENV = "SLIPWAY_ML_ROOT"  # rehearsal.jobs, step tests -> jobs.contract (/opt/ml root)
ENGINE_ENV = "SLIPWAY_ENGINE"  # eks.training ("kubernetes") -> project container.py, steps.py
STACK_ENV = "SLIPWAY_STACK"  # eks.training, pipeline_definition -> project steps.py
DATA_URI_ENV = "SLIPWAY_DATA_URI"  # eks.training, pipeline_definition -> project steps.py
PIPELINES_URI_ENV = "SLIPWAY_PIPELINES_URI"  # eks.training, pipeline_definition -> project steps.py
MODEL_PACKAGE_GROUP_ENV = "SLIPWAY_MODEL_PACKAGE_GROUP"  # pipeline_definition -> project steps.py
TRIGGER_ENV = "SLIPWAY_TRIGGER"  # eks.training, pipeline_definition -> project steps.py
BATCH_URI_ENV = "SLIPWAY_BATCH_URI"  # eks.training -> project steps.py
JOB_ENV = "SLIPWAY_JOB"  # eks.training (the Job's name) -> project steps.py
PUSHGATEWAY_URL_ENV = "SLIPWAY_PUSHGATEWAY_URL"  # eks.observability -> project cli.py (monitor)
