"""Step 8: promote and rollback move ``champion`` with an approval on record; outside the
automated stacks a person who did not train the model approves, naming the evaluation seen."""

from __future__ import annotations

import json
import tempfile
from collections.abc import Callable
from pathlib import Path

import pytest
from mlflow.tracking import MlflowClient
from slipway.lifecycle import CARD_ARTIFACT, REPORT_ARTIFACT
from typer.testing import CliRunner, Result

from {{ cookiecutter.package_name }}.cli import app
from {{ cookiecutter.package_name }}.pipeline import SUMMARY_DIR, Outcome

NAME = "promote-test"  # its own registered model: the session champion stays put
STAGED = "staging-test"


@pytest.fixture
def cli(
    in_project: Path, outcome: Outcome, write_config: Callable[..., Path]
) -> Callable[..., Result]:
    config = write_config(in_project / "promote", model={"name": NAME})
    return lambda *args: CliRunner().invoke(app, [*args, "--config", str(config)])


def _aliases(client: MlflowClient, name: str = NAME) -> dict[str, str]:
    return {alias: str(v) for alias, v in client.get_registered_model(name).aliases.items()}


def _add_challenger(client: MlflowClient, outcome: Outcome) -> tuple[str, str]:
    """The session's model as a new version of NAME, in a run of its own that holds a copy
    of the session's evaluation record (its card is then NAME's, not the session's)."""
    source = client.get_model_version(outcome.model_name, outcome.version).source
    experiment = client.get_experiment_by_name(outcome.model_name).experiment_id
    run = client.create_run(experiment).info.run_id
    record = outcome.report.model_copy(update={"model_name": NAME, "run_id": run})
    client.log_dict(run, record.model_dump(mode="json"), REPORT_ARTIFACT)
    client.set_terminated(run)
    if not client.search_registered_models(f"name='{NAME}'"):
        client.create_registered_model(NAME)
    version = str(client.create_model_version(NAME, source, run_id=run).version)
    client.set_registered_model_alias(NAME, "challenger", version)
    return version, run


def test_promote_and_rollback_walk_the_champion_history(
    cli: Callable[..., Result], client: MlflowClient, outcome: Outcome
) -> None:
    refused = cli("rollback")
    assert refused.exit_code == 2 and "error: champion: no version" in refused.output

    first, evaluation = _add_challenger(client, outcome)
    assert cli("promote", "--approved-by", "alice").exit_code == 0
    assert _aliases(client) == {"champion": first}
    again = cli("promote")
    assert again.exit_code == 2 and "error: challenger: no version" in again.output
    assert f"version {first} is the champion" in again.output  # as after `make pipeline`

    second, _ = _add_challenger(client, outcome)
    assert cli("promote").exit_code == 0
    assert _aliases(client) == {"champion": second}

    result = cli("rollback")
    assert result.exit_code == 0, result.output
    assert _aliases(client) == {"champion": first}
    assert client.get_model_version(NAME, second).tags["rolled_back_at"]

    before = _aliases(client)
    exhausted = cli("rollback")
    assert exhausted.exit_code == 2 and "has no previous champion" in exhausted.output
    assert _aliases(client) == before
    tags = client.get_model_version(NAME, first).tags
    assert (tags["approved_by"], tags["approval_kind"]) == ("alice", "human")
    assert tags["approved_evaluation"] == evaluation  # the version's own
    with tempfile.TemporaryDirectory() as tmp:
        card = Path(client.download_artifacts(evaluation, CARD_ARTIFACT, tmp)).read_text()
    assert card.startswith(f"# Model card: {NAME} version {first}")


def test_staging_candidate_waits_for_a_person_who_did_not_train_it(
    in_project: Path, client: MlflowClient, outcome: Outcome, write_config: Callable[..., Path]
) -> None:
    config = str(write_config(in_project / "staging", model={"name": STAGED}))

    def cli(*args: str) -> Result:
        return CliRunner().invoke(app, [*args, "--stack", "staging", "--config", config])

    run = cli("pipeline", "run")
    assert run.exit_code == 0, run.output
    assert "version 1 is eligible and awaits a person's approval" in run.output
    assert _aliases(client, STAGED) == {"challenger": "1"}  # eligible, not champion
    summary = json.loads((in_project / SUMMARY_DIR / "candidate.json").read_text())
    assert (summary["status"], summary["version"]) == ("awaiting-approval", "1")
    evaluation = summary["evaluation"]
    trainer = client.get_model_version(STAGED, "1").tags["trained_by"]

    refusals = {
        "error: --evaluation: required on stack staging: the run you reviewed": cli(
            "promote", "--approved-by", "bob"
        ),
        f"error: approval: {trainer} trained this model and cannot approve it; another person": cli(
            "promote", "--approved-by", trainer, "--evaluation", evaluation
        ),
        f"error: --evaluation: run {outcome.report.run_id} is not the evaluation of version 1": cli(
            "promote", "--approved-by", "bob", "--evaluation", outcome.report.run_id
        ),
    }
    for expected, result in refusals.items():
        assert result.exit_code == 2, result.output
        assert result.output.strip().startswith(expected), result.output
    assert _aliases(client, STAGED) == {"challenger": "1"}

    approved = cli("promote", "--approved-by", "bob", "--evaluation", evaluation)
    assert approved.exit_code == 0, approved.output
    assert _aliases(client, STAGED) == {"champion": "1"}
    tags = client.get_model_version(STAGED, "1").tags
    assert (tags["approved_by"], tags["approval_kind"], tags["approved_evaluation"]) == (
        "bob",
        "human",
        evaluation,
    )
    with tempfile.TemporaryDirectory() as tmp:
        card = Path(client.download_artifacts(evaluation, CARD_ARTIFACT, tmp)).read_text()
    assert f"human approval by bob at {tags['approved_at']} (evaluation {evaluation})" in card


def test_a_tracking_server_needs_its_stack_named(
    in_project: Path, outcome: Outcome, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MLFLOW_TRACKING_URI", "http://127.0.0.1:1")
    result = CliRunner().invoke(app, ["pipeline", "run"])
    assert result.exit_code == 2
    assert result.output.strip().startswith("error: --stack: required with MLFLOW_TRACKING_URI")
