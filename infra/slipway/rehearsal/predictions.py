"""The check that a model server serves its MLflow model: its answer to the model's input
example must equal the model's own prediction (both flavors' rehearsals)."""

from __future__ import annotations

import json
from pathlib import Path

from slipway.rehearsal.workload import HttpCheck


def invocation_checks(model_dir: Path, name: str = "POST /invocations") -> tuple[HttpCheck, ...]:
    """POST the model's input example; none when the model has no tabular example."""
    import mlflow.pyfunc
    import numpy as np
    from mlflow.models import Model

    example = Model.load(str(model_dir)).load_input_example(str(model_dir))
    if example is None or not hasattr(example, "to_dict"):
        return ()
    expected = np.asarray(mlflow.pyfunc.load_model(str(model_dir)).predict(example))
    body = json.dumps({"dataframe_split": example.to_dict(orient="split", index=False)})

    def same(answer: bytes) -> str:
        got = np.asarray(json.loads(answer).get("predictions"))
        if got.shape == expected.shape and np.array_equal(got, expected):
            return ""
        return f"predictions {got.tolist()} != the model's own {expected.tolist()}"

    return (
        HttpCheck(
            name,
            "POST",
            "/invocations",
            body=body.encode(),
            headers={"Content-Type": "application/json"},
            expect=same,
        ),
    )
