"""A tiny sklearn model saved with MLflow, and an ASGI driver for the server tests."""

from __future__ import annotations

from pathlib import Path

FEATURES = ["sepal_length", "sepal_width", "petal_length", "petal_width"]


def save_iris_model(path: Path, *, signature: bool = True) -> Path:
    """Fit a logistic regression on a DataFrame and save it as an MLflow sklearn model."""
    import mlflow.sklearn
    import pandas as pd
    from mlflow.models import infer_signature
    from sklearn.datasets import load_iris
    from sklearn.linear_model import LogisticRegression

    iris = load_iris()
    frame = pd.DataFrame(iris.data, columns=FEATURES)
    model = LogisticRegression(max_iter=500).fit(frame, iris.target)
    mlflow.sklearn.save_model(
        model,
        str(path),
        signature=infer_signature(frame, model.predict(frame)) if signature else None,
        input_example=frame.head(3) if signature else None,
        # Declared, not inferred: inference re-imports the model in a subprocess (slow).
        pip_requirements=mlflow.sklearn.get_default_pip_requirements(),
    )
    return path


def save_mixed_model(path: Path) -> Path:
    """A pipeline on a string and a number column (the DataFrame path), with a declared
    ``threshold`` param; an unseen ``colour`` makes it raise (``handle_unknown="error"``)."""
    import mlflow.sklearn
    import pandas as pd
    from mlflow.models import infer_signature
    from sklearn.compose import ColumnTransformer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import OneHotEncoder

    frame = pd.DataFrame(
        {"colour": ["red", "green", "blue", "red"] * 5, "size": [1.0, 2.0, 3.0, 4.0] * 5}
    )
    encode = ColumnTransformer(
        [("c", OneHotEncoder(handle_unknown="error"), ["colour"])], remainder="passthrough"
    )
    model = make_pipeline(encode, LogisticRegression()).fit(frame, [0, 1, 0, 1] * 5)
    mlflow.sklearn.save_model(
        model,
        str(path),
        signature=infer_signature(frame, model.predict(frame), params={"threshold": 0.5}),
        input_example=frame.head(2),
        pip_requirements=mlflow.sklearn.get_default_pip_requirements(),
    )
    return path


def asgi_call(
    app: object,
    method: str,
    path: str,
    body: bytes = b"",
    content_type: str | None = "application/json",
    chunks: int = 1,
) -> tuple[int, bytes]:
    """Drive an ASGI app once, as uvicorn would; returns (status, body)."""
    import asyncio

    size = max(1, -(-len(body) // chunks))
    parts = [body[i : i + size] for i in range(0, len(body), size)] or [b""]
    messages = [
        {"type": "http.request", "body": part, "more_body": i < len(parts) - 1}
        for i, part in enumerate(parts)
    ]
    headers = [(b"content-length", str(len(body)).encode())]
    if content_type is not None:
        headers.append((b"content-type", content_type.encode()))
    sent: list[dict] = []

    async def receive() -> dict:
        if messages:
            return messages.pop(0)
        await asyncio.Event().wait()  # a client that stays connected (frameworks listen)
        raise AssertionError("unreachable")

    async def send(message: dict) -> None:
        sent.append(message)

    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "scheme": "http",
        "method": method,
        "path": path,
        "raw_path": path.encode(),
        "root_path": "",
        "query_string": b"",
        "headers": headers,
        "server": ("127.0.0.1", 8080),
        "client": ("127.0.0.1", 50000),
    }
    asyncio.run(app(scope, receive, send))  # type: ignore[operator]
    return sent[0]["status"], b"".join(m.get("body", b"") for m in sent[1:])
