"""Slipway's server vs ``mlflow models serve`` on the same model, same machine, same run.

Load: wrk (C, separate process) on 127.0.0.1, 8 keep-alive connections, bounded by a request
count per server and a duration: 1-row JSON, then 100-row batches. Cold start: from spawning
the server to its first ``GET /ping`` 200 (median of a few starts), and the CPU its process
group used by then (which other jobs on the machine do not inflate). Also the in-process
floor: one prediction, and one full ASGI request without the network. The machine load
around each figure is printed beside it (``load.py``).
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path

from load import watch
from measure import group_cpu_seconds, program_env
from slipway.serving.probe import free_port, wait_until_ready
from summary import Figure

FEATURES = ["sepal_length", "sepal_width", "petal_length", "petal_width"]
ROW = [5.1, 3.5, 1.4, 0.2]
BATCH_ROWS = 100


def body(rows: int) -> str:
    """A ``dataframe_split`` request of ``rows`` iris rows."""
    return json.dumps({"dataframe_split": {"columns": FEATURES, "data": [ROW] * rows}})


BODY = body(1)
LUA = """
wrk.method = "POST"
wrk.body = %s
wrk.headers["Content-Type"] = "application/json"
local limit = %d
local count = 0
local bad = 0
function response(status, headers, body)
  count = count + 1
  if status ~= 200 then bad = bad + 1 end
  if count >= limit then wrk.thread:stop() end
end
function done(summary, latency, requests)
  io.write(string.format(
    '{"requests": %%d, "seconds": %%f, "p50_us": %%d, "p99_us": %%d, "mean_us": %%f, '
      .. '"errors": %%d}\\n',
    summary.requests, summary.duration / 1e6, latency:percentile(50), latency:percentile(99),
    latency.mean,
    summary.errors.status + summary.errors.connect + summary.errors.read
      + summary.errors.write + summary.errors.timeout))
end
"""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("serve")
    group.add_argument("--requests", type=int, default=200_000, help="max requests per server")
    group.add_argument("--duration", type=int, default=15, help="max seconds of load per server")
    group.add_argument("--connections", type=int, default=8)
    group.add_argument("--workers", type=int, default=2, help="slipway server workers")
    group.add_argument(
        "--batch-duration", type=int, default=10, help="max seconds of 100-row load per server"
    )
    group.add_argument("--cold-starts", type=int, default=3, help="server starts per server")


def run(args: argparse.Namespace) -> list[Figure]:
    if not shutil.which("wrk"):
        raise SystemExit(
            "error: wrk: not installed; run `apt-get install -y wrk` (make bench does)"
        )
    with tempfile.TemporaryDirectory(prefix="slipway-bench-") as tmp:
        model = save_model(Path(tmp) / "model")
        floor_predict, floor_request = in_process_floor(str(model))
        print(
            f"in-process floor: predict {floor_predict * 1e6:.0f} us, "
            f"full ASGI request {floor_request * 1e6:.0f} us (no network)"
        )
        slipway_cmd = [
            sys.executable,
            "-m",
            "slipway.serving",
            "--model-uri",
            str(model),
            "--workers",
            str(args.workers),
        ]
        mlflow_cmd = [
            str(Path(sys.executable).with_name("mlflow")),
            "models",
            "serve",
            "-m",
            str(model),
            "--env-manager",
            "local",
            "-h",
            "127.0.0.1",
        ]
        servers = {"slipway": (slipway_cmd, "--port"), "mlflow": (mlflow_cmd, "-p")}
        with watch("serve 1-row") as single:
            one = load_both(servers, args, Path(tmp), 1, args.duration)
        print(
            f"slipway p50 = {one['slipway']['p50_us'] / (floor_request * 1e6):.1f}x the "
            f"in-process request floor ({args.connections} requests in flight)"
        )
        with watch("serve 100-row") as batched:
            hundred = load_both(servers, args, Path(tmp), BATCH_ROWS, args.batch_duration)
        with watch("cold start") as cold:
            starts = {
                name: cold_start(cmd, flag, args.cold_starts)
                for name, (cmd, flag) in servers.items()
            }
            for name, (seconds, cpu) in starts.items():
                print(
                    f"{name:8s} first /ping 200 after {seconds:.2f} s, {cpu:.2f} s of CPU "
                    f"(medians of {args.cold_starts} starts)"
                )
    ours, theirs = one["slipway"], one["mlflow"]
    rps = ours["rps"] / theirs["rps"]
    p99 = theirs["p99_us"] / max(ours["p99_us"], 1)
    batch_rps = hundred["slipway"]["rps"] / hundred["mlflow"]["rps"]
    (wall, cpu), (mlflow_wall, mlflow_cpu) = starts["slipway"], starts["mlflow"]
    return [
        Figure("serve", f"{rps:.1f}x rps", single.load),
        Figure("p99", f"1/{p99:.0f}", single.load),
        Figure("batch100", f"{batch_rps:.1f}x rps", batched.load),
        Figure(
            "cold start", f"1/{mlflow_wall / wall:.1f}", cold.load, f"cpu 1/{mlflow_cpu / cpu:.1f}"
        ),
    ]


def load_both(
    servers: dict[str, tuple[list[str], str]],
    args: argparse.Namespace,
    tmp: Path,
    rows: int,
    duration: int,
) -> dict[str, dict]:
    """wrk against each server in turn with ``rows``-row requests; prints each result."""
    results = {}
    for name, (cmd, port_flag) in servers.items():
        with server(cmd, port_flag) as port:
            results[name] = load(port, args, tmp, body(rows), duration)
            keepalive = keepalive_median_ms(port) if rows == 1 else None
        r = results[name]
        print(
            f"{name:8s} {rows:3d}-row {r['rps']:8.0f} req/s  p50 {r['p50_us'] / 1000:7.2f} ms  "
            f"p99 {r['p99_us'] / 1000:7.2f} ms  ({r['requests']} requests, "
            f"{r['seconds']:.1f} s, {r['errors']} errors)"
            + (f"  sequential keep-alive p50 {keepalive:.2f} ms" if keepalive is not None else "")
        )
        if name == "slipway" and keepalive is not None and keepalive >= NAGLE_STALL_MS:
            print(f"WARNING: slipway keep-alive p50 {keepalive:.1f} ms: TCP_NODELAY missing?")
    return results


def cold_start(cmd: list[str], port_flag: str, times: int) -> tuple[float, float]:
    """Medians of the seconds from spawning the server to its first ``GET /ping`` 200 and of
    the CPU seconds its processes used by then."""
    seconds, cpu = [], []
    for _ in range(times):
        port = free_port()
        start = time.perf_counter()
        with spawned([*cmd, port_flag, str(port)]) as proc:
            while not pinged(port):
                if proc.poll() is not None:
                    raise SystemExit(f"error: server: {cmd[0]} exited with {proc.returncode}")
                if time.perf_counter() - start > 300:
                    raise SystemExit(f"error: server: no /ping 200 on port {port} in 300 s")
                time.sleep(0.01)
            seconds.append(time.perf_counter() - start)
            cpu.append(group_cpu_seconds(proc.pid))
    return sorted(seconds)[len(seconds) // 2], sorted(cpu)[len(cpu) // 2]


def pinged(port: int) -> bool:
    try:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
        conn.request("GET", "/ping")
        ok = conn.getresponse().status == 200
        conn.close()
        return ok
    except OSError:
        return False


def save_model(path: Path) -> Path:
    """The iris model, saved as a generated project's train step logs its model (skops)."""
    import mlflow.sklearn
    import pandas as pd
    from mlflow.models import infer_signature
    from sklearn.datasets import load_iris
    from sklearn.linear_model import LogisticRegression

    X = pd.DataFrame(load_iris().data, columns=FEATURES)
    fitted = LogisticRegression(max_iter=500).fit(X, load_iris().target)
    mlflow.sklearn.save_model(
        fitted,
        str(path),
        signature=infer_signature(X, fitted.predict(X)),
        serialization_format=mlflow.sklearn.SERIALIZATION_FORMAT_SKOPS,
        skops_trusted_types=[],
        pip_requirements=mlflow.sklearn.get_default_pip_requirements(include_skops=True),
    )
    return path


def in_process_floor(model_uri: str, n: int = 2000) -> tuple[float, float]:
    """Seconds per prediction (checked rows in) and per full ASGI request (bytes in, bytes out)."""
    import asyncio

    from slipway.serving import create_app

    app = create_app(model_uri)
    rows = [ROW]
    payload = BODY.encode()
    scope = {
        "type": "http",
        "method": "POST",
        "path": "/invocations",
        "headers": [(b"content-type", b"application/json")],
    }

    async def receive() -> dict:
        return {"type": "http.request", "body": payload, "more_body": False}

    async def send(message: dict) -> None:
        return None

    async def requests() -> None:
        for _ in range(n):
            await app(scope, receive, send)

    for _ in range(200):
        app.model.predict(rows)
    start = time.perf_counter()
    for _ in range(n):
        app.model.predict(rows)
    predict = (time.perf_counter() - start) / n
    start = time.perf_counter()
    asyncio.run(requests())
    return predict, (time.perf_counter() - start) / n


NAGLE_STALL_MS = 20  # Nagle + the client's delayed ACK hold each response ~40 ms


def keepalive_median_ms(port: int, n: int = 200) -> float:
    """Median latency of sequential requests on one keep-alive connection (moved here from
    tests/serving/test_server.py: timing is the benchmark's job, the test checks the socket)."""
    import http.client
    import statistics

    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    times = []
    for _ in range(n):
        start = time.perf_counter()
        conn.request(
            "POST", "/invocations", body=BODY, headers={"Content-Type": "application/json"}
        )
        response = conn.getresponse()
        response.read()
        if response.status != 200:
            raise SystemExit(f"error: server: keep-alive request answered {response.status}")
        times.append(time.perf_counter() - start)
    conn.close()
    return statistics.median(times[1:]) * 1000


@contextmanager
def spawned(cmd: list[str]) -> Iterator[subprocess.Popen[bytes]]:
    """A server process in its own session, stopped with its whole group on exit."""
    env = program_env()  # mlflow serve runs `uvicorn` from PATH: use this venv's
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    proc = subprocess.Popen(
        cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True, env=env
    )
    try:
        yield proc
    finally:
        with suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=60)


@contextmanager
def server(cmd: list[str], port_flag: str) -> Iterator[int]:
    port = free_port()
    with spawned([*cmd, port_flag, str(port)]) as proc:
        try:
            wait_until_ready(port, proc)
        except (RuntimeError, TimeoutError) as exc:
            raise SystemExit(f"error: server: {exc}") from None
        yield port


def load(port: int, args: argparse.Namespace, tmp: Path, payload: str, duration: int) -> dict:
    threads = 2
    script = tmp / "post.lua"
    script.write_text(LUA % (json.dumps(payload), max(1, args.requests // threads)))
    warm = subprocess.run(
        ["wrk", "-t1", "-c1", "-d1s", "-s", str(script), f"http://127.0.0.1:{port}/invocations"],
        capture_output=True,
        check=True,
    )
    del warm
    out = subprocess.run(
        [
            "wrk",
            f"-t{threads}",
            f"-c{args.connections}",
            f"-d{duration}s",
            "--timeout",
            "5s",
            "-s",
            str(script),
            f"http://127.0.0.1:{port}/invocations",
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    result = json.loads(next(li for li in out.splitlines() if li.startswith("{")))
    cap = max(1, args.requests // threads) * threads
    if result["requests"] >= cap:
        # Threads stopped at the cap before the clock ran out; wrk still reports the full
        # duration. Closed-loop load: throughput = connections / mean latency (Little's law).
        result["rps"] = args.connections / (result["mean_us"] / 1e6)
    else:
        result["rps"] = result["requests"] / result["seconds"]
    return result


if __name__ == "__main__":
    from summary import summary_line

    cli = argparse.ArgumentParser(description=__doc__)
    add_arguments(cli)
    print(summary_line([run(cli.parse_args())]))
