"""Startup refusal, /metrics, and TCP_NODELAY with several workers on the real launcher."""

from __future__ import annotations

import asyncio
import http.client
import json
import shutil
import socket
import statistics
import subprocess
import sys
import time
from pathlib import Path

import pytest
from serving_support import asgi_call, save_iris_model
from slipway.serving import ModelLoadError, create_app
from slipway.serving.launcher import bind_socket, set_nodelay

ROW = json.dumps({"inputs": [[5.1, 3.5, 1.4, 0.2]]}).encode()


def test_ping(app: object) -> None:
    assert asgi_call(app, "GET", "/ping") == (200, b'{"status":"ok"}')


def test_metrics_count_requests_errors_latency_and_model(app: object, model_uri: str) -> None:
    asgi_call(app, "POST", "/invocations", ROW)
    asgi_call(app, "POST", "/invocations", b"{", "application/json")
    status, body = asgi_call(app, "GET", "/metrics")
    text = body.decode()
    assert status == 200

    def value(prefix: str) -> float:
        line = next(li for li in text.splitlines() if li.startswith(prefix))
        return float(line.rsplit(" ", 1)[1])

    assert value('slipway_requests_total{code="200",endpoint="/invocations"}') >= 1
    assert value('slipway_requests_total{code="400",endpoint="/invocations"}') >= 1
    assert value('slipway_request_errors_total{endpoint="/invocations",kind="client"}') >= 1
    assert value('slipway_request_duration_seconds_count{endpoint="/invocations"}') >= 2
    assert value("slipway_predicted_rows_total") >= 1
    version = app.model.version  # type: ignore[attr-defined]
    assert (
        f'slipway_model_info{{flavor="sklearn",model_uri="{model_uri}",version="{version}"}} 1.0'
        in text
    )


def test_missing_model_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ModelLoadError, match="cannot load model"):
        create_app(str(tmp_path / "nowhere"))


def test_corrupt_model_is_refused(tmp_path: Path, model_uri: str) -> None:
    broken = Path(shutil.copytree(model_uri, tmp_path / "broken"))
    (broken / "model.skops").write_bytes(b"not a model")
    with pytest.raises(ModelLoadError, match="cannot load model"):
        create_app(str(broken))


def test_model_without_signature_is_refused(tmp_path: Path) -> None:
    uri = save_iris_model(tmp_path / "unsigned", signature=False)
    with pytest.raises(ModelLoadError, match="no input signature"):
        create_app(str(uri))


def test_cli_refuses_to_start_with_a_one_line_error(tmp_path: Path) -> None:
    missing = tmp_path / "missing-model"
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "slipway.serving",
            "serve",
            "--model-uri",
            str(missing),
            "--port",
            "1",
        ],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 1
    assert result.stderr.strip().startswith("error: model: cannot load model")
    assert str(missing) in result.stderr and len(result.stderr.strip().splitlines()) == 1


def test_bound_socket_gives_accepted_connections_tcp_nodelay() -> None:
    """What uvicorn's own bind_socket (proto 0) does not do: asyncio sets NODELAY on accepts."""
    assert _accepted_nodelay(bind_socket("127.0.0.1", 0), fix=False) == 1


def test_protocol_forces_tcp_nodelay_even_on_a_proto_zero_listener() -> None:
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)  # proto 0, like uvicorn's
    listener.bind(("127.0.0.1", 0))
    assert _accepted_nodelay(listener, fix=True) == 1


def _accepted_nodelay(listener: socket.socket, *, fix: bool) -> int:
    seen: list[int] = []

    class Probe(asyncio.Protocol):
        def connection_made(self, transport: asyncio.BaseTransport) -> None:
            if fix:
                set_nodelay(transport)
            sock = transport.get_extra_info("socket")
            seen.append(sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY))
            transport.close()

    async def main() -> None:
        listener.listen()
        server = await asyncio.get_running_loop().create_server(Probe, sock=listener)
        port = listener.getsockname()[1]
        _, writer = await asyncio.open_connection("127.0.0.1", port)
        for _ in range(100):
            if seen:
                break
            await asyncio.sleep(0.01)
        writer.close()
        server.close()

    asyncio.run(main())
    return 1 if seen and seen[0] else 0


def test_two_workers_answer_keep_alive_requests_without_nagle_delay(two_worker_server: int) -> None:
    """Without TCP_NODELAY each keep-alive request after the first waits ~40 ms (delayed ACK)."""
    conn = http.client.HTTPConnection("127.0.0.1", two_worker_server, timeout=10)
    times = []
    for _ in range(40):
        start = time.perf_counter()
        conn.request("POST", "/invocations", body=ROW, headers={"Content-Type": "application/json"})
        response = conn.getresponse()
        assert response.status == 200, response.read()
        response.read()
        times.append(time.perf_counter() - start)
    assert statistics.median(times[1:]) < 0.02, times


def test_two_workers_survive_malformed_requests_and_share_metrics(two_worker_server: int) -> None:
    conn = http.client.HTTPConnection("127.0.0.1", two_worker_server, timeout=10)
    for body in (b"{", b"[]", b'{"inputs": [["x", 1, 2, 3]]}'):
        conn.request(
            "POST", "/invocations", body=body, headers={"Content-Type": "application/json"}
        )
        response = conn.getresponse()
        assert response.status == 400 and json.loads(response.read())["message"]
    for _ in range(4):  # fresh connections land on either worker
        fresh = http.client.HTTPConnection("127.0.0.1", two_worker_server, timeout=10)
        fresh.request("POST", "/invocations", body=ROW, headers={"Content-Type": "text/csv"})
        assert fresh.getresponse().status == 400
        fresh.close()
    conn.request("GET", "/metrics")
    text = conn.getresponse().read().decode()
    line = next(
        li
        for li in text.splitlines()
        if li.startswith('slipway_requests_total{code="400",endpoint="/invocations"}')
    )
    assert float(line.rsplit(" ", 1)[1]) >= 7  # both workers' errors, whichever answered
