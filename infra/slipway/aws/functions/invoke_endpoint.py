"""The public API's Lambda proxy: one HTTP API request -> SageMaker ``InvokeEndpoint``.

API Gateway HTTP APIs have no SageMaker Runtime integration (their AWS service
integrations are EventBridge, SQS, AppConfig, Kinesis Data Streams and Step Functions), so
this function forwards the request body, ``Content-Type`` and ``Accept`` to the endpoint
named ``ENDPOINT_NAME`` and returns the model's answer (payload format 2.0). The JWT
authorizer has already checked the caller. Only the standard library and the Lambda
runtime's boto3: it is deployed as this one file (handler ``invoke_endpoint.handler``).

The model's own 4xx/5xx (SageMaker ``ModelError``, with ``OriginalStatusCode`` and
``OriginalMessage``) go back to the caller unchanged; SageMaker's own errors map to 503
(endpoint missing or not ready, throttled) or 502.
"""

from __future__ import annotations

import base64
import json
import os
from typing import Any

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError

ENDPOINT_ENV = "ENDPOINT_NAME"
DEFAULT_TYPE = "application/json"
# API Gateway waits at most 30 s for an HTTP API integration; answer before it does.
CLIENT_CONFIG = Config(connect_timeout=5, read_timeout=25, retries={"mode": "standard"})
UNAVAILABLE = {"ModelNotReadyException", "ServiceUnavailable", "ThrottlingException"}
_client: Any = None


def handler(event: dict[str, Any], context: object) -> dict[str, Any]:
    """API Gateway (payload format 2.0) -> InvokeEndpoint -> the model's answer."""
    headers = {k.lower(): v for k, v in (event.get("headers") or {}).items()}
    body = event.get("body") or ""
    payload = base64.b64decode(body) if event.get("isBase64Encoded") else body.encode()
    try:
        answer = _runtime().invoke_endpoint(
            EndpointName=os.environ[ENDPOINT_ENV],
            Body=payload,
            ContentType=headers.get("content-type", DEFAULT_TYPE),
            Accept=headers.get("accept", DEFAULT_TYPE),
        )
    except ClientError as exc:
        return _error(exc.response)
    return _response(200, answer["Body"].read(), answer.get("ContentType", DEFAULT_TYPE))


def _runtime() -> Any:
    global _client
    if _client is None:
        _client = boto3.client("sagemaker-runtime", config=CLIENT_CONFIG)
    return _client


def _error(response: dict[str, Any]) -> dict[str, Any]:
    code = response.get("Error", {}).get("Code", "")
    message = response.get("Error", {}).get("Message", "")
    if code == "ModelError" and response.get("OriginalStatusCode"):
        original = str(response.get("OriginalMessage") or "")
        kind = DEFAULT_TYPE if original.startswith("{") else "text/plain"
        return _response(int(response["OriginalStatusCode"]), original.encode(), kind)
    if code in UNAVAILABLE or (code == "ValidationError" and "not found" in message.lower()):
        status, reason = 503, "the model endpoint is not available"
    else:
        status, reason = 502, "the model endpoint failed to answer"
    body = json.dumps({"error_code": code or "InternalFailure", "message": reason})
    return _response(status, body.encode(), DEFAULT_TYPE)


def _response(status: int, body: bytes, content_type: str) -> dict[str, Any]:
    try:
        text, encoded = body.decode(), False
    except UnicodeDecodeError:
        text, encoded = base64.b64encode(body).decode(), True
    return {
        "statusCode": status,
        "headers": {"content-type": content_type},
        "body": text,
        "isBase64Encoded": encoded,
    }
