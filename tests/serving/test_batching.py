"""Requests ready in the same loop turn share one prediction, and still get their own answers."""

from __future__ import annotations

import asyncio
import json

import numpy as np
from serving_support import asgi_call
from slipway.serving.batching import Batcher


def test_concurrent_calls_share_one_prediction() -> None:
    calls: list[int] = []

    def predict(rows: list[list[float]]) -> np.ndarray:
        calls.append(len(rows))
        return np.asarray([row[0] * 10 for row in rows])

    async def main() -> list:
        batcher = Batcher(predict)
        return await asyncio.gather(*(batcher([[float(i)], [i + 0.5]]) for i in range(5)))

    results = asyncio.run(main())
    assert calls == [10]
    assert [r.tolist() for r in results] == [[i * 10, i * 10 + 5] for i in range(5)]


def test_a_failing_batch_is_retried_per_request() -> None:
    def predict(rows: list[list[float]]) -> list[float]:
        if any(row[0] < 0 for row in rows):
            raise ValueError("negative")
        return [row[0] for row in rows]

    async def main() -> list:
        batcher = Batcher(predict)
        calls = [batcher([[1.0]]), batcher([[-1.0]]), batcher([[2.0]])]
        return await asyncio.gather(*calls, return_exceptions=True)

    good, bad, other = asyncio.run(main())
    assert (good, other) == ([1.0], [2.0])
    assert isinstance(bad, ValueError)


def test_batch_is_capped_in_rows() -> None:
    calls: list[int] = []

    def predict(rows: list[list[float]]) -> list[float]:
        calls.append(len(rows))
        return [0.0] * len(rows)

    async def main() -> None:
        batcher = Batcher(predict, max_rows=4)
        await asyncio.gather(*(batcher([[0.0], [0.0]]) for _ in range(4)), batcher([[0.0]] * 9))

    asyncio.run(main())
    assert sorted(calls) == [4, 4, 9]


def test_app_answers_concurrent_requests_like_single_ones(app: object) -> None:
    rows = [[5.1, 3.5, 1.4, 0.2], [7.7, 3.0, 6.1, 2.3], [6.0, 2.9, 4.5, 1.5]]
    alone = [
        json.loads(asgi_call(app, "POST", "/invocations", json.dumps({"inputs": [r]}).encode())[1])
        for r in rows
    ]
    sent: dict[int, list[dict]] = {i: [] for i in range(len(rows))}

    async def one(i: int) -> None:
        body = json.dumps({"inputs": [rows[i]]}).encode()

        async def receive() -> dict:
            return {"type": "http.request", "body": body, "more_body": False}

        async def send(message: dict) -> None:
            sent[i].append(message)

        scope = {
            "type": "http",
            "method": "POST",
            "path": "/invocations",
            "headers": [(b"content-type", b"application/json")],
        }
        await app(scope, receive, send)  # type: ignore[operator]

    async def main() -> None:
        await asyncio.gather(*(one(i) for i in range(len(rows))))

    asyncio.run(main())
    together = [json.loads(sent[i][1]["body"]) for i in range(len(rows))]
    assert together == alone
    assert len({json.dumps(a) for a in alone}) == 3  # three different classes: no mix-up hidden
