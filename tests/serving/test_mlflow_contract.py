"""MLflow's own scoring-server cases, run against Slipway's server and MLflow's, same model.

The cases restate, in our words and for a model with a column signature, the HTTP cases of
MLflow's ``tests/pyfunc/test_scoring_server.py`` (read at mlflow master of December 2025,
``mlflow/version.py`` 3.8.1.dev0: the newest text of that file the tools here reach; the 3.17
tag's repository snapshot is over the fetch limit and the sdist ships no tests), named by the
upstream test each comes from, plus the requests issue 16 lists. Both servers answer every
case in this run: MLflow's is ``mlflow.pyfunc.scoring_server.init`` (the app
``mlflow models serve`` runs under uvicorn) of the installed MLflow (3.17.2 when written),
in-process. Slipway must answer MLflow's status code, except for the differences documented
in docs/serving.md, each listed in ``DIFFERENCES`` with the status Slipway answers instead.
"""

from __future__ import annotations

import io
import json
from collections.abc import Callable, Iterator, Sequence
from typing import NamedTuple

import pytest
from serving_support import FEATURES, asgi_call

JSON, CSV, PARQUET = "application/json", "text/csv", "application/vnd.apache.parquet"
ROWS = [[5.1, 3.5, 1.4, 0.2], [7.7, 3.0, 6.1, 2.3]]
SPLIT = {"columns": FEATURES, "data": ROWS}
RECORDS = [dict(zip(FEATURES, r, strict=True)) for r in ROWS]
MIXED = {"columns": ["colour", "size"], "data": [["red", 1.0], ["blue", 3.0]]}


class Case(NamedTuple):
    id: str
    upstream: str  # the MLflow test it restates, or where the request comes from
    method: str
    path: str
    body: bytes
    content_type: str | None
    model: str = "iris"  # "mixed": a pipeline with a string column and a declared param


def _json(doc: object) -> bytes:
    return json.dumps(doc).encode()


def _parquet() -> bytes:
    import pandas as pd

    out = io.BytesIO()
    pd.DataFrame(ROWS, columns=FEATURES).to_parquet(out)
    return out.getvalue()


def _raw_split(first_cell: bytes) -> bytes:
    """A split document whose first cell is written as given (NaN, a 401-digit integer)."""
    return _json({"dataframe_split": {"columns": FEATURES, "data": [[0, *ROWS[0][1:]]]}}).replace(
        b"[[0,", b"[[" + first_cell + b",", 1
    )


def _csv(header: Sequence[object], rows: Sequence[Sequence[object]]) -> bytes:
    return "\n".join(",".join(map(str, r)) for r in [header, *rows]).encode()


T = "test_scoring_server_"  # the upstream tests' common prefix
CASES = [
    Case(
        "malformed-json",
        f"{T}responds_to_malformed_json_input_with_error_code_and_message",
        "POST",
        "/invocations",
        b"this is,,,, not valid json",
        JSON,
    ),
    *[
        Case(
            f"not-an-object-{i}",
            f"{T}responds_to_invalid_json_format_with_error_code_and_message",
            "POST",
            "/invocations",
            _json(doc),
            JSON,
        )
        for i, doc in enumerate([1, "1", [1]])
    ],
    Case(
        "no-shape-key",
        f"{T}responds_to_invalid_json_format_with_error_code_and_message",
        "POST",
        "/invocations",
        _json({"not": "a serialized dataframe"}),
        JSON,
    ),
    Case(
        "two-shape-keys",
        f"{T}responds_to_invalid_json_format_with_error_code_and_message",
        "POST",
        "/invocations",
        _json({"dataframe_records": [], "dataframe_split": {"data": []}}),
        JSON,
    ),
    Case(
        "split-given-records",
        f"{T}responds_to_invalid_pandas_input_format_with_stacktrace_and_error_code",
        "POST",
        "/invocations",
        _json({"dataframe_split": RECORDS}),
        JSON,
    ),
    Case(
        "records-given-split",
        f"{T}responds_to_invalid_pandas_input_format_with_stacktrace_and_error_code",
        "POST",
        "/invocations",
        _json({"dataframe_records": SPLIT}),
        JSON,
    ),
    Case(
        "split-index-longer-than-data",
        f"{T}responds_to_invalid_dataframe_with_stacktrace_and_error_code",
        "POST",
        "/invocations",
        _json({"dataframe_split": {"index": [1, 2], "data": [[1], [2], [3]]}}),
        JSON,
    ),
    Case(
        "split-index-repeats-row",
        "issue 16: bad input",
        "POST",
        "/invocations",
        _json({"dataframe_split": {"index": [1, 2], "columns": FEATURES, "data": ROWS[:1]}}),
        JSON,
    ),
    Case(
        "incompatible-frame",
        f"{T}responds_to_incompatible_inference_dataframe_with_stacktrace_and_error_code",
        "POST",
        "/invocations",
        _json(
            {
                "dataframe_split": {
                    "columns": [0],
                    "index": list(range(10)),
                    "data": [[i] for i in range(10)],
                }
            }
        ),
        JSON,
    ),
    Case(
        "empty-csv",
        f"{T}responds_to_invalid_csv_input_with_stacktrace_and_error_code",
        "POST",
        "/invocations",
        b"",
        CSV,
    ),
    Case(
        "records",
        f"{T}successfully_evaluates_correct_dataframes_with_pandas_records_orientation",
        "POST",
        "/invocations",
        _json({"dataframe_records": RECORDS}),
        JSON,
    ),
    Case(
        "records-charset",
        f"{T}successfully_evaluates_correct_dataframes_with_pandas_records_orientation",
        "POST",
        "/invocations",
        _json({"dataframe_records": RECORDS}),
        f"{JSON}; charset=UTF-8",
    ),
    Case(
        "split",
        f"{T}successfully_evaluates_correct_dataframes_with_pandas_split_orientation",
        "POST",
        "/invocations",
        _json({"dataframe_split": SPLIT}),
        JSON,
    ),
    Case(
        "split-charset",
        f"{T}successfully_evaluates_correct_dataframes_with_pandas_split_orientation",
        "POST",
        "/invocations",
        _json({"dataframe_split": SPLIT}),
        f"{JSON}; charset=UTF-8",
    ),
    Case(
        "unsupported-content-type",
        f"{T}responds_to_invalid_content_type_request_with_unsupported_content_type_code",
        "POST",
        "/invocations",
        _json(SPLIT),
        "not_a_supported_content_type",
    ),
    Case(
        "unknown-content-type-parameter",
        f"{T}responds_to_invalid_content_type_request_with_unrecognized_content_param",
        "POST",
        "/invocations",
        _json({"dataframe_split": SPLIT}),
        f"{JSON}; something=something",
    ),
    Case(
        "instances-positional-rows",
        f"{T}successfully_evaluates_correct_tf_serving_sklearn",
        "POST",
        "/invocations",
        _json({"instances": ROWS}),
        JSON,
    ),
    Case(
        "instances-records",
        f"{T}successfully_evaluates_correct_tf_serving_keras_instances",
        "POST",
        "/invocations",
        _json({"instances": RECORDS}),
        JSON,
    ),
    Case(
        "inputs-columns",
        f"{T}successfully_evaluates_correct_tf_serving_keras_inputs",
        "POST",
        "/invocations",
        _json({"inputs": {f: [r[i] for r in ROWS] for i, f in enumerate(FEATURES)}}),
        JSON,
    ),
    Case(
        "schema-split",
        "test_serving_model_with_schema",
        "POST",
        "/invocations",
        _json({"dataframe_split": {"columns": FEATURES[::-1], "data": [r[::-1] for r in ROWS]}}),
        JSON,
    ),
    Case(
        "schema-inputs-records",
        "test_serving_model_with_schema",
        "POST",
        "/invocations",
        _json({"inputs": RECORDS}),
        JSON,
    ),
    Case(
        "csv-with-schema",
        "test_parse_with_schema_csv",
        "POST",
        "/invocations",
        _csv(FEATURES, ROWS),
        CSV,
    ),
    Case(
        "param-none",
        "test_serving_model_with_param_schema",
        "POST",
        "/invocations",
        _json({"dataframe_split": MIXED}),
        f"{JSON}; charset=UTF-8",
        "mixed",
    ),
    Case(
        "param-invalid-value",
        "test_serving_model_with_param_schema",
        "POST",
        "/invocations",
        _json({"dataframe_split": MIXED, "params": {"threshold": "invalid_value1"}}),
        f"{JSON}; charset=UTF-8",
        "mixed",
    ),
    Case(
        "param-not-in-schema",
        "test_serving_model_with_param_schema",
        "POST",
        "/invocations",
        _json({"dataframe_split": MIXED, "params": {"invalid_param": "value"}}),
        f"{JSON}; charset=UTF-8",
        "mixed",
    ),
    Case(
        "param-declared",
        "test_serving_model_with_param_schema",
        "POST",
        "/invocations",
        _json({"dataframe_split": MIXED, "params": {"threshold": 0.7}}),
        JSON,
        "mixed",
    ),
    Case("client-ping", "test_scoring_server_client", "GET", "/ping", b"", None),
    Case("client-version", "test_scoring_server_client", "GET", "/version", b"", None),
    Case(
        "client-invoke",
        "test_scoring_server_client",
        "POST",
        "/invocations",
        _json({"dataframe_split": {"columns": FEATURES, "index": [0, 1], "data": ROWS}}),
        JSON,
    ),
    Case(
        "health",
        "scoring_server module docstring: /health (same as /ping)",
        "GET",
        "/health",
        b"",
        None,
    ),
    Case(
        "params-undeclared",
        "issue 16: the documented params key",
        "POST",
        "/invocations",
        _json({"dataframe_split": SPLIT, "params": {"temperature": 0.1}}),
        JSON,
    ),
    Case(
        "extra-top-level-key",
        "issue 16: an extra top-level key",
        "POST",
        "/invocations",
        _json({"dataframe_split": SPLIT, "request_id": "r-1"}),
        JSON,
    ),
    Case(
        "extra-column",
        "issue 16: an extra column",
        "POST",
        "/invocations",
        _json({"dataframe_records": [{**r, "customer": "c"} for r in RECORDS]}),
        JSON,
    ),
    Case(
        "numbers-as-strings",
        "issue 16: numbers sent as strings",
        "POST",
        "/invocations",
        _json(
            {"dataframe_split": {"columns": FEATURES, "data": [[str(v) for v in r] for r in ROWS]}}
        ),
        JSON,
    ),
    Case("parquet", "issue 16: a Parquet body", "POST", "/invocations", _parquet(), PARQUET),
    Case(
        "csv-extra-column",
        "issue 16: an extra column",
        "POST",
        "/invocations",
        _csv([*FEATURES, "note"], [[*r, "x"] for r in ROWS]),
        CSV,
    ),
    Case(
        "latin-1-charset",
        "issue 16: a declared non-UTF-8 charset",
        "POST",
        "/invocations",
        _json({"dataframe_split": SPLIT}),
        f"{JSON}; charset=latin-1",
    ),
    Case(
        "missing-column",
        "issue 16: schema errors",
        "POST",
        "/invocations",
        _json({"dataframe_split": {"columns": FEATURES[:3], "data": [r[:3] for r in ROWS]}}),
        JSON,
    ),
    Case(
        "duplicate-column",
        "issue 16: schema errors",
        "POST",
        "/invocations",
        _json(
            {
                "dataframe_split": {
                    "columns": [*FEATURES, FEATURES[0]],
                    "data": [[*r, r[0]] for r in ROWS],
                }
            }
        ),
        JSON,
    ),
    Case(
        "word-for-number",
        "issue 16: schema errors",
        "POST",
        "/invocations",
        _json({"dataframe_split": {"columns": FEATURES, "data": [["abc", *ROWS[0][1:]]]}}),
        JSON,
    ),
    Case(
        "null-required",
        "issue 16: schema errors",
        "POST",
        "/invocations",
        _json({"dataframe_records": [{**RECORDS[0], "sepal_width": None}]}),
        JSON,
    ),
    Case(
        "nan",
        "issue 16: schema errors",
        "POST",
        "/invocations",
        _raw_split(b"NaN"),
        JSON,
    ),
    Case(
        "int-too-large-for-a-float",
        "issue 16: the three 500s",
        "POST",
        "/invocations",
        _raw_split(b"1" + b"0" * 400),
        JSON,
    ),
    Case(
        "unseen-category",
        "test_scoring_server_responds_to_incompatible_inference_dataframe_with_stacktrace_and_error_code",
        "POST",
        "/invocations",
        _json({"dataframe_split": {"columns": ["colour", "size"], "data": [["purple", 1.0]]}}),
        JSON,
        "mixed",
    ),
    Case(
        "zero-rows",
        "issue 16: bad input",
        "POST",
        "/invocations",
        _json({"dataframe_split": {"columns": FEATURES, "data": []}}),
        JSON,
    ),
    Case(
        "ragged-row",
        "issue 16: bad input",
        "POST",
        "/invocations",
        _json({"dataframe_split": {"columns": FEATURES, "data": [ROWS[0][:3]]}}),
        JSON,
    ),
    Case("no-route", "issue 16: 404 carries its own code", "GET", "/predict", b"", None),
    Case("wrong-method", "issue 16: 405 carries its own code", "GET", "/invocations", b"", None),
]

# Where Slipway answers another status than MLflow, on purpose (docs/serving.md): case id ->
# (MLflow's status as measured, Slipway's status).
DIFFERENCES = {
    # A positional row is taken in signature order (MLflow only does so without a signature).
    "instances-positional-rows": (400, 200),
    # MLflow builds pandas' frame: an index of 2 labels repeats the one data row (two
    # predictions for one row); an index must have one label per row here.
    "split-index-repeats-row": (200, 400),
    # A JSON true is not silently the number 1.0 (not in this list: MLflow casts it, 200/400).
}


@pytest.fixture(scope="module")
def servers(model_uri: str, mixed_model_uri: str) -> Iterator[dict[str, dict[str, object]]]:
    """Both servers for both models. MLflow's ``init`` sets an environment variable: undone."""
    import mlflow.pyfunc
    from mlflow.pyfunc import scoring_server
    from slipway.serving import create_app

    uris = {"iris": model_uri, "mixed": mixed_model_uri}
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("_MLFLOW_IS_IN_SERVING_ENVIRONMENT", "false")
        mlflow_apps = {k: scoring_server.init(mlflow.pyfunc.load_model(u)) for k, u in uris.items()}
    yield {
        "mlflow": mlflow_apps,
        "slipway": {k: create_app(u) for k, u in uris.items()},
    }


def _answer(app: object, case: Case) -> tuple[int, dict]:
    status, body = asgi_call(app, case.method, case.path, case.body, case.content_type)
    try:
        doc = json.loads(body)
    except ValueError:
        doc = {}
    return status, doc if isinstance(doc, dict) else {}


@pytest.fixture(scope="module")
def answers(servers: dict) -> dict[str, dict[str, tuple[int, dict]]]:
    return {
        case.id: {name: _answer(apps[case.model], case) for name, apps in servers.items()}
        for case in CASES
    }


def test_cases_are_unique_and_cite_upstream() -> None:
    assert len({c.id for c in CASES}) == len(CASES)
    assert set(DIFFERENCES) <= {c.id for c in CASES}
    assert sum(c.upstream.startswith("test_") for c in CASES) >= 30


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_slipway_answers_mlflows_status(case: Case, answers: dict) -> None:
    (theirs, their_doc), (ours, our_doc) = answers[case.id]["mlflow"], answers[case.id]["slipway"]
    expected = DIFFERENCES.get(case.id)
    if expected is not None:
        assert (theirs, ours) == expected, (their_doc, our_doc)
    else:
        assert ours == theirs, (their_doc, our_doc)
    if ours >= 400:
        assert our_doc["error_code"] and our_doc["message"] and our_doc["error_class"], our_doc
    if theirs == ours == 400 and "error_code" in their_doc:
        assert our_doc["error_code"] == their_doc["error_code"], (their_doc, our_doc)


def test_agreement_count(answers: dict, record_property: Callable[[str, object], None]) -> None:
    agree = sum(a["mlflow"][0] == a["slipway"][0] for a in answers.values())
    record_property("mlflow_contract_agreement", f"{agree}/{len(CASES)}")
    print(f"MLflow scoring-server contract: {agree}/{len(CASES)} status codes agree")
    assert agree == len(CASES) - len(DIFFERENCES)


def test_mlflows_own_client_works_unchanged(servers: dict) -> None:
    """``ScoringServerClient``'s request (``dump_input_data``) predicts like MLflow's server."""
    import pandas as pd
    from mlflow.utils.proto_json_utils import dump_input_data

    body = dump_input_data(pd.DataFrame(ROWS, columns=FEATURES), params={"p": 1})
    got = [
        asgi_call(servers[name]["iris"], "POST", "/invocations", body.encode(), JSON)
        for name in ("mlflow", "slipway")
    ]
    assert got[0][0] == got[1][0] == 200
    assert json.loads(got[0][1]) == json.loads(got[1][1])
