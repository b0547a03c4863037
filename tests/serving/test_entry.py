"""Settings of ``python -m slipway.serving`` / ``slipway serve``: arguments, env, SageMaker."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from slipway.cli import app
from slipway.serving import entry
from typer.testing import CliRunner


def _recorder(seen: list[tuple]) -> Callable[..., int]:
    """A stand-in for ``entry.run`` that keeps its arguments and exits 0."""

    def run(*args: object) -> int:
        seen.append(args)
        return 0

    return run


def test_sagemaker_environment_sets_port_workers_and_model(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("SLIPWAY_MODEL_URI", "SLIPWAY_PORT", "SLIPWAY_WORKERS"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("SAGEMAKER_BIND_TO_PORT", "9001")
    monkeypatch.setenv("SAGEMAKER_MODEL_SERVER_WORKERS", "3")
    assert (entry.default_port(), entry.default_workers()) == (9001, 3)
    assert entry.default_model_uri() == "/opt/ml/model"


def test_serve_argument_from_sagemaker_is_ignored(monkeypatch: pytest.MonkeyPatch) -> None:
    seen: list[tuple] = []
    monkeypatch.setattr(entry, "run", _recorder(seen))
    monkeypatch.setenv("SLIPWAY_MODEL_URI", "models:/churn@champion")
    monkeypatch.delenv("SLIPWAY_HOST", raising=False)
    assert entry.main(["serve", "--port", "8081", "--workers", "2"]) == 0
    assert seen == [("models:/churn@champion", "127.0.0.1", 8081, 2)]


@pytest.mark.parametrize(("name", "value"), [("SLIPWAY_WORKERS", "zero"), ("SLIPWAY_PORT", "-1")])
def test_bad_setting_is_a_one_line_error(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], name: str, value: str
) -> None:
    monkeypatch.setenv(name, value)
    assert entry.main([]) == 1
    err = capsys.readouterr().err.strip()
    assert err.startswith("error: ") and "must be a positive integer" in err
    assert len(err.splitlines()) == 1


def test_zero_workers_is_refused_before_loading_the_model(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert entry.run("/nowhere", "127.0.0.1", 8080, 0) == 1
    assert capsys.readouterr().err.strip() == "error: server: workers: must be at least 1 (got 0)"


def test_slipway_serve_command_passes_its_options(monkeypatch: pytest.MonkeyPatch) -> None:
    seen: list[tuple] = []
    monkeypatch.setattr(entry, "run", _recorder(seen))
    monkeypatch.delenv("SLIPWAY_HOST", raising=False)
    result = CliRunner().invoke(app, ["serve", "/tmp/model", "--port", "9000", "--workers", "1"])
    assert result.exit_code == 0, result.output
    assert seen == [("/tmp/model", "127.0.0.1", 9000, 1)]
