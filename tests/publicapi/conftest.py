"""One OIDC issuer, one model server and one mocked run per flavor for the whole session."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from program_runs import PUBLIC_COMBOS, PUBLIC_STACK, StackRun
from public_api_support import fetch_json, start_server
from slipway.serving.probe import free_port, serving
from slipway.testing import ProgramRun
from slipway.testing.oidc import LocalIssuer

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "serving"))
from serving_support import save_iris_model


@pytest.fixture(scope="session")
def sagemaker_run(structural_runs: dict[tuple[str, str], StackRun]) -> ProgramRun:
    """The baked SageMaker program's ``public`` stack: ``slipway:publicApi: true`` (Cognito)."""
    return structural_runs[PUBLIC_COMBOS[0], PUBLIC_STACK].run


@pytest.fixture(scope="session")
def eks_run(structural_runs: dict[tuple[str, str], StackRun]) -> ProgramRun:
    """The baked EKS program's ``public`` stack: its own OIDC issuer, a host and WAF."""
    return structural_runs[PUBLIC_COMBOS[1], PUBLIC_STACK].run


@pytest.fixture(scope="session")
def issuer() -> Iterator[LocalIssuer]:
    with LocalIssuer() as running:
        yield running


@pytest.fixture(scope="session")
def fetch(issuer: LocalIssuer) -> Callable[[str], dict[str, Any]]:
    """GET a declared https URL from the local issuer."""
    return lambda url: fetch_json(issuer.local(url))


@pytest.fixture(scope="session")
def model_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[int]:
    """The real model server (its port), started as both flavors start it (SERVER_COMMAND,
    with the substitutions of public_api_support.SUBSTITUTED): the SageMaker rehearsal
    reaches it through the SageMaker Runtime stand-in, the EKS one through the ALB's."""
    model = save_iris_model(tmp_path_factory.mktemp("model") / "iris")
    port = free_port()
    proc = start_server(model, port, tmp_path_factory.mktemp("server-tmp"))
    with serving(port, proc):
        yield port
