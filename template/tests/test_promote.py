"""Step 8: promote and rollback move ``champion``; refusals leave the registry unchanged."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from mlflow.tracking import MlflowClient
from slipway.lifecycle import register_challenger
from typer.testing import CliRunner, Result

from {{ cookiecutter.package_name }}.cli import app
from {{ cookiecutter.package_name }}.pipeline import Outcome

NAME = "promote-test"  # its own registered model: the session champion stays put


@pytest.fixture
def cli(
    in_project: Path, outcome: Outcome, write_config: Callable[..., Path]
) -> Callable[..., Result]:
    config = write_config(in_project / "promote", model={"name": NAME})
    return lambda *args: CliRunner().invoke(app, [*args, "--config", str(config)])


def _aliases(client: MlflowClient) -> dict[str, str]:
    return {alias: str(v) for alias, v in client.get_registered_model(NAME).aliases.items()}


def _add_challenger(client: MlflowClient, outcome: Outcome) -> str:
    source = client.get_model_version(outcome.model_name, outcome.version).source
    return str(register_challenger(client, source, NAME, {}).version)


def test_promote_and_rollback_walk_the_champion_history(
    cli: Callable[..., Result], client: MlflowClient, outcome: Outcome
) -> None:
    refused = cli("rollback")
    assert refused.exit_code == 2 and "error: champion: no version" in refused.output

    first = _add_challenger(client, outcome)
    assert cli("promote", "--approved-by", "alice").exit_code == 0
    assert _aliases(client) == {"champion": first}
    again = cli("promote")
    assert again.exit_code == 2 and "error: challenger: no version" in again.output

    second = _add_challenger(client, outcome)
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
    assert client.get_model_version(NAME, first).tags["approved_by"] == "alice"
