"""A local sklearn model loads without MLflow and serves exactly what MLflow's loader serves.

``slipway.serving.mlmodel`` reads ``MLmodel`` and the estimator file itself (issue 17: cold
start); these tests load the same saved models both ways, for each serialization format and
predict method MLflow writes, and compare everything the app uses.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from serving_support import FEATURES
from slipway.serving import ModelLoadError, errors
from slipway.serving.mlmodel import read_sklearn
from slipway.serving.model import LoadedModel, load


def save(path: Path, fmt: str, predict_fn: str = "predict") -> str:
    """A pipeline (scaler + logistic regression) fitted on a DataFrame, saved in ``fmt`` with
    its signature and an input example."""
    import mlflow.sklearn
    import pandas as pd
    from mlflow.models import infer_signature
    from sklearn.datasets import load_iris
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    iris = load_iris()
    frame = pd.DataFrame(iris.data, columns=FEATURES)
    model = make_pipeline(StandardScaler(), LogisticRegression(max_iter=500))
    model.fit(frame, iris.target)
    mlflow.sklearn.save_model(
        model,
        str(path),
        serialization_format=fmt,
        signature=infer_signature(frame, model.predict(frame)),
        input_example=frame.head(3),
        pyfunc_predict_fn=predict_fn,
        pip_requirements=mlflow.sklearn.get_default_pip_requirements(),
    )
    return str(path)


@pytest.fixture(scope="module")
def rows() -> list[list[float]]:
    rng = np.random.default_rng(17)
    return rng.uniform(0.1, 8.0, size=(64, len(FEATURES))).round(2).tolist()


def same(native: LoadedModel, mlflow_loaded: LoadedModel, rows: list[list[float]]) -> None:
    assert native.schema == mlflow_loaded.schema
    assert (native.path, native.flavor, native.version) == (
        mlflow_loaded.path,
        mlflow_loaded.flavor,
        mlflow_loaded.version,
    )
    assert native.examples == mlflow_loaded.examples and len(native.examples) == 3
    assert native.params_schema is None and mlflow_loaded.params_schema is None
    got, want = np.asarray(native.predict(rows)), np.asarray(mlflow_loaded.predict(rows))
    assert got.dtype == want.dtype and np.array_equal(got, want)


@pytest.mark.parametrize(
    ("fmt", "predict_fn"),
    [
        ("cloudpickle", "predict"),  # what the template's train step logs
        ("pickle", "predict"),
        ("skops", "predict"),  # MLflow 3's default
        ("cloudpickle", "predict_proba"),
    ],
)
def test_native_load_serves_what_mlflow_loads(
    tmp_path: Path, rows: list[list[float]], fmt: str, predict_fn: str
) -> None:
    uri = save(tmp_path / "model", fmt, predict_fn)
    assert read_sklearn(uri) is not None  # the native reader did read it
    same(load(uri), load(uri, native=False), rows)


def test_file_uri_is_read_natively(tmp_path: Path, rows: list[list[float]]) -> None:
    path = save(tmp_path / "model", "cloudpickle")
    uri = Path(path).as_uri()
    assert read_sklearn(uri) is not None
    same(load(uri), load(path, native=False), rows)


def test_signature_with_params_is_left_to_mlflow(mixed_model_uri: str) -> None:
    assert read_sklearn(mixed_model_uri) is None
    assert load(mixed_model_uri).params_schema is not None


def test_unsupported_format_and_remote_uris_are_left_to_mlflow(tmp_path: Path) -> None:
    uri = save(tmp_path / "model", "cloudpickle")
    meta = Path(uri, "MLmodel")
    meta.write_text(meta.read_text().replace("loader_module: mlflow.sklearn", "loader_module: x"))
    assert read_sklearn(uri) is None
    assert read_sklearn("models:/iris@champion") is None
    assert read_sklearn("s3://bucket/model") is None
    assert read_sklearn(str(tmp_path / "nowhere")) is None


def test_deserialization_refused_by_mlflow_setting_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    uri = save(tmp_path / "model", "cloudpickle")
    monkeypatch.setenv("MLFLOW_ALLOW_PICKLE_DESERIALIZATION", "false")
    assert read_sklearn(uri) is None  # MLflow decides, and refuses
    with pytest.raises(ModelLoadError, match="MLFLOW_ALLOW_PICKLE_DESERIALIZATION"):
        load(uri)


def test_corrupt_pickle_is_a_one_line_refusal(tmp_path: Path) -> None:
    uri = save(tmp_path / "model", "cloudpickle")
    Path(uri, "model.pkl").write_bytes(b"not a pickle")
    with pytest.raises(ModelLoadError, match=r"^cannot load model .*model'"):
        load(uri)


SERVE_WITHOUT_MLFLOW = """
import json, sys
sys.path.insert(0, {support!r})
from serving_support import asgi_call
from slipway.serving import create_app
app = create_app({uri!r})
body = json.dumps({{"dataframe_split": {{"columns": {features!r}, "data": {rows!r}}}}}).encode()
status, answer = asgi_call(app, "POST", "/invocations", body)
version = asgi_call(app, "GET", "/version", content_type=None)
refused = asgi_call(app, "POST", "/invocations", b"{{")
print(json.dumps([status, json.loads(answer), version[0], version[1].decode(),
                  refused[0], json.loads(refused[1]),
                  sorted(m for m in sys.modules if m.split(".")[0] == "mlflow")]))
"""


def test_server_loads_and_answers_without_importing_mlflow(
    tmp_path: Path, rows: list[list[float]]
) -> None:
    """A fresh interpreter builds the app, predicts, answers ``/version`` and refuses a bad
    request with no module of MLflow imported; its predictions are MLflow's loader's."""
    from mlflow.version import VERSION

    uri = save(tmp_path / "model", "cloudpickle")
    script = SERVE_WITHOUT_MLFLOW.format(
        support=str(Path(__file__).parent), uri=uri, features=FEATURES, rows=rows
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr[-2000:]
    status, answer, version_status, version, refusal, error, mlflow_modules = json.loads(
        done.stdout
    )
    assert mlflow_modules == []
    assert (status, version_status, version, refusal) == (200, 200, VERSION, 400)
    assert error["error_code"] == "BAD_REQUEST" and error["sqlstate"] == "KAM00"
    assert answer["predictions"] == np.asarray(load(uri, native=False).predict(rows)).tolist()


def test_error_classification_table_is_mlflows() -> None:
    """The pinned classification (answered without importing MLflow) is what MLflow computes
    for each code, today and after an MLflow upgrade."""
    assert errors.CLASSIFIED  # every code and class the server answers without MLflow
    for (code, error_class), pinned in errors.CLASSIFIED.items():
        assert errors._classification(code, error_class) == pinned, (code, error_class)
    statuses = set(errors.CODE_OF_STATUS.values()) | {errors.INVALID_PARAMETER_VALUE}
    assert statuses <= {code for code, _ in errors.CLASSIFIED}
