"""Read a local MLflow sklearn model without importing MLflow (issue 17: cold start).

Importing MLflow costs seconds of CPU at every server start. A model that is a local
directory (SageMaker's ``/opt/ml/model``, ``file://`` paths) whose ``MLmodel`` says
``loader_module: mlflow.sklearn`` holds everything the server needs in two files: the
``MLmodel`` YAML (signature, flavor configuration, run id) and the serialized estimator. This
module reads them as MLflow's own loader does (``mlflow.sklearn._load_pyfunc`` and
``_load_model_from_local_file``, MLflow 3.17): the estimator file named by the pyfunc
flavor's ``model_path``, deserialized by the sklearn flavor's ``serialization_format``
(``pickle``, ``cloudpickle`` or ``skops`` with its ``skops_trusted_types``), refused when
``MLFLOW_ALLOW_PICKLE_DESERIALIZATION`` says false.

Anything else returns ``None`` and MLflow loads the model: registry and remote URIs, other
flavors, code paths, model configs, signatures with params or non-column inputs, unknown
formats. ``tests/serving/test_native_load.py`` checks that both ways give the same schema,
version, examples and predictions.
"""

from __future__ import annotations

import json
import logging
import os
import pickle
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlparse

from slipway.serving.errors import ModelLoadError, first_line
from slipway.serving.schema import SUPPORTED, Column, InputSchema

log = logging.getLogger(__name__)

LOADER_MODULE = "mlflow.sklearn"
FORMATS = ("pickle", "cloudpickle", "skops")
ALLOW_ENV = "MLFLOW_ALLOW_PICKLE_DESERIALIZATION"  # MLflow's default: true


@dataclass(frozen=True)
class SklearnModel:
    """What the server needs of an MLflow sklearn model, read from its directory."""

    path: Path
    estimator: Any
    schema: InputSchema
    predict_fn: str
    version: str  # the run id, else the model uuid (as ``model._version`` for local paths)


def local_dir(uri: str) -> Path | None:
    """The directory of a local model URI (a path or ``file://``), else ``None``."""
    parsed = urlparse(uri)
    if parsed.scheme == "file" and parsed.netloc in ("", "localhost"):
        path = Path(unquote(parsed.path))
    elif parsed.scheme == "" or (len(parsed.scheme) == 1 and os.name == "nt"):
        path = Path(uri)
    else:
        return None
    return path if (path / "MLmodel").is_file() else None


def read_sklearn(uri: str) -> SklearnModel | None:
    """The model at ``uri`` when this module can read it as MLflow would, else ``None``.

    Raises ``ModelLoadError`` when the estimator file itself cannot be read (as MLflow
    would fail on it too)."""
    path = local_dir(uri)
    if path is None:
        return None
    try:
        import yaml

        meta = yaml.safe_load((path / "MLmodel").read_text())
    except Exception as exc:
        log.info("MLmodel unreadable here, MLflow loads %s: %s", uri, first_line(exc))
        return None
    try:
        model_file, fmt, trusted, predict_fn, schema = _plan(meta)
    except _NeedsMlflow as reason:
        log.info("MLflow loads %s: %s", uri, reason)
        return None
    estimator = _deserialize(uri, path / model_file, fmt, trusted)
    _warn_version(meta["flavors"]["sklearn"].get("sklearn_version"))
    version = str(meta.get("run_id") or meta.get("model_uuid") or "unknown")
    return SklearnModel(path, estimator, schema, predict_fn, version)


class _NeedsMlflow(Exception):
    """This model is MLflow's to load; the message says why."""


def _plan(meta: Any) -> tuple[str, str, Any, str, InputSchema]:
    """What to load: model file, format, skops trusted types, predict method and schema."""
    if not isinstance(meta, dict):
        raise _NeedsMlflow("MLmodel is not a mapping")
    flavors = meta.get("flavors") or {}
    pyfunc, sklearn = flavors.get("python_function"), flavors.get("sklearn")
    if not isinstance(pyfunc, dict) or not isinstance(sklearn, dict):
        raise _NeedsMlflow("not an sklearn model with a python_function flavor")
    if pyfunc.get("loader_module") != LOADER_MODULE:
        raise _NeedsMlflow(f"loader_module is {pyfunc.get('loader_module')!r}")
    if pyfunc.get("code") or sklearn.get("code") or pyfunc.get("config"):
        raise _NeedsMlflow("the model brings code paths or a model config")
    fmt = sklearn.get("serialization_format", "pickle")
    if fmt not in FORMATS:
        raise _NeedsMlflow(f"serialization format {fmt!r}")
    if os.environ.get(ALLOW_ENV, "true").lower() not in ("true", "1"):
        raise _NeedsMlflow(f"{ALLOW_ENV} is not true")
    model_file = pyfunc.get("model_path")
    if not isinstance(model_file, str):
        raise _NeedsMlflow("no model_path")
    schema = _schema(meta.get("signature"))
    if schema is None:
        raise _NeedsMlflow("the signature has params or inputs other than named columns")
    predict_fn = pyfunc.get("predict_fn") or "predict"
    return model_file, fmt, sklearn.get("skops_trusted_types"), predict_fn, schema


def _schema(signature: Any) -> InputSchema | None:
    """The column schema of an MLmodel signature (as ``schema.from_signature`` compiles
    MLflow's ``ModelSignature``), or ``None`` for anything but named, supported columns
    without params (MLflow then loads the model and explains any refusal)."""
    if not isinstance(signature, dict) or signature.get("params") or not signature.get("inputs"):
        return None
    try:
        inputs = json.loads(signature["inputs"])
    except (TypeError, ValueError):
        return None
    columns = []
    for spec in inputs if isinstance(inputs, list) else [None]:
        if not isinstance(spec, dict) or not isinstance(spec.get("name"), str):
            return None
        if spec.get("type") not in SUPPORTED:
            return None
        columns.append(Column(spec["name"], spec["type"], bool(spec.get("required", True))))
    return InputSchema(tuple(columns)) if columns else None


def _deserialize(uri: str, file: Path, fmt: str, trusted: Any) -> Any:
    try:
        if fmt == "skops":
            import skops.io

            return skops.io.load(file, trusted=trusted)
        with file.open("rb") as f:
            # cloudpickle writes standard pickles; what they reference (cloudpickle's own
            # helpers included) is imported by pickle as it loads.
            return pickle.load(f)
    except Exception as exc:
        raise ModelLoadError(f"cannot load model {uri!r}: {first_line(exc)}") from None


def _warn_version(saved: Any) -> None:
    """MLflow warns when the installed scikit-learn differs from the one that saved it."""
    try:
        import sklearn

        if saved and str(saved) != sklearn.__version__:
            log.warning(
                "model saved with scikit-learn %s, serving with %s", saved, sklearn.__version__
            )
    except ImportError:  # pragma: no cover - the estimator needs scikit-learn
        pass
