"""The image's entry point (``container.py``): ``python -m <package>.container <step>`` as
the engine starts it.

Each step runs in a temporary ``/opt/ml`` (``SLIPWAY_ML_ROOT``, the override the rehearsal
uses without mount namespaces): its exit code and the one line it leaves where the engine
reports it (``slipway.jobs.contract``). No server, no AWS.
"""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from slipway.jobs import contract
from slipway.lifecycle import GateRejected

from {{ cookiecutter.package_name }} import container, steps


@pytest.fixture
def ml_root(tmp_path: Path, project: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty ``/opt/ml`` stand-in, the session project's config, no stack settings."""
    root = tmp_path / "root"
    monkeypatch.setenv(contract.ML_ROOT_ENV, str(root))
    monkeypatch.setenv("SLIPWAY_CONFIG", str(project / "config" / "pipeline.yaml"))
    for name in ("SLIPWAY_ENGINE", "SLIPWAY_DATA_URI", "SLIPWAY_PIPELINES_URI"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)
    return root


def _message(root: Path, engine: contract.Engine) -> str:
    return (root / contract.FAILURE_FILES[engine].lstrip("/")).read_text()


def _replace(monkeypatch: pytest.MonkeyPatch, step: str, effect: Callable[..., Any]) -> None:
    monkeypatch.setattr(steps, step, effect)


def test_engine_follows_the_step_and_the_kubernetes_marker(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv(container.ENGINE_ENV, raising=False)
    assert container.engine(contract.TRAIN) == "sagemaker-training"
    assert container.engine(contract.VALIDATE) == "sagemaker-processing"
    monkeypatch.setenv(container.ENGINE_ENV, "kubernetes")
    assert container.engine(contract.TRAIN) == "kubernetes"


def test_a_step_runs_as_a_job_and_the_server_keeps_cpythons_collections(
    monkeypatch: pytest.MonkeyPatch, cpython_collections: tuple[int, int, int]
) -> None:
    """slipway.gc_policy: a step turns automatic full collections off, ``serve`` does not."""
    import gc

    from slipway import gc_policy
    from slipway.serving import entry

    seen: dict[str, int] = {}
    monkeypatch.setattr(entry, "main", lambda args: seen.update(serve=gc.get_threshold()[2]) or 0)
    monkeypatch.setattr(
        container, "run_step", lambda step, args: seen.update(step=gc.get_threshold()[2])
    )
    assert container.main(["serve"]) == 0
    assert container.main([contract.TRAIN]) == 0
    assert seen == {"serve": cpython_collections[2], "step": gc_policy.NEVER}


def test_an_unknown_step_is_bad_input(capsys: pytest.CaptureFixture[str]) -> None:
    assert container.main(["deploy"]) == container.EXIT_BAD_INPUT
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "'deploy'" in err


def test_bad_input_exits_2_with_one_line_left_for_the_engine(
    ml_root: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """validate outside the stack's engine: no data prefix set -> exit 2, one line."""
    with pytest.raises(SystemExit) as stopped:
        container.main([contract.VALIDATE])
    assert stopped.value.code == container.EXIT_BAD_INPUT
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "SLIPWAY_DATA_URI" in err
    left = _message(ml_root, "sagemaker-processing")
    assert contract.failure_code(left) == 2 and "SLIPWAY_DATA_URI" in left


def test_a_refused_gate_exits_1_and_says_why(
    ml_root: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    def refuse(*_: Any) -> None:
        raise GateRejected("gate", "roc_auc 0.51 < 0.95")

    _replace(monkeypatch, "evaluate", refuse)
    monkeypatch.setenv(container.ENGINE_ENV, "kubernetes")
    with pytest.raises(SystemExit) as stopped:
        container.main([contract.EVALUATE])
    assert stopped.value.code == container.EXIT_GATE
    assert "roc_auc 0.51 < 0.95" in capsys.readouterr().err
    assert contract.failure_code(_message(ml_root, "kubernetes")) == 1


def test_anything_else_exits_4(ml_root: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def crash(*_: Any) -> None:
        raise RuntimeError("disk full")

    _replace(monkeypatch, "train", crash)
    with pytest.raises(SystemExit) as stopped:
        container.main([contract.TRAIN])
    assert stopped.value.code == container.EXIT_FAILED
    assert _message(ml_root, "sagemaker-training") == "exit 4: RuntimeError: disk full"


def test_register_leaves_its_outcome_for_the_cli(
    ml_root: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The outcome `pipeline run --on aws` turns into candidate.json; the arguments the
    pipeline passes reach the step."""
    seen: dict[str, Any] = {}

    def register(*args: Any) -> dict[str, str]:
        seen["model_data"], seen["image"] = args[3:]
        return {"status": "promoted", "version": "3", "evaluation": "r1", "message": "ok"}

    _replace(monkeypatch, "register", register)
    args = [contract.REGISTER, "--model-data", "s3://b/model.tar.gz", "--image", "img:1"]
    assert container.main(args) == 0
    assert seen == {"model_data": "s3://b/model.tar.gz", "image": "img:1"}
    outcome = contract.read_outcome(_message(ml_root, "sagemaker-processing"))
    assert outcome == {"status": "promoted", "version": "3", "evaluation": "r1", "message": "ok"}


def test_a_step_that_fits_nothing_imports_no_scikit_learn(
    ml_root: Path, package_env: dict[str, str]
) -> None:
    """Each step starts in a fresh container and pays for every import: only train and
    evaluate (which fit or score) load scikit-learn and matplotlib. Register, as the engine
    starts it (an unchanged verdict: no server), and the modules `-X importtime` lists;
    validate imports the same ones."""
    layout = contract.Layout.from_environment("sagemaker-processing")
    verdict = layout.input(contract.EVALUATION) / contract.VERDICT_FILE
    verdict.parent.mkdir(parents=True)
    verdict.write_text(json.dumps({"changed": False, "summary": "unchanged"}))
    entry = ["-m", "{{ cookiecutter.package_name }}.container", contract.REGISTER]
    command = [sys.executable, "-X", "importtime", *entry]
    done = subprocess.run(command, capture_output=True, text=True, env=package_env)
    assert done.returncode == 0, done.stderr[-2000:]
    imported = {
        line.rpartition("|")[2].strip().split(".")[0]
        for line in done.stderr.splitlines()
        if line.startswith("import time:")
    }
    assert "mlflow" in imported and "register: unchanged" in done.stdout
    assert not imported & {"sklearn", "matplotlib", "fairlearn"}


def test_a_step_that_saves_a_model_imports_its_format_before_the_step_code() -> None:
    """skops' import looks every numpy ufunc up in every loaded module: before MLflow,
    scikit-learn and SciPy it costs ~1 s less CPU (``slipway.lifecycle.formats``). The entry
    point's own imports load none of them; ``run_step`` loads the format first."""
    source = Path(container.__file__).read_text()
    tree = ast.parse(source)
    top = {node.module or "" for node in tree.body if isinstance(node, ast.ImportFrom)} | {
        alias.name for node in tree.body if isinstance(node, ast.Import) for alias in node.names
    }
    assert not {m for m in top if m.split(".")[0] in {"mlflow", "sklearn", "scipy", "pandas"}}
    assert not {m for m in top if m.startswith("{{ cookiecutter.package_name }}")}
    run_step = next(n for n in tree.body if isinstance(n, ast.FunctionDef) and n.name == "run_step")
    lines = [
        n.lineno
        for n in ast.walk(run_step)
        if isinstance(n, ast.Call) and getattr(n.func, "id", "") == "load_model_formats_first"
    ]
    imports = [n.lineno for n in ast.walk(run_step) if isinstance(n, ast.ImportFrom | ast.Import)]
    assert lines and imports and max(lines) < min(imports), (lines, imports)


@pytest.mark.parametrize(
    ("step", "facts", "loads"),
    [
        (contract.TRAIN, None, True),  # SageMaker: the step runs because the data changed
        (contract.TRAIN, {"changed": True}, True),
        (contract.TRAIN, {"changed": False}, False),  # a Kubernetes Job's no-op step
        (contract.EVALUATE, {"changed": False}, False),
        (contract.EVALUATE, {"changed": True}, True),
        (contract.EVALUATE, "{not json", True),  # the step reports it
        (contract.BATCH, None, True),
        (contract.VALIDATE, None, False),
        (contract.REGISTER, None, False),
    ],
)
def test_only_a_step_that_saves_or_loads_a_model_imports_its_format(
    ml_root: Path, step: str, facts: dict[str, bool] | str | None, loads: bool
) -> None:
    layout = contract.Layout.from_environment("kubernetes")
    if facts is not None:
        path = layout.output(contract.DATASET) / contract.DATASET_FILE
        path.write_text(facts if isinstance(facts, str) else json.dumps(facts))
    assert container.saves_or_loads_a_model(step, layout) is loads
