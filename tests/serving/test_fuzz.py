"""Property tests: whatever the body, the server answers below 500 and keeps serving.

Random JSON documents (shaped like MLflow's, or anything), random cells in well-formed
documents, random CSV and random bytes, under every content type the server knows. The
examples are derived from the test's name (``derandomize``): a failure repeats on rerun.
"""

from __future__ import annotations

import csv
import io
import json
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from serving_support import FEATURES, asgi_call

SETTINGS = settings(
    max_examples=200,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
CONTENT_TYPES = st.sampled_from(
    [
        "application/json",
        "application/json; charset=utf-8",
        "text/csv",
        "application/vnd.apache.parquet",
        "text/plain",
        "application/json; charset=utf-16",
    ]
)
NAMES = st.sampled_from([*FEATURES, "colour", "size", "extra", ""]) | st.text(max_size=8)
SCALARS = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.integers(min_value=-(10**400), max_value=10**400)
    | st.floats()
    | st.text(max_size=20)
    | st.sampled_from(["5.1", "nan", "-inf", "1e999", "0x10", " 3 ", "1_000", "true", "red"])
)
VALUES = st.recursive(
    SCALARS,
    lambda inner: st.lists(inner, max_size=6) | st.dictionaries(NAMES, inner, max_size=6),
    max_leaves=40,
)
ROWS = st.lists(st.lists(VALUES, min_size=0, max_size=6), max_size=5)
SHAPED = st.one_of(
    st.builds(
        lambda cols, data, index: {
            "dataframe_split": {
                "columns": cols,
                "data": data,
                **({"index": index} if index else {}),
            }
        },
        st.lists(NAMES, max_size=6) | st.just(FEATURES),
        ROWS,
        st.none() | st.lists(SCALARS, max_size=4),
    ),
    st.builds(
        lambda r: {"dataframe_records": r}, st.lists(st.dictionaries(NAMES, VALUES), max_size=4)
    ),
    st.builds(lambda k, v: {k: v}, st.sampled_from(["inputs", "instances"]), VALUES | ROWS),
    st.dictionaries(st.sampled_from(["inputs", "params", "dataframe_split", "x"]) | NAMES, VALUES),
    VALUES,
)


def _assert_served(app: object, body: bytes, content_type: str) -> int:
    status, answer = asgi_call(app, "POST", "/invocations", body, content_type)
    assert status < 500, (body[:300], answer[:300])
    doc = json.loads(answer)
    if status >= 400:
        assert doc["error_code"] and doc["message"] and "\n" not in doc["message"], doc
    assert asgi_call(app, "GET", "/ping")[0] == 200
    return status


def _dump(doc: Any) -> bytes:
    return json.dumps(doc, allow_nan=True).encode()


@settings(SETTINGS, max_examples=100)  # recursive documents: ~40 ms an example to draw
@given(doc=SHAPED, content_type=CONTENT_TYPES)
def test_any_json_document(app: object, doc: Any, content_type: str) -> None:
    _assert_served(app, _dump(doc), content_type)


@settings(SETTINGS, max_examples=60)
@given(doc=SHAPED)
def test_any_json_document_on_the_dataframe_path(mixed_app: object, doc: Any) -> None:
    _assert_served(mixed_app, _dump(doc), "application/json")


@SETTINGS
@given(cells=st.lists(st.lists(SCALARS, min_size=4, max_size=4), min_size=1, max_size=4))
def test_any_cells_in_a_well_formed_document(app: object, cells: list) -> None:
    """Past the shape checks: every cell value reaches the column checks and the model."""
    doc = {"dataframe_split": {"columns": FEATURES, "data": cells}}
    assert _assert_served(app, _dump(doc), "application/json") in (200, 400)


@SETTINGS
@given(
    header=st.lists(NAMES, max_size=6) | st.just(FEATURES),
    rows=st.lists(st.lists(st.text(max_size=12), max_size=6), max_size=5),
)
def test_any_csv(app: object, header: list, rows: list) -> None:
    out = io.StringIO()
    csv.writer(out).writerows([header, *rows])
    _assert_served(app, out.getvalue().encode(), "text/csv")


@SETTINGS
@given(body=st.binary(max_size=400), content_type=CONTENT_TYPES)
def test_any_bytes(app: object, body: bytes, content_type: str) -> None:
    _assert_served(app, body, content_type)
