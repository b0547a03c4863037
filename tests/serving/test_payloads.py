"""Every accepted request shape predicts like the model; every malformed one gets a 4xx."""

from __future__ import annotations

import json

import pytest
from serving_support import FEATURES, asgi_call

SETOSA = [5.1, 3.5, 1.4, 0.2]
VIRGINICA = [7.7, 3.0, 6.1, 2.3]


def predict(app: object, doc: object) -> list:
    status, body = asgi_call(app, "POST", "/invocations", json.dumps(doc).encode())
    assert status == 200, body
    return json.loads(body)["predictions"]


@pytest.fixture(scope="module")
def expected(model_uri: str) -> list:
    """What MLflow's own pyfunc predicts for the two rows."""
    import mlflow.pyfunc
    import pandas as pd

    frame = pd.DataFrame([SETOSA, VIRGINICA], columns=FEATURES)
    return mlflow.pyfunc.load_model(model_uri).predict(frame).tolist()


def test_fast_numpy_path_is_used_for_sklearn(app: object) -> None:
    assert app.model.path == "numpy"  # type: ignore[attr-defined]


def test_expected_classes_differ(expected: list) -> None:
    assert expected[0] != expected[1]  # the shapes below could not all pass by luck


@pytest.mark.parametrize(
    "doc",
    [
        {"dataframe_split": {"columns": FEATURES, "data": [SETOSA, VIRGINICA]}},
        {"dataframe_split": {"columns": FEATURES[::-1], "data": [SETOSA[::-1], VIRGINICA[::-1]]}},
        {"dataframe_split": {"index": [0, 1], "columns": FEATURES, "data": [SETOSA, VIRGINICA]}},
        {
            "dataframe_records": [
                dict(zip(FEATURES, SETOSA, strict=True)),
                dict(zip(FEATURES, VIRGINICA, strict=True)),
            ]
        },
        {"inputs": {f: [a, b] for f, a, b in zip(FEATURES, SETOSA, VIRGINICA, strict=True)}},
        {
            "inputs": [
                dict(zip(FEATURES, SETOSA, strict=True)),
                dict(zip(FEATURES, VIRGINICA, strict=True)),
            ]
        },
        {"inputs": [SETOSA, VIRGINICA]},
        {
            "instances": [
                dict(zip(FEATURES, SETOSA, strict=True)),
                dict(zip(FEATURES, VIRGINICA, strict=True)),
            ]
        },
    ],
    ids=[
        "split",
        "split-reordered",
        "split-index",
        "records",
        "inputs-columns",
        "inputs-records",
        "inputs-lists",
        "instances",
    ],
)
def test_json_shapes_predict_like_mlflow(app: object, doc: object, expected: list) -> None:
    assert predict(app, doc) == expected


def test_single_row_columnar_scalars(app: object, expected: list) -> None:
    assert predict(app, {"inputs": dict(zip(FEATURES, SETOSA, strict=True))}) == expected[:1]


def test_integers_are_accepted_for_double_columns(app: object) -> None:
    assert predict(app, {"inputs": [[5, 3, 1, 0]]}) == predict(
        app, {"inputs": [[5.0, 3.0, 1.0, 0.0]]}
    )


def test_csv_one_and_many_rows(app: object, expected: list) -> None:
    header = ",".join(FEATURES[::-1])
    rows = "\n".join(",".join(map(str, r[::-1])) for r in (SETOSA, VIRGINICA))
    status, body = asgi_call(
        app, "POST", "/invocations", f"{header}\n{rows}\n".encode(), "text/csv"
    )
    assert status == 200, body
    assert json.loads(body)["predictions"] == expected
    one = f"{header}\n{','.join(map(str, SETOSA[::-1]))}".encode()
    assert json.loads(asgi_call(app, "POST", "/invocations", one, "text/csv")[1]) == {
        "predictions": expected[:1]
    }


def test_body_sent_in_chunks(app: object, expected: list) -> None:
    doc = {"inputs": [SETOSA, VIRGINICA]}
    status, body = asgi_call(app, "POST", "/invocations", json.dumps(doc).encode(), chunks=5)
    assert (status, json.loads(body)["predictions"]) == (200, expected)


def test_content_type_with_charset(app: object) -> None:
    body = json.dumps({"inputs": [SETOSA]}).encode()
    status, _ = asgi_call(app, "POST", "/invocations", body, "application/json; charset=utf-8")
    assert status == 200


def _doc(**overrides: object) -> bytes:
    return json.dumps(
        {"dataframe_split": {"columns": FEATURES, "data": [SETOSA], **overrides}}
    ).encode()


def _row(*cells: object) -> bytes:
    return json.dumps({"inputs": [list(cells)]}).encode()


def _record(**cells: object) -> bytes:
    return json.dumps(
        {"dataframe_records": [{**dict(zip(FEATURES, SETOSA, strict=True)), **cells}]}
    ).encode()


BIG = b'{"inputs": [' + b",".join([b"[1.0, 2.0, 3.0, 4.0]"] * 400_000) + b"]}"

# (id, body, content type, expected status, words the message must contain)
MALFORMED = [
    ("invalid-json", b'{"inputs": [[1, 2,', "application/json", 400, "invalid JSON"),
    ("empty-body", b"", "application/json", 400, "empty body"),
    ("wrong-content-type", _row(*SETOSA), "text/plain", 415, "text/plain"),
    ("no-content-type", _row(*SETOSA), None, 415, "not supported"),
    ("json-not-object", b"[[1, 2, 3, 4]]", "application/json", 400, "must be an object"),
    ("unknown-key", b'{"rows": [[1, 2, 3, 4]]}', "application/json", 400, "unknown key"),
    (
        "two-shapes",
        b'{"inputs": [[1,2,3,4]], "instances": [[1,2,3,4]]}',
        "application/json",
        400,
        "exactly one",
    ),
    (
        "split-not-object",
        b'{"dataframe_split": [[1,2,3,4]]}',
        "application/json",
        400,
        "dataframe_split must be an object",
    ),
    ("split-data-not-list", _doc(data="x"), "application/json", 400, "data must be a list"),
    ("row-not-list", _doc(data=[5.1]), "application/json", 400, "must be a list of 4 values"),
    ("row-too-short", _doc(data=[[5.1, 3.5]]), "application/json", 400, "has 2 values, expected 4"),
    (
        "missing-column",
        _doc(columns=FEATURES[:3], data=[SETOSA[:3]]),
        "application/json",
        400,
        "missing column(s) ['petal_width']",
    ),
    (
        "unknown-column",
        _record(colour="red"),
        "application/json",
        400,
        "unknown column(s) ['colour']",
    ),
    (
        "duplicate-column",
        _doc(columns=[*FEATURES[:3], FEATURES[0]]),
        "application/json",
        400,
        "duplicate column(s) ['sepal_length']",
    ),
    (
        "string-for-double",
        _row("5.1", 3.5, 1.4, 0.2),
        "application/json",
        400,
        "column 'sepal_length': expected a number",
    ),
    (
        "bool-for-double",
        _row(5.1, True, 1.4, 0.2),
        "application/json",
        400,
        "column 'sepal_width': expected a number",
    ),
    (
        "nested-value",
        _row(5.1, 3.5, [1.4], 0.2),
        "application/json",
        400,
        "column 'petal_length': expected a number",
    ),
    (
        "null-required",
        _record(petal_width=None),
        "application/json",
        400,
        "column 'petal_width': value is required",
    ),
    (
        "nan-not-allowed",
        b'{"inputs": [[NaN, 3.5, 1.4, 0.2]]}',
        "application/json",
        400,
        "NaN is not allowed",
    ),
    (
        "infinity",
        b'{"inputs": [[5.1, Infinity, 1.4, 0.2]]}',
        "application/json",
        400,
        "infinity is not allowed",
    ),
    ("zero-rows", _doc(data=[]), "application/json", 400, "no rows"),
    (
        "records-not-list",
        b'{"dataframe_records": {"a": 1}}',
        "application/json",
        400,
        "must be a list of objects",
    ),
    (
        "record-not-object",
        b'{"dataframe_records": [[1, 2, 3, 4]]}',
        "application/json",
        400,
        "must be an object mapping",
    ),
    (
        "columns-uneven",
        json.dumps({"inputs": {f: [1.0] for f in FEATURES} | {"petal_width": [1, 2]}}).encode(),
        "application/json",
        400,
        "different lengths",
    ),
    ("inputs-scalar", b'{"inputs": 3}', "application/json", 400, "must be a list of rows"),
    ("invalid-utf8", b'{"inputs": [["\xff\xfe"]]}', "application/json", 400, "invalid JSON"),
    ("too-large", BIG, "application/json", 413, "body too large"),
    (
        "csv-bad-number",
        b"sepal_length,sepal_width,petal_length,petal_width\n5.1,abc,1.4,0.2\n",
        "text/csv",
        400,
        "column 'sepal_width': expected a number",
    ),
    (
        "csv-ragged-row",
        b"sepal_length,sepal_width,petal_length,petal_width\n5.1,3.5,1.4\n",
        "text/csv",
        400,
        "has 3 fields, expected 4",
    ),
    (
        "csv-missing-column",
        b"sepal_length,sepal_width,petal_length\n5.1,3.5,1.4\n",
        "text/csv",
        400,
        "missing column(s) ['petal_width']",
    ),
    (
        "csv-header-only",
        b"sepal_length,sepal_width,petal_length,petal_width\n",
        "text/csv",
        400,
        "no rows",
    ),
    (
        "csv-empty-field",
        b"sepal_length,sepal_width,petal_length,petal_width\n5.1,,1.4,0.2\n",
        "text/csv",
        400,
        "column 'sepal_width': value is required",
    ),
]


@pytest.mark.parametrize(
    ("body", "content_type", "status", "words"),
    [m[1:] for m in MALFORMED],
    ids=[m[0] for m in MALFORMED],
)
def test_malformed_payload_is_refused_with_a_message(
    app: object, body: bytes, content_type: str | None, status: int, words: str
) -> None:
    got, answer = asgi_call(app, "POST", "/invocations", body, content_type)
    assert got == status, answer
    message = json.loads(answer)["message"]
    assert words in message
    assert "\n" not in message
    assert asgi_call(app, "POST", "/invocations", _row(*SETOSA))[0] == 200  # still serving


def test_at_least_twenty_kinds_of_malformed_payloads() -> None:
    assert len({m[0] for m in MALFORMED}) >= 20


def test_too_many_rows(model_uri: str, monkeypatch: pytest.MonkeyPatch) -> None:
    from slipway.serving import create_app

    monkeypatch.setenv("SLIPWAY_MAX_ROWS", "2")
    small = create_app(model_uri)
    status, body = asgi_call(
        small, "POST", "/invocations", json.dumps({"inputs": [SETOSA] * 3}).encode()
    )
    assert status == 413 and "too many rows: 3 > 2" in json.loads(body)["message"]


@pytest.mark.parametrize(
    ("method", "path", "status"),
    [("GET", "/invocations", 405), ("POST", "/ping", 405), ("GET", "/predict", 404)],
)
def test_wrong_route_or_method(app: object, method: str, path: str, status: int) -> None:
    got, body = asgi_call(app, method, path)
    assert got == status and json.loads(body)["message"]
