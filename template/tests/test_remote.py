"""``--on aws`` in the CLI: where a command runs, the drift check's retrain target and the
candidate a finished engine run leaves (``outputs/evaluation/candidate.json``), as
release.yml reads it. The engine run itself is slipway's (``slipway.jobs.remote``): here it
is replaced by how it ended. No AWS, no server.
"""

from __future__ import annotations

import json
from pathlib import Path
from types import SimpleNamespace
from typing import Any, Literal

import pytest
import typer
from slipway.jobs import contract
from slipway.jobs import remote as engine_run
from slipway.jobs.remote import Finished
from slipway.lifecycle import LifecycleError

from {{ cookiecutter.package_name }} import remote

CANDIDATE = remote.SUMMARY_DIR / "candidate.json"


def test_where_is_local_or_aws() -> None:
    assert [remote.where(p) for p in ("local", "aws")] == ["local", "aws"]
    with pytest.raises(LifecycleError, match="local or aws"):
        remote.where("gcp")


@pytest.mark.parametrize("job", ["ml/retrain", "team-a/churn-retrain"])
def test_retrain_target_is_namespace_and_cronjob(job: str) -> None:
    assert remote.retrain_target(job) == tuple(job.split("/"))


@pytest.mark.parametrize("job", ["retrain", "/retrain", "ml/", "ml/a/b", ""])
def test_a_malformed_retrain_target_is_bad_input(
    job: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(typer.Exit) as stopped:
        remote.retrain_target(job)
    assert stopped.value.exit_code == remote.EXIT_BAD_INPUT
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "<namespace>/<cronjob>" in err


def _finished(message: str, code: int = 0) -> Finished:
    """How the engine run ended, its outcome read from the register step's message."""
    return Finished("churn-model-training-42", code, message, contract.read_outcome(message))


def test_candidate_is_the_register_steps_outcome(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    said = {"status": "promoted", "version": "7", "evaluation": "abc", "message": "v7 champion"}
    remote.write_candidate(_finished(contract.outcome_message(said)))
    facts = json.loads(CANDIDATE.read_text())
    assert facts == {**said, "run": "churn-model-training-42"}
    summary = (remote.SUMMARY_DIR / "summary.md").read_text()
    assert "v7 champion" in summary and "`abc`" in summary


@pytest.mark.parametrize(("code", "status"), [(0, "unchanged"), (1, "refused")])
def test_no_register_step_is_unchanged_or_refused(
    code: int, status: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    remote.write_candidate(_finished("gate: roc_auc 0.5 < 0.95", code))
    facts = json.loads(CANDIDATE.read_text())
    assert facts["status"] == status and facts["version"] == ""
    assert facts["message"] == "gate: roc_auc 0.5 < 0.95"


@pytest.mark.parametrize("code", [2, 4])
def test_no_candidate_after_bad_input_or_a_failure(
    code: int, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    remote.write_candidate(_finished("exit 4: boom", code))
    assert not remote.SUMMARY_DIR.exists()


def test_a_stack_without_outputs_is_bad_input(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    with pytest.raises(typer.Exit) as stopped:
        remote.run_on_aws("dev", tmp_path / "outputs.json", "training", None)
    assert stopped.value.exit_code == remote.EXIT_BAD_INPUT
    assert "--outputs" in capsys.readouterr().err


@pytest.mark.parametrize(("kind", "written"), [("training", True), ("batch", False)])
def test_run_on_aws_exits_with_the_runs_code(
    kind: Literal["training", "batch"],
    written: bool,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """A refused candidate: exit 1, and (training only) candidate.json says refused."""
    monkeypatch.chdir(tmp_path)
    stack = SimpleNamespace(compute="sagemaker")
    monkeypatch.setattr(engine_run.EngineStack, "read", classmethod(lambda *_: stack))

    def run(target: Any, run_kind: str, report: Any, image_tag: str | None) -> Finished:
        assert (target, run_kind, image_tag) == (stack, kind, "abc123")
        return _finished("gate: f1 0.8 < 0.9", 1)

    monkeypatch.setattr(engine_run, "run", run)
    with pytest.raises(typer.Exit) as stopped:
        remote.run_on_aws("dev", tmp_path / "outputs.json", kind, "abc123")
    assert stopped.value.exit_code == 1
    assert "gate: f1 0.8 < 0.9" in capsys.readouterr().err
    assert CANDIDATE.is_file() == written
