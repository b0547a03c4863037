"""Load the MLflow model once and predict from checked rows, skipping pandas when it can."""

from __future__ import annotations

import json
import logging
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np

from slipway.serving.errors import BadRequest, ModelLoadError, first_line
from slipway.serving.schema import InputSchema, from_signature

log = logging.getLogger(__name__)
Rows = list[list[Any]]
Predict = Callable[[Rows], Any]


@dataclass(frozen=True)
class LoadedModel:
    """What the app needs: the checked input schema, a predict function and labels."""

    uri: str
    schema: InputSchema
    predict: Predict
    path: str  # "numpy" (estimator called directly) or "pandas" (DataFrame needed)
    flavor: str
    version: str
    examples: Rows = field(default_factory=list)  # rows the model predicted when it was loaded
    params_schema: Any = None  # the signature's ParamSchema, if it declares one
    predict_with_params: Callable[[Rows, dict[str, Any]], Any] | None = None  # pyfunc only

    @property
    def batchable(self) -> bool:
        """Rows are predicted independently, so requests may share one call."""
        return self.path == "numpy"

    def check_params(self, params: Any) -> dict[str, Any] | None:
        """The request's ``params`` as MLflow's pyfunc accepts them (``None`` for none):
        ignored when the signature declares none, else cast and checked against it."""
        if params is None or params == {}:
            return None
        if self.params_schema is None:
            _warn_once("params ignored: the model signature declares no params")
            return None
        from mlflow.exceptions import MlflowException
        from mlflow.models.utils import _enforce_params_schema

        try:
            return _enforce_params_schema(params, self.params_schema) or None
        except MlflowException as exc:
            first = (exc.message.strip().splitlines() or ["invalid params"])[0]
            raise BadRequest(
                f"params: {first}", 400, exc.error_code, getattr(exc, "error_class", None)
            ) from None

    def predicts_its_examples(self) -> bool:
        """The model still predicts the rows it predicted at load: a failure on a request's
        rows is then the rows' (400), not the model's (500)."""
        if not self.examples:
            return False
        try:
            self.predict(self.examples)
        except Exception:
            return False
        return True


def load(uri: str, native: bool = True) -> LoadedModel:
    """Load ``uri``; raise ``ModelLoadError`` with a one-line reason when it cannot be served.

    A local sklearn model is read without importing MLflow (``mlmodel.py``) unless
    ``native`` is false; every other model is loaded by ``mlflow.pyfunc``."""
    local = None
    if native:
        from slipway.serving.mlmodel import read_sklearn

        local = read_sklearn(uri)
    if local is not None:
        examples = _example_rows(uri, local.schema, local.path)
        return _sklearn_model(
            uri, local.estimator, local.predict_fn, local.schema, local.version, examples, None
        )
    try:
        import mlflow.pyfunc

        pyfunc = mlflow.pyfunc.load_model(uri)
    except Exception as exc:
        raise ModelLoadError(f"cannot load model {uri!r}: {first_line(exc)}") from None
    signature = pyfunc.metadata.signature
    schema = from_signature(signature)
    params_schema = getattr(signature, "params", None)
    flavors = pyfunc.metadata.flavors
    flavor = "sklearn" if "sklearn" in flavors else pyfunc.loader_module or "python_function"
    version = _version(uri, pyfunc)
    examples = _example_rows(uri, schema)
    if flavor == "sklearn":
        method = flavors.get("python_function", {}).get("predict_fn") or "predict"
        return _sklearn_model(
            uri, pyfunc.get_raw_model(), method, schema, version, examples, params_schema
        )
    schema = replace(schema, allow_nan=True)  # the model decides; it sees what was sent
    model = LoadedModel(
        uri,
        schema,
        _frame_predict(pyfunc.predict, schema),
        "pandas",
        flavor,
        version,
        examples,
        params_schema,
        _frame_predict_with_params(pyfunc.predict, schema),
    )
    return _checked(model)


def _sklearn_model(
    uri: str,
    estimator: Any,
    method: str,
    schema: InputSchema,
    version: str,
    examples: Rows,
    params_schema: Any,
) -> LoadedModel:
    """The estimator called directly: on a float array when that gives the DataFrame's
    answer on the example rows, else on a DataFrame."""
    fn = _fast_config(getattr(estimator, method))
    schema = replace(schema, allow_nan=_allows_nan(estimator))
    fast = _numpy_predict(fn, estimator, schema)
    slow = _frame_predict(fn, schema)
    if fast is not None and _agrees(fast, slow, examples):
        return LoadedModel(uri, schema, fast, "numpy", "sklearn", version, examples, params_schema)
    return _checked(
        LoadedModel(uri, schema, slow, "pandas", "sklearn", version, examples, params_schema)
    )


def _checked(model: LoadedModel) -> LoadedModel:
    if not model.predicts_its_examples():
        log.warning("the model fails on its input example: every failed prediction is a 500")
        model = replace(model, examples=[])
    return model


def _numpy_predict(fn: Callable[[Any], Any], estimator: Any, schema: InputSchema) -> Predict | None:
    """Call the estimator on a float array, columns in the order it was fitted with."""
    if not schema.all_numeric:
        return None
    fitted = getattr(estimator, "feature_names_in_", None)
    names = list(schema.names)
    if fitted is not None:
        if sorted(map(str, fitted)) != sorted(names):
            return None
        order = [names.index(str(n)) for n in fitted]
        if order != list(range(len(names))):
            take = np.asarray(order)
            return lambda rows: fn(np.asarray(rows, dtype=np.float64)[:, take])
    return lambda rows: fn(np.asarray(rows, dtype=np.float64))


def _fast_config(fn: Callable[[Any], Any]) -> Callable[[Any], Any]:
    """Skip sklearn's per-call finiteness and parameter checks: the parser already checked
    every cell (infinity always refused, NaN refused unless the estimator accepts it)."""
    import sklearn

    def call(X: Any) -> Any:
        with (
            sklearn.config_context(assume_finite=True, skip_parameter_validation=True),
            warnings.catch_warnings(),
        ):
            # An array for an estimator fitted on a DataFrame: the column order was checked
            # against feature_names_in_ when the model was loaded.
            warnings.filterwarnings("ignore", message="X does not have valid feature names")
            return fn(X)

    return call


def _frame_predict(fn: Callable[[Any], Any], schema: InputSchema) -> Predict:
    frame = _frame_builder(schema)
    return lambda rows: fn(frame(rows))


def _frame_predict_with_params(
    fn: Callable[..., Any], schema: InputSchema
) -> Callable[[Rows, dict[str, Any]], Any]:
    frame = _frame_builder(schema)
    return lambda rows, params: fn(frame(rows), params=params)


def _frame_builder(schema: InputSchema) -> Callable[[Rows], Any]:
    import pandas as pd

    names = list(schema.names)
    dtypes = {c.name: _pandas_dtype(c.type) for c in schema.columns}
    return lambda rows: pd.DataFrame(rows, columns=names).astype(dtypes)


def _pandas_dtype(kind: str) -> str:
    if kind in ("double", "float"):
        return "float64" if kind == "double" else "float32"
    if kind in ("long", "integer"):
        return "int64" if kind == "long" else "int32"
    return "bool" if kind == "boolean" else "object"


def _agrees(fast: Predict, slow: Predict, examples: list[list[Any]]) -> bool:
    """True when the array path gives the DataFrame path's answer on the example rows."""
    try:
        got = np.asarray(fast(examples))
        want = np.asarray(slow(examples))
    except Exception as exc:
        log.info("numpy fast path disabled: %s", exc)
        return False
    if got.shape != want.shape:
        return False
    if got.dtype.kind in "fc" and want.dtype.kind in "fc":
        return bool(np.allclose(got, want, equal_nan=True))
    return bool(np.array_equal(got, want))


def _allows_nan(estimator: Any) -> bool:
    try:
        from sklearn.utils import get_tags

        return bool(get_tags(estimator).input_tags.allow_nan)
    except Exception:
        return False


def _example_rows(uri: str, schema: InputSchema, local: Path | None = None) -> Rows:
    """The logged input example when there is one, else one synthetic row from the schema."""
    try:
        if local is not None:
            example = local / "input_example.json"
        else:
            from mlflow.artifacts import download_artifacts

            example = Path(download_artifacts(artifact_uri=f"{uri.rstrip('/')}/input_example.json"))
        doc = json.loads(example.read_text())
        if isinstance(doc, dict) and "columns" in doc and "data" in doc:
            names = list(schema.names)
            position = {c: i for i, c in enumerate(doc["columns"])}
            rows = [[row[position[n]] for n in names] for row in doc["data"]]
            if rows:
                return rows
    except Exception as exc:
        log.info("no usable input example: %s", exc)
    synthetic = {"string": "", "boolean": False}
    return [[synthetic.get(c.type, 0.0) for c in schema.columns]]


def _version(uri: str, pyfunc: Any) -> str:
    """Registry version for ``models:/`` URIs, else the run id, else the model uuid."""
    if uri.startswith("models:/"):
        try:
            from mlflow.store.artifact.utils.models import get_model_name_and_version
            from mlflow.tracking import MlflowClient

            _, version = get_model_name_and_version(MlflowClient(), uri)
            return str(version)
        except Exception as exc:
            log.info("cannot resolve registry version of %s: %s", uri, exc)
    meta = pyfunc.metadata
    return str(meta.run_id or meta.model_uuid or "unknown")


_warned: set[str] = set()


def _warn_once(message: str) -> None:
    if message not in _warned:
        _warned.add(message)
        log.warning(message)
