"""Environment variables the launcher sets for its workers, in a module that imports nothing:
the launcher must set ``PROMETHEUS_MULTIPROC_DIR`` before prometheus-client is imported."""

MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"  # prometheus-client's files shared by the workers
