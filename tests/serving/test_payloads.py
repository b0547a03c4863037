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


@pytest.mark.parametrize("charset", ["utf-8", "UTF-8", '"utf-8"', "utf8"])
def test_content_type_with_charset(app: object, charset: str) -> None:
    body = json.dumps({"inputs": [SETOSA]}).encode()
    ctype = f"application/json; charset={charset}"
    assert asgi_call(app, "POST", "/invocations", body, ctype)[0] == 200


# What `mlflow models serve` accepts and a client moving from it may send (MLflow 3.17.2,
# measured side by side in test_mlflow_contract.py).
def test_mlflow_extensions_predict_like_the_plain_request(app: object, expected: list) -> None:
    split = {"columns": FEATURES, "data": [SETOSA, VIRGINICA]}
    as_text = {"columns": FEATURES, "data": [[str(v) for v in r] for r in (SETOSA, VIRGINICA)]}
    records = [
        {**dict(zip(FEATURES, r, strict=True)), "customer_id": "c-1"} for r in (SETOSA, VIRGINICA)
    ]
    for doc in (
        {"dataframe_split": split, "params": {"threshold": 0.5}},  # params: the model has none
        {"dataframe_split": split, "client_version": "1.2"},  # an extra top-level key
        {"dataframe_records": records},  # an extra column
        {"dataframe_split": as_text},  # numbers sent as strings
        {"dataframe_split": {**split, "index": ["a", "b"]}},
    ):
        assert predict(app, doc) == expected, doc


def test_parquet_body(app: object, expected: list) -> None:
    import pandas as pd

    frame = pd.DataFrame([SETOSA, VIRGINICA], columns=FEATURES)[FEATURES[::-1]].assign(extra="x")
    status, body = asgi_call(
        app, "POST", "/invocations", frame.to_parquet(), "application/vnd.apache.parquet"
    )
    assert (status, json.loads(body)) == (200, {"predictions": expected})


def test_health_and_version_routes_of_mlflow(app: object) -> None:
    from mlflow.version import VERSION

    assert asgi_call(app, "GET", "/health") == (200, b'{"status":"ok"}')
    assert asgi_call(app, "GET", "/version") == (200, VERSION.encode())


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
DEEP = 100_000
JSON = "application/json"
BAD, INVALID = "BAD_REQUEST", "INVALID_PARAMETER_VALUE"

# (id, body, content type, expected status, error_code, words the message must contain)
MALFORMED = [
    ("invalid-json", b'{"inputs": [[1, 2,', JSON, 400, BAD, "invalid JSON"),
    ("empty-body", b"", JSON, 400, BAD, "empty body"),
    (
        "wrong-content-type",
        _row(*SETOSA),
        "text/plain",
        415,
        "UNSUPPORTED_MEDIA_TYPE",
        "text/plain",
    ),
    ("no-content-type", _row(*SETOSA), None, 415, "UNSUPPORTED_MEDIA_TYPE", "not supported"),
    (
        "latin-1-charset",
        _row(*SETOSA),
        f"{JSON}; charset=latin-1",
        415,
        "UNSUPPORTED_MEDIA_TYPE",
        "latin-1",
    ),
    ("unknown-type-parameter", _row(*SETOSA), f"{JSON}; x=y", 415, "UNSUPPORTED_MEDIA_TYPE", "'x'"),
    ("json-not-object", b"[[1, 2, 3, 4]]", JSON, 400, BAD, "must be an object"),
    ("no-shape-key", b'{"rows": [[1, 2, 3, 4]]}', JSON, 400, BAD, "exactly one of"),
    (
        "two-shapes",
        b'{"inputs": [[1,2,3,4]], "instances": [[1,2,3,4]]}',
        JSON,
        400,
        BAD,
        "exactly one",
    ),
    (
        "split-not-object",
        b'{"dataframe_split": [[1,2,3,4]]}',
        JSON,
        400,
        BAD,
        "dataframe_split must be an object",
    ),
    ("split-data-not-list", _doc(data="x"), JSON, 400, BAD, "data must be a list"),
    ("split-index-length", _doc(index=[0, 1]), JSON, 400, BAD, "index must be a list of 1"),
    ("row-not-list", _doc(data=[5.1]), JSON, 400, BAD, "must be a list of 4 values"),
    ("row-too-short", _doc(data=[[5.1, 3.5]]), JSON, 400, BAD, "has 2 values, expected 4"),
    (
        "missing-column",
        _doc(columns=FEATURES[:3], data=[SETOSA[:3]]),
        JSON,
        400,
        INVALID,
        "missing column(s) ['petal_width']",
    ),
    (
        "duplicate-column",
        _doc(columns=[*FEATURES[:3], FEATURES[0]]),
        JSON,
        400,
        INVALID,
        "duplicate column(s) ['sepal_length']",
    ),
    (
        "word-for-double",
        _row("five", 3.5, 1.4, 0.2),
        JSON,
        400,
        BAD,
        "column 'sepal_length': expected a number",
    ),
    (
        "bool-for-double",
        _row(5.1, True, 1.4, 0.2),
        JSON,
        400,
        BAD,
        "column 'sepal_width': expected a number",
    ),
    (
        "nested-value",
        _row(5.1, 3.5, [1.4], 0.2),
        JSON,
        400,
        BAD,
        "column 'petal_length': expected a number",
    ),
    (
        "null-required",
        _record(petal_width=None),
        JSON,
        400,
        BAD,
        "column 'petal_width': value is required",
    ),
    (
        "nan-not-allowed",
        b'{"inputs": [[NaN, 3.5, 1.4, 0.2]]}',
        JSON,
        400,
        BAD,
        "NaN is not allowed",
    ),
    ("nan-as-text", _row("nan", 3.5, 1.4, 0.2), JSON, 400, BAD, "NaN is not allowed"),
    (
        "infinity",
        b'{"inputs": [[5.1, Infinity, 1.4, 0.2]]}',
        JSON,
        400,
        BAD,
        "infinity is not allowed",
    ),
    (
        "float-overflow",
        b'{"inputs": [[5.1, 1e999, 1.4, 0.2]]}',
        JSON,
        400,
        BAD,
        "infinity is not allowed",
    ),
    (
        "int-too-large-for-a-float",
        b'{"inputs": [[1' + b"0" * 400 + b", 3.5, 1.4, 0.2]]}",
        JSON,
        400,
        BAD,
        "out of range for double",
    ),
    (
        "int-with-too-many-digits",
        b'{"inputs": [[1' + b"0" * 5000 + b", 3.5, 1.4, 0.2]]}",
        JSON,
        400,
        BAD,
        "invalid JSON",
    ),
    ("open-brackets", b"[" * 1_000_000, JSON, 400, BAD, "nested too deeply"),
    (
        "nested-100000-deep",
        b'{"inputs": ' + b"[" * DEEP + b"]" * DEEP + b"}",
        JSON,
        400,
        BAD,
        "nested too deeply",
    ),
    (
        "value-nested-900-deep",
        b'{"inputs": [[' + b"[" * 900 + b"]" * 900 + b", 3.5, 1.4, 0.2]]}",
        JSON,
        400,
        BAD,
        "expected a number",
    ),
    ("zero-rows", _doc(data=[]), JSON, 400, BAD, "no rows"),
    (
        "records-not-list",
        b'{"dataframe_records": {"a": 1}}',
        JSON,
        400,
        BAD,
        "must be a list of objects",
    ),
    (
        "record-not-object",
        b'{"dataframe_records": [[1, 2, 3, 4]]}',
        JSON,
        400,
        BAD,
        "must be an object mapping",
    ),
    (
        "columns-uneven",
        json.dumps({"inputs": {f: [1.0] for f in FEATURES} | {"petal_width": [1, 2]}}).encode(),
        JSON,
        400,
        BAD,
        "different lengths",
    ),
    ("inputs-scalar", b'{"inputs": 3}', JSON, 400, BAD, "must be a list of rows"),
    ("invalid-utf8", b'{"inputs": [["\xff\xfe"]]}', JSON, 400, BAD, "invalid JSON"),
    ("too-large", BIG, JSON, 413, "PAYLOAD_TOO_LARGE", "body too large"),
    (
        "csv-bad-number",
        b"sepal_length,sepal_width,petal_length,petal_width\n5.1,abc,1.4,0.2\n",
        "text/csv",
        400,
        BAD,
        "column 'sepal_width': expected a number",
    ),
    (
        "csv-ragged-row",
        b"sepal_length,sepal_width,petal_length,petal_width\n5.1,3.5,1.4\n",
        "text/csv",
        400,
        BAD,
        "has 3 fields, expected 4",
    ),
    (
        "csv-missing-column",
        b"sepal_length,sepal_width,petal_length\n5.1,3.5,1.4\n",
        "text/csv",
        400,
        INVALID,
        "missing column(s) ['petal_width']",
    ),
    (
        "csv-header-only",
        b"sepal_length,sepal_width,petal_length,petal_width\n",
        "text/csv",
        400,
        BAD,
        "no rows",
    ),
    (
        "csv-empty-field",
        b"sepal_length,sepal_width,petal_length,petal_width\n5.1,,1.4,0.2\n",
        "text/csv",
        400,
        BAD,
        "column 'sepal_width': value is required",
    ),
    ("csv-bad-quote", b'sepal_length,"a"b\n1,2\n', "text/csv", 400, BAD, "invalid CSV"),
    (
        "parquet-not-parquet",
        b"PAR1 not really",
        "application/vnd.apache.parquet",
        400,
        BAD,
        "invalid Parquet",
    ),
]


@pytest.mark.parametrize(
    ("body", "content_type", "status", "code", "words"),
    [m[1:] for m in MALFORMED],
    ids=[m[0] for m in MALFORMED],
)
def test_malformed_payload_is_refused_with_a_message(
    app: object, body: bytes, content_type: str | None, status: int, code: str, words: str
) -> None:
    got, answer = asgi_call(app, "POST", "/invocations", body, content_type)
    assert got == status, answer
    error = json.loads(answer)
    assert error["error_code"] == code and words in error["message"], error
    assert "\n" not in error["message"] and len(error["message"]) < 400
    assert error["error_class"]  # MLflow's classification of the code
    assert asgi_call(app, "POST", "/invocations", _row(*SETOSA))[0] == 200  # still serving


def test_schema_errors_are_classified_as_mlflow_classifies_them(app: object) -> None:
    _, answer = asgi_call(app, "POST", "/invocations", _doc(columns=FEATURES[:3], data=[[1, 2, 3]]))
    error = json.loads(answer)
    assert (error["error_class"], error["sqlstate"]) == ("SCHEMA_ENFORCEMENT_FAILED", "KAM01")
    _, answer = asgi_call(app, "POST", "/invocations", _row(5.1, True, 1.4, 0.2))
    error = json.loads(answer)
    assert (error["error_class"], error["sqlstate"]) == ("INVALID_PARAMETER_VALUE", "KAM00")


def test_many_kinds_of_malformed_payloads() -> None:
    assert len({m[0] for m in MALFORMED}) == len(MALFORMED) >= 40


def test_too_many_rows(model_uri: str, monkeypatch: pytest.MonkeyPatch) -> None:
    from slipway.serving import create_app

    monkeypatch.setenv("SLIPWAY_MAX_ROWS", "2")
    small = create_app(model_uri)
    for body, ctype in (
        (json.dumps({"inputs": [SETOSA] * 3}).encode(), JSON),
        (json.dumps({"inputs": {f: [1.0] * 3 for f in FEATURES}}).encode(), JSON),
        (_parquet([SETOSA] * 3), "application/vnd.apache.parquet"),
    ):
        status, answer = asgi_call(small, "POST", "/invocations", body, ctype)
        assert status == 413 and "too many rows: 3 > 2" in json.loads(answer)["message"]


def test_parquet_that_decodes_far_larger_than_sent_is_refused(mixed_app: object) -> None:
    """A decompression bomb: one long string repeated, dictionary-encoded, in a small body."""
    import pandas as pd

    colour = "r" * 4000
    frame = pd.DataFrame({"colour": [colour] * 30_000, "size": [1.0] * 30_000})
    body = frame.to_parquet(compression="zstd")
    assert len(body) < 100_000 and len(colour) * 30_000 > 16 * 6 * 2**20
    status, answer = asgi_call(
        mixed_app, "POST", "/invocations", body, "application/vnd.apache.parquet"
    )
    assert status == 413 and "decode to" in json.loads(answer)["message"], answer


def _parquet(rows: list, **options: object) -> bytes:
    import pandas as pd

    return pd.DataFrame(rows, columns=FEATURES).to_parquet(**options)


@pytest.mark.parametrize(
    ("method", "path", "status", "code"),
    [
        ("GET", "/invocations", 405, "METHOD_NOT_ALLOWED"),
        ("POST", "/ping", 405, "METHOD_NOT_ALLOWED"),
        ("POST", "/version", 405, "METHOD_NOT_ALLOWED"),
        ("GET", "/predict", 404, "ENDPOINT_NOT_FOUND"),
    ],
)
def test_wrong_route_or_method(app: object, method: str, path: str, status: int, code: str) -> None:
    got, body = asgi_call(app, method, path)
    error = json.loads(body)
    assert (got, error["error_code"]) == (status, code) and error["message"]


MIXED = {"columns": ["colour", "size"], "data": [["red", 1.0], ["blue", 3.0]]}


def test_params_are_checked_against_the_signature(mixed_app: object) -> None:
    ok = {"dataframe_split": MIXED, "params": {"threshold": 0.7}}
    assert predict(mixed_app, ok) == predict(mixed_app, {"dataframe_split": MIXED})
    bad = json.dumps({"dataframe_split": MIXED, "params": {"threshold": "high"}}).encode()
    status, answer = asgi_call(mixed_app, "POST", "/invocations", bad)
    error = json.loads(answer)
    assert (status, error["error_code"]) == (400, "INVALID_PARAMETER_VALUE"), error
    assert "threshold" in error["message"]


def test_rows_the_model_cannot_predict_are_a_client_error(mixed_app: object) -> None:
    """The model raises on an unseen category but still predicts its own example: 400."""
    doc = {"dataframe_split": {"columns": ["colour", "size"], "data": [["purple", 1.0]]}}
    status, answer = asgi_call(mixed_app, "POST", "/invocations", json.dumps(doc).encode())
    error = json.loads(answer)
    assert (status, error["error_code"]) == (400, "BAD_REQUEST"), error
    assert error["message"].startswith("the model cannot predict these rows: ")
    assert predict(mixed_app, {"dataframe_split": MIXED})  # still serving


def test_a_model_that_fails_on_its_own_example_is_a_server_error(app: object) -> None:
    from dataclasses import replace

    from slipway.serving.app import ServingApp

    def broken(rows: list) -> list:
        raise RuntimeError("model file truncated")

    model = replace(app.model, predict=broken)  # type: ignore[attr-defined]
    status, answer = asgi_call(
        ServingApp(model, max_body=2**20, max_rows=10), "POST", "/invocations", _row(*SETOSA)
    )
    assert (status, json.loads(answer)["error_code"]) == (500, "INTERNAL_ERROR")


@pytest.mark.parametrize(
    ("kind", "accepted", "refused"),
    [
        ("double", [1, 1.5, "2.5", " 3 ", "1_000", -(10**300)], [10**400, "1e999", "x", True, [1]]),
        ("float", [3.4e38, "1e38"], [3.5e38, "1e39", 10**39]),
        ("long", [2**63 - 1, -(2**63), "42", 7.0], [2**63, -(2**63) - 1, 1.5, "1.5", 1e300, True]),
        ("integer", [2**31 - 1, -(2**31), "-5"], [2**31, "2147483648", float("nan")]),
        ("boolean", [True, False], ["true", 1, 0.0]),
        ("string", ["a", ""], [1, True, ["a"]]),
    ],
)
def test_cells_are_checked_against_their_type_and_its_range(
    kind: str, accepted: list, refused: list
) -> None:
    from slipway.serving.errors import BadRequest
    from slipway.serving.schema import Column, InputSchema

    (check,) = InputSchema((Column("c", kind),)).checkers()
    for value in accepted:
        check(value, 0)
    for value in refused:
        with pytest.raises(BadRequest, match=r"^row 0, column 'c': ") as refusal:
            check(value, 0)
        assert refusal.value.status == 400 and refusal.value.code == "BAD_REQUEST"
