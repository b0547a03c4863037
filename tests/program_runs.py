"""Every stack of every structural option combination, baked and run under mocks once per
test session and shared by the tests that read them (the access matrix, the policy pack,
the cost estimate). Under pytest-xdist the first worker to ask bakes and runs; the others
wait on a file lock and load its pickle (pytest-xdist's documented recipe for a
session fixture that runs once)."""

from __future__ import annotations

import fcntl
import os
import pickle
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml
from matrix import ROOT, STRUCTURAL_COMBOS, combo_id
from slipway.testing import ProgramRun, config_from_stack_file, run_program
from stack_config import configure_image

STACKS = ("dev", "staging", "prod")
PROJECT = "churn-model"
# One more stack, ``public``, in the first combo of each flavor with GitHub CI: the prod
# stack's config with the public API on (slipway:publicApi), so the access matrix and the
# policy pack judge its resources and roles (the cost estimate's documented stacks stay the
# defaults). SageMaker: the stack's Cognito issuer; EKS: an OIDC issuer of its own, a host
# and WAF. tests/publicapi rehearses both.
PUBLIC_STACK = "public"
EKS_PUBLIC_API = {
    "issuer": "https://login.example.com/oauth2",
    "audiences": ["churn-api"],
    "scopes": ["churn/invoke"],
    "jwksUri": "https://login.example.com/oauth2/keys",
    "certificateArn": "arn:aws:acm:us-east-1:123456789012:certificate/0d4f5c1e-aaaa-bbbb",
    "host": "api.churn.example.com",
    "waf": True,
}
PUBLIC_API: dict[str, object] = {"sagemaker": True, "eks": EKS_PUBLIC_API}


@dataclass(frozen=True)
class StackRun:
    """One stack of one baked project, run under mocks."""

    combo: dict[str, str]
    stack: str
    infra: Path
    run: ProgramRun

    @property
    def config(self) -> dict[str, str]:
        """The stack's configuration as the CLI hands it over (``Pulumi.<stack>.yaml``)."""
        return config_from_stack_file(self.infra / f"Pulumi.{self.stack}.yaml", PROJECT)


PUBLIC_COMBOS = [
    combo_id(next(c for c in STRUCTURAL_COMBOS if c["compute"] == compute and c["ci"] == "github"))
    for compute in ("sagemaker", "eks")
]


def stack_cases() -> list[tuple[dict[str, str], str]]:
    """(combo, stack) of every shared run: every combo's three stacks, and ``public``."""
    return [
        (combo, stack)
        for combo in STRUCTURAL_COMBOS
        for stack in (*STACKS, *([PUBLIC_STACK] if combo_id(combo) in PUBLIC_COMBOS else []))
    ]


def bake_and_run(out: Path) -> dict[tuple[str, str], StackRun]:
    from cookiecutter.main import cookiecutter

    runs = {}
    for combo in STRUCTURAL_COMBOS:
        project = cookiecutter(
            str(ROOT), no_input=True, output_dir=str(out / combo_id(combo)), extra_context=combo
        )
        # as a user sets it before `up`, the first image pushed (pipelines and Jobs declared)
        infra = configure_image(Path(project) / "infra")
        stacks = list(STACKS)
        if combo_id(combo) in PUBLIC_COMBOS:
            with_public_api(infra, PUBLIC_API[combo["compute"]])
            stacks.append(PUBLIC_STACK)
        for stack in stacks:
            runs[combo_id(combo), stack] = StackRun(combo, stack, infra, run_program(infra, stack))
    return runs


def with_public_api(infra: Path, value: object) -> None:
    """``Pulumi.public.yaml``: the prod stack's config with ``slipway:publicApi`` set."""
    config = yaml.safe_load((infra / "Pulumi.prod.yaml").read_text())["config"]
    stack = infra / f"Pulumi.{PUBLIC_STACK}.yaml"
    stack.write_text(yaml.safe_dump({"config": {**config, "slipway:publicApi": value}}))


def shared_runs(tmp_path_factory: pytest.TempPathFactory) -> dict[tuple[str, str], StackRun]:
    """``bake_and_run`` once per session, whichever worker asks first."""
    base = tmp_path_factory.getbasetemp()
    root = base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base
    cache = root / "structural-runs.pickle"
    with open(root / "structural-runs.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not cache.exists():
            runs = bake_and_run(root / "structural-projects")
            cache.write_bytes(pickle.dumps(runs))
            return runs
        loaded: dict[tuple[str, str], StackRun] = pickle.loads(cache.read_bytes())
        return loaded


def single_run(
    tmp_path_factory: pytest.TempPathFactory, combo: dict[str, str], stack: str
) -> StackRun:
    """One stack of one combination: from the session's full cache when a test already
    built it, else baked and run alone, once per session (file-locked like ``shared_runs``)."""
    from cookiecutter.main import cookiecutter

    base = tmp_path_factory.getbasetemp()
    root = base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base
    key = (combo_id(combo), stack)
    full = root / "structural-runs.pickle"
    cache = root / f"run-{key[0]}-{stack}.pickle"
    with open(root / "structural-runs.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if full.exists():
            runs: dict[tuple[str, str], StackRun] = pickle.loads(full.read_bytes())
            return runs[key]
        if cache.exists():
            loaded: StackRun = pickle.loads(cache.read_bytes())
            return loaded
        out = root / "single-projects" / key[0]
        project = cookiecutter(str(ROOT), no_input=True, output_dir=str(out), extra_context=combo)
        infra = configure_image(Path(project) / "infra")
        found = StackRun(combo, stack, infra, run_program(infra, stack))
        cache.write_bytes(pickle.dumps(found))
        return found


def structural_run(runs: dict[tuple[str, str], StackRun], stack: str, **options: str) -> StackRun:
    """The run of ``stack`` of the structural combination with these (all four) options."""
    found = [
        run
        for (_, name), run in runs.items()
        if name == stack and all(run.combo[k] == v for k, v in options.items())
    ]
    assert len(found) == 1, f"{options}: {len(found)} structural combinations match"
    return found[0]
