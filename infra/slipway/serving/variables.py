"""Environment variables the launcher sets for its workers, in a module that imports nothing:
the launcher must set ``PROMETHEUS_MULTIPROC_DIR`` before prometheus-client is imported."""

MODEL_URI_ENV = "SLIPWAY_MODEL_URI"  # the model every worker serves
MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"  # prometheus-client's files shared by the workers
