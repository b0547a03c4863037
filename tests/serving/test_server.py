"""Startup refusal, exact /metrics counts, and TCP_NODELAY on the sockets the server accepts."""

from __future__ import annotations

import asyncio
import http.client
import json
import shutil
import socket
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import uvicorn
from serving_support import asgi_call, save_iris_model
from slipway.serving import ModelLoadError, create_app
from slipway.serving.launcher import NoDelayHttpToolsProtocol, bind_socket, set_nodelay
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

ROW = json.dumps({"inputs": [[5.1, 3.5, 1.4, 0.2]]}).encode()


def test_ping(app: object) -> None:
    assert asgi_call(app, "GET", "/ping") == (200, b'{"status":"ok"}')


def _metric(text: str, prefix: str) -> float:
    """The value of the sample whose line starts with ``prefix`` (0 when there is none yet)."""
    lines = [li for li in text.splitlines() if li.startswith(prefix)]
    return float(lines[0].rsplit(" ", 1)[1]) if lines else 0.0


COUNTED = (
    'slipway_requests_total{code="200",endpoint="/invocations"}',
    'slipway_requests_total{code="400",endpoint="/invocations"}',
    'slipway_request_errors_total{endpoint="/invocations",kind="client"}',
    'slipway_request_duration_seconds_count{endpoint="/invocations"}',
    "slipway_predicted_rows_total",
)


def test_metrics_count_requests_errors_latency_and_model(app: object, model_uri: str) -> None:
    def counts() -> list[float]:
        status, body = asgi_call(app, "GET", "/metrics")
        assert status == 200
        return [_metric(body.decode(), prefix) for prefix in COUNTED]

    before = counts()
    two_rows = json.dumps({"inputs": [[5.1, 3.5, 1.4, 0.2], [7.7, 3.0, 6.1, 2.3]]}).encode()
    assert asgi_call(app, "POST", "/invocations", two_rows)[0] == 200
    assert asgi_call(app, "POST", "/invocations", b"{", "application/json")[0] == 400
    after = counts()
    assert [a - b for a, b in zip(after, before, strict=True)] == [1, 1, 1, 2, 2]
    version = app.model.version  # type: ignore[attr-defined]
    text = asgi_call(app, "GET", "/metrics")[1].decode()
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


def test_launcher_protocol_sets_tcp_nodelay_on_accepted_connections(app: object) -> None:
    """The real server (uvicorn, the launcher's protocol) on a proto-0 listener, as uvicorn's
    multi-worker supervisor binds it: the accepted socket has TCP_NODELAY (getsockopt).
    uvicorn's own protocol, the control, leaves it off (uvicorn issue 3149): without the
    launcher's fix every keep-alive request waits ~40 ms (timed in benchmarks/serve_bench.py)."""
    assert _served_socket_nodelay(app, NoDelayHttpToolsProtocol) == [1]
    assert _served_socket_nodelay(app, HttpToolsProtocol) == [0], "uvicorn 3149 fixed upstream?"


def _served_socket_nodelay(app: Any, protocol: type) -> list[int]:
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)  # proto 0
    listener.bind(("127.0.0.1", 0))
    config = uvicorn.Config(
        app,
        http=protocol,
        loop="asyncio",
        lifespan="off",
        log_level="warning",  # type: ignore[arg-type]
    )
    server = uvicorn.Server(config)
    seen: list[int] = []

    async def main() -> None:
        serving = asyncio.create_task(server.serve(sockets=[listener]))
        while not server.started:
            await asyncio.sleep(0.005)
        reader, writer = await asyncio.open_connection(*listener.getsockname())
        writer.write(b"GET /ping HTTP/1.1\r\nHost: test\r\n\r\n")
        await reader.readuntil(b'{"status":"ok"}')
        for connection in server.server_state.connections:
            sock = connection.transport.get_extra_info("socket")  # type: ignore[attr-defined]
            seen.append(1 if sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY) else 0)
        writer.close()
        server.should_exit = True
        await serving

    asyncio.run(main())
    return seen


def test_two_workers_answer_keep_alive_requests(two_worker_server: int) -> None:
    """Sequential requests on one keep-alive connection to the real launcher (two workers).
    Their latency is measured in benchmarks/serve_bench.py, not asserted here."""
    conn = http.client.HTTPConnection("127.0.0.1", two_worker_server, timeout=10)
    for _ in range(20):
        conn.request("POST", "/invocations", body=ROW, headers={"Content-Type": "application/json"})
        response = conn.getresponse()
        assert (response.status, json.loads(response.read())["predictions"]) == (200, [0])
    conn.close()


def test_two_workers_survive_malformed_requests_and_share_metrics(two_worker_server: int) -> None:
    def refused() -> float:
        fresh = http.client.HTTPConnection("127.0.0.1", two_worker_server, timeout=10)
        fresh.request("GET", "/metrics")
        text = fresh.getresponse().read().decode()
        fresh.close()
        return _metric(text, 'slipway_requests_total{code="400",endpoint="/invocations"}')

    before = refused()
    conn = http.client.HTTPConnection("127.0.0.1", two_worker_server, timeout=10)
    for body in (b"{", b"[]", b'{"inputs": [["x", 1, 2, 3]]}', b"[" * 100_000):
        conn.request(
            "POST", "/invocations", body=body, headers={"Content-Type": "application/json"}
        )
        response = conn.getresponse()
        assert response.status == 400 and json.loads(response.read())["message"]
    for _ in range(4):  # fresh connections land on either worker
        fresh = http.client.HTTPConnection("127.0.0.1", two_worker_server, timeout=10)
        fresh.request(
            "POST", "/invocations", body=b"x,y\n1,2\n", headers={"Content-Type": "text/csv"}
        )
        assert fresh.getresponse().status == 400
        fresh.close()
    conn.request("POST", "/invocations", body=ROW, headers={"Content-Type": "application/json"})
    assert conn.getresponse().status == 200  # the same connection is still served
    assert refused() - before == 8  # both workers' refusals, whichever worker answers
