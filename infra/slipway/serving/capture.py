"""Request capture: sampled ``/invocations`` requests to S3 in SageMaker's data-capture format.

Configured from the environment (off when ``SLIPWAY_CAPTURE_S3_URI`` is unset). The request
path only appends ``(time, body, content type, response)`` to a bounded in-memory buffer; a
background thread of each worker turns the buffer into JSON lines and writes one object per
flush to ``<uri>/<service>/YYYY/MM/DD/HH/<uuid>.jsonl`` (SSE-KMS with the configured key),
which ``slipway.drift.s3_capture_chunks`` reads. Delivery is at most once: a full buffer drops
records, a failed upload drops its batch (both counted, logged, never failing a request), and
a crash loses what was buffered since the last flush. See docs/serving.md.
"""

from __future__ import annotations

import base64
import json
import logging
import math
import os
import random
import threading
import time
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from slipway.envvars import (
    CAPTURE_KMS_KEY_ENV,
    CAPTURE_SAMPLING_ENV,
    CAPTURE_SERVICE_ENV,
    CAPTURE_URI_ENV,
)
from slipway.serving.metrics import Metrics

FLUSH_SECONDS_ENV = "SLIPWAY_CAPTURE_FLUSH_SECONDS"
MAX_RECORDS_ENV = "SLIPWAY_CAPTURE_MAX_RECORDS"
DEFAULT_SERVICE = "model-server"
DEFAULT_FLUSH_SECONDS = 60.0
DEFAULT_MAX_RECORDS = 10_000
EVENT_VERSION = "0"
ENCODINGS = {"application/json": "JSON", "text/csv": "CSV", "application/csv": "CSV"}
RESPONSE_TYPE = "application/json"

log = logging.getLogger(__name__)

# One captured request: (epoch seconds, request body, its content type, response body).
Pending = tuple[float, bytes, str, bytes]


@dataclass(frozen=True)
class CaptureConfig:
    """Where and how much to capture; ``from_env`` validates every setting."""

    bucket: str
    prefix: str  # "" or ends with "/"
    service: str
    sampling_percent: float
    flush_seconds: float = DEFAULT_FLUSH_SECONDS
    max_records: int = DEFAULT_MAX_RECORDS
    kms_key_id: str = ""

    @classmethod
    def from_env(cls, environ: Mapping[str, str] = os.environ) -> CaptureConfig | None:
        """None when capture is off; ``ValueError`` naming the variable when a value is bad."""
        uri = environ.get(CAPTURE_URI_ENV, "")
        if not uri:
            return None
        scheme, _, rest = uri.partition("://")
        bucket, _, prefix = rest.partition("/")
        if scheme != "s3" or not bucket:
            raise ValueError(f"{CAPTURE_URI_ENV}: must be s3://bucket/prefix (got {uri!r})")
        service = environ.get(CAPTURE_SERVICE_ENV) or DEFAULT_SERVICE
        if "/" in service:
            raise ValueError(f"{CAPTURE_SERVICE_ENV}: must not contain '/' (got {service!r})")
        return cls(
            bucket=bucket,
            prefix=prefix if not prefix or prefix.endswith("/") else prefix + "/",
            service=service,
            sampling_percent=_number(environ, CAPTURE_SAMPLING_ENV, 100.0, 0.0, 100.0),
            flush_seconds=_number(environ, FLUSH_SECONDS_ENV, DEFAULT_FLUSH_SECONDS, 0.01, 3600.0),
            max_records=int(_number(environ, MAX_RECORDS_ENV, DEFAULT_MAX_RECORDS, 1, 10**7)),
            kms_key_id=environ.get(CAPTURE_KMS_KEY_ENV, ""),
        )


def _number(
    environ: Mapping[str, str], name: str, default: float, low: float, high: float
) -> float:
    raw = environ.get(name, "")
    if not raw:
        return default
    try:
        value = float(raw)
    except ValueError:
        value = math.nan
    if not low <= value <= high:  # NaN fails too
        raise ValueError(f"{name}: must be a number from {low:g} to {high:g} (got {raw!r})")
    return value


def capture_record(pending: Pending, event_id: str | None = None) -> dict[str, Any]:
    """One SageMaker data-capture record (input and output) of a captured request;
    ``event_id``: the request's (a new one by default), which ground truth is joined on."""
    at, body, content_type, response = pending
    return {
        "captureData": {
            "endpointInput": _captured(body, content_type, "INPUT"),
            "endpointOutput": _captured(response, RESPONSE_TYPE, "OUTPUT"),
        },
        "eventMetadata": {
            "eventId": event_id or str(uuid.uuid4()),
            "inferenceTime": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(at)),
        },
        "eventVersion": EVENT_VERSION,
    }


def _captured(data: bytes, content_type: str, mode: str) -> dict[str, str]:
    encoding = ENCODINGS.get(content_type.split(";", 1)[0].strip().lower(), "BASE64")
    text = ""
    if encoding != "BASE64":
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError:
            encoding = "BASE64"
    if encoding == "BASE64":
        text = base64.b64encode(data).decode("ascii")
    return {"observedContentType": content_type, "mode": mode, "data": text, "encoding": encoding}


def object_key(config: CaptureConfig, at: float) -> str:
    """``<prefix><service>/YYYY/MM/DD/HH/<uuid>.jsonl`` for a batch starting at ``at`` (UTC)."""
    hour = time.strftime("%Y/%m/%d/%H", time.gmtime(at))
    return f"{config.prefix}{config.service}/{hour}/{uuid.uuid4()}.jsonl"


class CaptureWriter:
    """Bounded buffer filled by the request path, emptied to S3 by a daemon thread."""

    def __init__(self, config: CaptureConfig, metrics: Metrics, client: Any = None) -> None:
        self.config = config
        self.metrics = metrics
        self.client = client if client is not None else _s3_client()
        self._sampled = config.sampling_percent < 100.0
        self._max = config.max_records
        self._flush_at = max(1, config.max_records // 2)  # wake the writer before it is full
        self._buffer: list[Pending] = []
        self._lock = threading.Lock()
        self._wake = threading.Event()
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._run, name="slipway-capture", daemon=True)
        self._thread.start()

    def add(self, body: bytes, content_type: str, response: bytes) -> None:
        """Buffer one answered request (if sampled); never blocks on S3."""
        if self._sampled and random.random() * 100.0 >= self.config.sampling_percent:
            return
        with self._lock:
            size = len(self._buffer)
            if size < self._max:
                self._buffer.append((time.time(), body, content_type, response))
        if size >= self._max:
            self.metrics.capture_dropped.labels("buffer_full").inc()
        elif size + 1 == self._flush_at:
            self._wake.set()

    def flush(self) -> int:
        """Write what is buffered as one object; returns the records written (0 on failure)."""
        with self._lock:
            batch, self._buffer = self._buffer, []
        if not batch:
            return 0
        lines = "".join(json.dumps(capture_record(p), separators=(",", ":")) + "\n" for p in batch)
        extra = (
            {"ServerSideEncryption": "aws:kms", "SSEKMSKeyId": self.config.kms_key_id}
            if self.config.kms_key_id
            else {}
        )
        key = object_key(self.config, batch[0][0])
        try:
            self.client.put_object(
                Bucket=self.config.bucket,
                Key=key,
                Body=lines.encode(),
                ContentType="application/jsonlines",
                **extra,
            )
        except Exception as exc:  # S3 down, denied, throttled: drop the batch, keep serving
            log.warning(
                "capture: %d records lost, s3://%s/%s not written: %s",
                len(batch),
                self.config.bucket,
                key,
                exc,
            )
            self.metrics.capture_upload_failures.inc()
            self.metrics.capture_dropped.labels("upload_failed").inc(len(batch))
            return 0
        self.metrics.capture_records.inc(len(batch))
        return len(batch)

    def close(self, timeout: float = 30.0) -> None:
        """Stop the thread and write what is left (worker shutdown)."""
        self._stopping.set()
        self._wake.set()
        self._thread.join(timeout)
        self.flush()

    def _run(self) -> None:
        while not self._stopping.is_set():
            self._wake.wait(self.config.flush_seconds)
            self._wake.clear()
            if not self._stopping.is_set():
                self.flush()


def _s3_client() -> Any:
    import boto3
    from botocore.config import Config

    return boto3.client(
        "s3",
        config=Config(
            connect_timeout=5, read_timeout=15, retries={"max_attempts": 3, "mode": "standard"}
        ),
    )


def writer_from_env(metrics: Metrics) -> CaptureWriter | None:
    """The configured writer, or None when capture is off (``ValueError`` when misconfigured)."""
    config = CaptureConfig.from_env()
    return CaptureWriter(config, metrics) if config is not None else None
