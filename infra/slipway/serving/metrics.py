"""Prometheus metrics: request count, latency histogram, errors, the served model's version
and request capture (records written, dropped, failed uploads).

With several workers the launcher sets ``PROMETHEUS_MULTIPROC_DIR`` before any worker starts,
and ``/metrics`` aggregates every worker's numbers (prometheus-client's multiprocess mode).
"""

from __future__ import annotations

import os

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
)

from slipway.serving.variables import MULTIPROC_ENV

BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0)
ENDPOINTS = ("/invocations", "/ping", "/metrics", "other")


class Metrics:
    """The server's metrics, registered on a private registry (one per app)."""

    content_type = CONTENT_TYPE_LATEST

    def __init__(self, model_uri: str, version: str, flavor: str) -> None:
        self.registry = CollectorRegistry()
        self.requests = Counter(
            "slipway_requests",
            "HTTP requests answered, by endpoint and status code.",
            ["endpoint", "code"],
            registry=self.registry,
        )
        self.errors = Counter(
            "slipway_request_errors",
            "Requests answered with an error, by endpoint and kind (client: 4xx, server: 5xx).",
            ["endpoint", "kind"],
            registry=self.registry,
        )
        self.latency = Histogram(
            "slipway_request_duration_seconds",
            "Time from request start to response sent, by endpoint.",
            ["endpoint"],
            buckets=BUCKETS,
            registry=self.registry,
        )
        self.rows = Counter("slipway_predicted_rows", "Rows predicted.", registry=self.registry)
        self.capture_records = Counter(
            "slipway_capture_records",
            "Captured requests written to S3 (request capture, see serving/capture.py).",
            registry=self.registry,
        )
        self.capture_dropped = Counter(
            "slipway_capture_dropped",
            "Sampled requests not captured, by reason (buffer_full, upload_failed).",
            ["reason"],
            registry=self.registry,
        )
        self.capture_upload_failures = Counter(
            "slipway_capture_upload_failures",
            "Capture objects S3 did not accept.",
            registry=self.registry,
        )
        info = Gauge(
            "slipway_model_info",
            "The served model (always 1): URI, registry version or run id, flavor.",
            ["model_uri", "version", "flavor"],
            registry=self.registry,
            multiprocess_mode="max",
        )
        info.labels(model_uri, version, flavor).set(1)
        self._latency = {e: self.latency.labels(e) for e in ENDPOINTS}
        self._ok = {e: self.requests.labels(e, "200") for e in ENDPOINTS}

    def observe(self, endpoint: str, status: int, seconds: float) -> None:
        """Record one answered request."""
        if endpoint not in self._latency:
            endpoint = "other"
        self._latency[endpoint].observe(seconds)
        if status == 200:
            self._ok[endpoint].inc()
            return
        self.requests.labels(endpoint, str(status)).inc()
        self.errors.labels(endpoint, "client" if status < 500 else "server").inc()

    def render(self) -> bytes:
        """The text exposition of every worker's metrics."""
        if os.environ.get(MULTIPROC_ENV):
            from prometheus_client import multiprocess

            registry = CollectorRegistry()
            multiprocess.MultiProcessCollector(registry)
            return generate_latest(registry)
        return generate_latest(self.registry)
