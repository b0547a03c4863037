"""HTTP client of a rehearsal, run where the workload's port is (its network namespace).

``python -I -S probe.py < plan.json``: the plan gives the port, the workload's pid, the
readiness request and its deadline, then the requests; the answer (stdout, JSON) holds
one result per request. Standard library only, so it starts fast in any interpreter.
Readiness is polled every 50 ms with a short socket timeout until the deadline, and the
wait ends early when the workload's process has exited.
"""

from __future__ import annotations

import base64
import http.client
import json
import os
import sys
import time
from typing import Any

POLL_SECONDS = 0.05


def request(port: int, item: dict[str, Any], timeout: float) -> dict[str, Any]:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        connection.request(
            item["method"],
            item["path"],
            body=base64.b64decode(item.get("body", "")),
            headers=item.get("headers") or {},
        )
        response = connection.getresponse()
        body = response.read()
        return {"status": response.status, "body": base64.b64encode(body).decode()}
    except OSError as exc:
        return {"status": 0, "error": f"{type(exc).__name__}: {exc}"}
    finally:
        connection.close()


def _exited(pid: int) -> bool:
    """Gone, or a zombie waiting for its parent (the runner) to reap it."""
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().rsplit(")", 1)[1].split()[0] == "Z"
    except OSError:
        return not os.path.exists(f"/proc/{pid}")


def wait_ready(plan: dict[str, Any]) -> dict[str, Any]:
    ready, deadline = plan["ready"], time.monotonic() + plan["deadline_seconds"]
    last: dict[str, Any] = {"status": 0, "error": "never answered"}
    while time.monotonic() < deadline:
        if _exited(plan["pid"]):
            return {**last, "exited": True}
        last = request(plan["port"], ready, timeout=2.0)  # SageMaker's /ping timeout
        if last["status"] == ready.get("status", 200):
            return last
        time.sleep(POLL_SECONDS)
    return {**last, "timed_out": True}


def main() -> int:
    plan = json.load(sys.stdin)
    answer: dict[str, Any] = {"ready": wait_ready(plan), "results": []}
    if answer["ready"]["status"] == plan["ready"].get("status", 200):
        answer["results"] = [request(plan["port"], r, timeout=60.0) for r in plan["requests"]]
    json.dump(answer, sys.stdout)
    return 0


if __name__ == "__main__":
    sys.exit(main())
