"""The launcher's ready announcement (``slipway.serving.probe.announce_when_ready``): once, when
``/ping`` first answers 200, naming the bound address."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from slipway.serving.probe import announce_when_ready, url


@contextmanager
def pinged(answers: list[int]) -> Iterator[tuple[int, list[int]]]:
    """A server whose ``/ping`` answers each status of ``answers`` in turn, then 200; yields
    its port and the statuses it gave."""
    given: list[int] = []

    class Ping(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            status = answers[len(given)] if len(given) < len(answers) else 200
            given.append(status)
            self.send_response(status)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, format: str, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Ping)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server.server_address[1], given
    finally:
        server.shutdown()
        server.server_close()


def test_the_url_is_announced_once_when_ping_first_answers_200() -> None:
    announced: list[str] = []
    with pinged([503, 503]) as (port, given):
        announce_when_ready("127.0.0.1", port, announced.append, poll=0.01).join(timeout=30)
        assert announced == [f"http://127.0.0.1:{port}"]
        assert given == [503, 503, 200]  # not before, and no asking after


def test_a_wildcard_address_is_asked_on_loopback_and_named_as_bound() -> None:
    announced: list[str] = []
    with pinged([]) as (port, _):
        announce_when_ready("0.0.0.0", port, announced.append).join(timeout=30)
    assert announced == [f"http://0.0.0.0:{port}"]
    assert url("::1", 8080) == "http://[::1]:8080"
