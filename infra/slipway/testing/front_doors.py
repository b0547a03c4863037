"""The public API rehearsed on 127.0.0.1: each front door built from the stack's declarations.

``HttpApiFront`` (SageMaker flavor): the HTTP API's one route; the JWT authorizer
(``slipway.testing.bearer.HttpApiAuthorizer``); then the declared Lambda function, loaded
from its declared code asset and called with its declared handler name and environment
with an API Gateway payload 2.0 event; its boto3 ``InvokeEndpoint`` reaches
``SageMakerRuntime``, which answers as the SageMaker Runtime API does (``ModelError`` with
the container's status and body) from the model server's ``/invocations``.

``AlbFront`` (EKS flavor): the Ingress's rule (path, ``pathType``, host), the
``jwt-validation`` action (``AlbJwtValidation``) and a forward to the backend Service's
target port, i.e. the model server; unmatched requests get the controller's default
fixed 404 response.

Not rehearsed (docs/public-api.md): TLS and DNS, stage throttling, WAF, access logs,
API Gateway's own limits, the ALB's security groups and health checks.
"""

from __future__ import annotations

import base64
import http.client
import importlib.util
import json
import os
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import ModuleType
from typing import Any
from unittest import mock

from slipway.testing.bearer import (
    JWT_ANNOTATION,
    AlbJwtValidation,
    Fetch,
    HttpApiAuthorizer,
    Refusal,
)
from slipway.testing.programs import ProgramRun, RecordedResource

Answer = tuple[int, dict[str, str], bytes]
Handle = Callable[[str, str, dict[str, str], bytes], Answer]
"""(method, path, lowercase headers, body) -> (status, headers, body)."""
FUNCTION = "aws:lambda/function:Function"
INTEGRATION = "aws:apigatewayv2/integration:Integration"
INGRESS = "kubernetes:networking.k8s.io/v1:Ingress"
SERVICE = "kubernetes:core/v1:Service"
FORWARDED = ("content-type", "accept")


class LoopbackServer:
    """A threaded HTTP server on 127.0.0.1 answering with ``handle``."""

    def __init__(self, handle: Handle) -> None:
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(handle))
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()

    @property
    def port(self) -> int:
        return int(self._server.server_address[1])

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()


def _handler(handle: Handle) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def _answer(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            headers = {k.lower(): v for k, v in self.headers.items()}
            status, out, payload = handle(self.command, self.path, headers, body)
            self.send_response(status)
            for key, value in out.items():
                self.send_header(key, value)
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        do_GET = do_POST = do_PUT = do_DELETE = _answer

        def log_message(self, format: str, *args: Any) -> None:
            """Quiet."""

    return Handler


def forward(port: int, method: str, path: str, headers: Mapping[str, str], body: bytes) -> Answer:
    """The request, as a proxy sends it on, to 127.0.0.1:``port``."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        sent = {k: v for k, v in headers.items() if k in (*FORWARDED, "authorization")}
        conn.request(method, path, body=body, headers=sent)
        response = conn.getresponse()
        out = {k.lower(): v for k, v in response.getheaders() if k.lower() in ("content-type",)}
        return response.status, out, response.read()
    finally:
        conn.close()


def _refused(refusal: Refusal) -> Answer:
    return refusal.status, refusal.headers, refusal.body


class SageMakerRuntime(LoopbackServer):
    """``InvokeEndpoint`` of one endpoint, answered by a model server (the container).

    As the SageMaker Runtime API reference describes it: ``POST /endpoints/<name>/invocations``
    with the caller's ``Content-Type`` and ``Accept`` goes to the container's
    ``/invocations``; a 2xx answer comes back as is, any other as ``ModelError`` (424)
    carrying ``OriginalStatusCode`` and ``OriginalMessage``; an unknown endpoint is a
    ``ValidationError``. ``calls`` records each endpoint name asked for."""

    def __init__(self, endpoint_name: str, container_port: int, account: str) -> None:
        self.endpoint_name, self.container_port, self.account = (
            endpoint_name,
            container_port,
            account,
        )
        self.calls: list[str] = []
        super().__init__(self._invoke)

    def _invoke(self, method: str, path: str, headers: dict[str, str], body: bytes) -> Answer:
        name = path.removeprefix("/endpoints/").removesuffix("/invocations")
        self.calls.append(name)
        if method != "POST" or name != self.endpoint_name:
            message = f"Endpoint {name} of account {self.account} not found."
            return _aws_error(400, "ValidationError", {"message": message})
        status, out, payload = forward(self.container_port, "POST", "/invocations", headers, body)
        if 200 <= status < 300:
            return 200, {**out, "x-amzn-invoked-production-variant": "primary"}, payload
        original = payload.decode(errors="replace")
        message = (
            f'Received client error ({status}) from primary with message "{original}".'
            if status < 500
            else f'Received server error ({status}) from primary with message "{original}".'
        )
        fields = {"message": message, "OriginalStatusCode": status, "OriginalMessage": original}
        return _aws_error(424, "ModelError", fields)


def _aws_error(status: int, code: str, fields: dict[str, Any]) -> Answer:
    headers = {"content-type": "application/x-amz-json-1.1", "x-amzn-errortype": f"{code}:"}
    return status, headers, json.dumps(fields).encode()


@dataclass(frozen=True)
class LambdaProxy:
    """The declared function: code asset, handler and environment."""

    source: Path
    handler: str
    environment: dict[str, str]

    @classmethod
    def from_run(cls, run: ProgramRun, function_arn: str) -> LambdaProxy:
        function = next(f for f in run.of_type(FUNCTION) if f.state["arn"] == function_arn)
        module = function.inputs["handler"].rsplit(".", 1)[0]
        asset = function.inputs["code"].assets[f"{module}.py"]
        variables = (function.inputs.get("environment") or {}).get("variables") or {}
        return cls(Path(asset.path), function.inputs["handler"], dict(variables))

    def load(self) -> Callable[[dict[str, Any], object], dict[str, Any]]:
        """A fresh import of the handler's module from the asset file, as a cold start."""
        module_name, function = self.handler.rsplit(".", 1)
        spec = importlib.util.spec_from_file_location(module_name, self.source)
        assert spec is not None and spec.loader is not None
        module: ModuleType = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        return getattr(module, function)  # type: ignore[no-any-return]


class HttpApiFront(LoopbackServer):
    """The SageMaker flavor's HTTP API: route, JWT authorizer, Lambda proxy."""

    def __init__(
        self,
        run: ProgramRun,
        route_key: str,
        fetch: Fetch,
        runtime: SageMakerRuntime,
        region: str,
    ) -> None:
        self.route_key = route_key
        self.authorizer = HttpApiAuthorizer.from_run(run, route_key)
        route = next(
            r
            for r in run.of_type("aws:apigatewayv2/route:Route")
            if r.inputs["routeKey"] == route_key
        )
        integration = next(
            i for i in run.of_type(INTEGRATION) if route.inputs["target"] == f"integrations/{i.id}"
        )
        self.integration = integration.inputs
        self.function = LambdaProxy.from_run(run, integration.inputs["integrationUri"])
        self.fetch = fetch
        # What Lambda gives the function's process; the endpoint URL is the one substitution.
        self.runtime_env = {
            **self.function.environment,
            "AWS_REGION": region,
            "AWS_DEFAULT_REGION": region,
            "AWS_ACCESS_KEY_ID": "rehearsal",
            "AWS_SECRET_ACCESS_KEY": "rehearsal",
            "AWS_SESSION_TOKEN": "rehearsal",
            "AWS_ENDPOINT_URL_SAGEMAKER_RUNTIME": runtime.url,
        }
        self._lock = threading.Lock()
        self._handler: Callable[[dict[str, Any], object], dict[str, Any]] | None = None
        super().__init__(self._request)

    def _request(self, method: str, path: str, headers: dict[str, str], body: bytes) -> Answer:
        route_method, route_path = self.route_key.split(" ", 1)
        if (method, path.split("?")[0]) != (route_method, route_path):
            return 404, {"content-type": "application/json"}, b'{"message":"Not Found"}'
        checked = self.authorizer.check(headers, self.fetch)
        if isinstance(checked, Refusal):
            return _refused(checked)
        event = _event(self.route_key, path, headers, body, checked, self.integration)
        with self._lock, mock.patch.dict(os.environ, self.runtime_env):
            if self._handler is None:
                self._handler = self.function.load()
            result = self._handler(event, None)
        payload = result.get("body") or ""
        raw = base64.b64decode(payload) if result.get("isBase64Encoded") else payload.encode()
        out = {k.lower(): str(v) for k, v in (result.get("headers") or {}).items()}
        return int(result["statusCode"]), out, raw


def _event(
    route_key: str,
    path: str,
    headers: dict[str, str],
    body: bytes,
    claims: dict[str, Any],
    integration: Mapping[str, Any],
) -> dict[str, Any]:
    """An API Gateway payload format 2.0 event (what the Lambda integration receives)."""
    assert integration.get("payloadFormatVersion") == "2.0"
    try:
        text, encoded = body.decode(), False
    except UnicodeDecodeError:
        text, encoded = base64.b64encode(body).decode(), True
    method, _, raw_path = route_key.partition(" ")
    return {
        "version": "2.0",
        "routeKey": route_key,
        "rawPath": raw_path,
        "rawQueryString": path.partition("?")[2],
        "headers": headers,
        "requestContext": {
            "http": {"method": method, "path": raw_path, "sourceIp": "127.0.0.1"},
            "authorizer": {"jwt": {"claims": {k: str(v) for k, v in claims.items()}}},
            "routeKey": route_key,
            "stage": "$default",
        },
        "body": text,
        "isBase64Encoded": encoded,
    }


class AlbFront(LoopbackServer):
    """The EKS flavor's ALB: the Ingress's rule, its jwt-validation, the Service's pods."""

    def __init__(self, run: ProgramRun, ingress_name: str, fetch: Fetch, pod_port: int) -> None:
        ingress = _named(run.of_type(INGRESS), ingress_name)
        annotations = ingress.inputs["metadata"]["annotations"]
        self.validation = AlbJwtValidation.from_annotation(annotations[JWT_ANNOTATION])
        [rule] = ingress.inputs["spec"]["rules"]
        [self.path] = rule["http"]["paths"]
        self.host = rule.get("host")
        backend = self.path["backend"]["service"]
        service = _named(run.of_type(SERVICE), backend["name"])
        port = next(
            p for p in service.inputs["spec"]["ports"] if p["name"] == backend["port"]["name"]
        )
        self.target_port = port["targetPort"]
        """The Service's target port (a container port name); the pod listens on ``pod_port``."""
        self.fetch, self.pod_port = fetch, pod_port
        super().__init__(self._request)

    def _matches(self, path: str, headers: dict[str, str]) -> bool:
        wanted = self.path["path"]
        found = path.split("?")[0]
        matched = found == wanted if self.path["pathType"] == "Exact" else found.startswith(wanted)
        if not matched:
            return False
        return self.host is None or headers.get("host", "").split(":")[0] == self.host

    def _request(self, method: str, path: str, headers: dict[str, str], body: bytes) -> Answer:
        if not self._matches(path, headers):
            return 404, {"content-type": "text/plain"}, b""
        checked = self.validation.check(headers, self.fetch)
        if isinstance(checked, Refusal):
            return _refused(checked)
        return forward(self.pod_port, method, path, headers, body)


def _named(resources: list[RecordedResource], name: str) -> RecordedResource:
    return next(r for r in resources if r.inputs["metadata"]["name"] == name)
