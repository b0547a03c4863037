"""Errors the server turns into a refusal to start or into an error answer, and their bodies.

Error bodies are MLflow's (``mlflow.exceptions.MlflowException.serialize_as_json``):
``error_code``, ``message`` and, as MLflow classifies the code, ``sqlstate`` and
``error_class``. Clients of ``mlflow models serve`` read them unchanged.
"""

from __future__ import annotations

import functools
import json

# error_code of each answer. MLflow's own codes where MLflow has one for the case; HTTP's
# reason phrase otherwise (MLflow answers 405 and 415 without a JSON body, 413 never).
BAD_REQUEST = "BAD_REQUEST"  # syntax, shape, a cell that cannot be its column's type
INVALID_PARAMETER_VALUE = "INVALID_PARAMETER_VALUE"  # columns the signature refuses, params
INTERNAL_ERROR = "INTERNAL_ERROR"  # the model failed on its own example too
CODE_OF_STATUS = {
    400: BAD_REQUEST,
    404: "ENDPOINT_NOT_FOUND",
    405: "METHOD_NOT_ALLOWED",
    413: "PAYLOAD_TOO_LARGE",
    415: "UNSUPPORTED_MEDIA_TYPE",
    500: INTERNAL_ERROR,
}
SCHEMA_ENFORCEMENT_FAILED = "SCHEMA_ENFORCEMENT_FAILED"  # MLflow's error_class for these


class ModelLoadError(RuntimeError):
    """The model cannot be served (missing, corrupt, or without a usable signature)."""


class BadRequest(ValueError):
    """A request the server refuses; ``status`` is the HTTP code, the message says why.

    ``code`` is the body's ``error_code`` (by default the status's own, ``CODE_OF_STATUS``).
    """

    def __init__(
        self,
        message: str,
        status: int = 400,
        code: str | None = None,
        error_class: str | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code or CODE_OF_STATUS.get(status, BAD_REQUEST)
        self.error_class = error_class


class InvalidValue(BadRequest):
    """Columns the model's signature refuses (missing, duplicated, not names): 400,
    ``INVALID_PARAMETER_VALUE``, ``SCHEMA_ENFORCEMENT_FAILED``, as MLflow's schema enforcement.
    A cell that cannot be its column's type is a ``BAD_REQUEST``, as MLflow's cast failures."""

    def __init__(self, message: str) -> None:
        super().__init__(message, 400, INVALID_PARAMETER_VALUE, SCHEMA_ENFORCEMENT_FAILED)


def first_line(exc: BaseException) -> str:
    """The first line of an exception's message (its type when it has none), at most 200
    characters: what an answer or a log line carries."""
    return (str(exc).strip().splitlines() or [type(exc).__name__])[0][:200]


def error_body(message: str, code: str = BAD_REQUEST, error_class: str | None = None) -> bytes:
    """MLflow's error document for ``code``, with MLflow's ``sqlstate``/``error_class``."""
    doc = {"error_code": code, "message": message, **_classified(code, error_class)}
    return json.dumps(doc, separators=(",", ":")).encode()


# MLflow's classification of the errors this server answers, as MLflow 3.17 computes it
# (``_classification`` below): a worker that loaded its model without MLflow answers its first
# bad request without importing MLflow (seconds of a blocked event loop). A test checks every
# entry against MLflow's own computation; any other pair is computed by MLflow.
_CLIENT = {"sqlstate": "KAM00", "error_class": "INVALID_PARAMETER_VALUE"}
CLASSIFIED: dict[tuple[str, str | None], dict[str, str]] = {
    (BAD_REQUEST, None): _CLIENT,
    (INVALID_PARAMETER_VALUE, None): _CLIENT,
    (INVALID_PARAMETER_VALUE, SCHEMA_ENFORCEMENT_FAILED): {
        "sqlstate": "KAM01",
        "error_class": SCHEMA_ENFORCEMENT_FAILED,
    },
    ("ENDPOINT_NOT_FOUND", None): {"sqlstate": "KAM00", "error_class": "RESOURCE_NOT_FOUND"},
    ("METHOD_NOT_ALLOWED", None): _CLIENT,
    ("PAYLOAD_TOO_LARGE", None): _CLIENT,
    ("UNSUPPORTED_MEDIA_TYPE", None): _CLIENT,
    (INTERNAL_ERROR, None): {"sqlstate": "XXM00", "error_class": "CLIENT_INTERNAL_ERROR"},
}


def _classified(code: str, error_class: str | None) -> dict[str, str]:
    return CLASSIFIED.get((code, error_class)) or _classification(code, error_class)


@functools.cache
def _classification(code: str, error_class: str | None) -> dict[str, str]:
    """What MLflow adds to an error of ``code``; a code MLflow does not know (405, 413, 415)
    is a client error, classified as MLflow classifies ``BAD_REQUEST``."""
    try:
        from mlflow.exceptions import MlflowException
        from mlflow.protos.databricks_pb2 import ErrorCode
    except ImportError:  # pragma: no cover - mlflow is what loads the model
        return {}
    known = code in ErrorCode.DESCRIPTOR.values_by_name
    exc = MlflowException(
        "", error_code=ErrorCode.Value(code if known else BAD_REQUEST), error_class=error_class
    )
    doc = json.loads(exc.serialize_as_json())
    return {k: doc[k] for k in ("sqlstate", "error_class") if k in doc}
