"""Errors the server turns into a refusal to start or into a 4xx answer."""

from __future__ import annotations


class ModelLoadError(RuntimeError):
    """The model cannot be served (missing, corrupt, or without a usable signature)."""


class BadRequest(ValueError):
    """A request the server refuses; ``status`` is the HTTP code, the message says why."""

    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.status = status
