"""Every stack of every structural option combination, baked and run under mocks once per
test session and shared by the tests that read them (the access matrix, the policy pack,
the cost estimate). Under pytest-xdist each combination is made by the first worker to
claim it and pickled; the others load it, waiting on its file lock only when they need it
and it is being made (pytest-xdist's documented recipe for a session fixture that runs once,
per combination so that no worker idles while another makes all of them)."""

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


def bake_and_run(out: Path, combo: dict[str, str]) -> dict[tuple[str, str], StackRun]:
    """Bake ``combo`` and run each of its stacks under mocks."""
    from cookiecutter.main import cookiecutter

    project = cookiecutter(
        str(ROOT), no_input=True, output_dir=str(out / combo_id(combo)), extra_context=combo
    )
    # as a user sets it before `up`, the first image pushed (pipelines and Jobs declared)
    infra = configure_image(Path(project) / "infra")
    stacks = list(STACKS)
    if combo_id(combo) in PUBLIC_COMBOS:
        with_public_api(infra, PUBLIC_API[combo["compute"]])
        stacks.append(PUBLIC_STACK)
    return {
        (combo_id(combo), stack): StackRun(combo, stack, infra, run_program(infra, stack))
        for stack in stacks
    }


def with_public_api(infra: Path, value: object) -> None:
    """``Pulumi.public.yaml``: the prod stack's config with ``slipway:publicApi`` set."""
    config = yaml.safe_load((infra / "Pulumi.prod.yaml").read_text())["config"]
    stack = infra / f"Pulumi.{PUBLIC_STACK}.yaml"
    stack.write_text(yaml.safe_dump({"config": {**config, "slipway:publicApi": value}}))


def _session_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The directory every xdist worker of this session shares."""
    base = tmp_path_factory.getbasetemp()
    return base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base


def _combo_runs(
    root: Path, combo: dict[str, str], *, wait: bool = True
) -> dict[tuple[str, str], StackRun] | None:
    """One combination's runs, baked and run once per session by whichever worker claims
    it first (a file lock per combination); ``wait=False``: ``None`` while another worker
    holds it."""
    cid = combo_id(combo)
    cache = root / f"runs-{cid}.pickle"
    with open(root / f"runs-{cid}.lock", "w") as lock:
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | (0 if wait else fcntl.LOCK_NB))
        except BlockingIOError:
            return None
        if cache.exists():
            loaded: dict[tuple[str, str], StackRun] = pickle.loads(cache.read_bytes())
            return loaded
        runs = bake_and_run(root / "structural-projects", combo)
        cache.write_bytes(pickle.dumps(runs))
        return runs


def shared_runs(tmp_path_factory: pytest.TempPathFactory) -> dict[tuple[str, str], StackRun]:
    """Every combination's runs, each made once per session: the combinations no other
    worker is making first, then the ones being made elsewhere (so two workers asking at
    once share the work instead of one waiting for the other)."""
    root = _session_root(tmp_path_factory)
    runs: dict[tuple[str, str], StackRun] = {}
    waiting = []
    for combo in STRUCTURAL_COMBOS:
        found = _combo_runs(root, combo, wait=False)
        if found is None:
            waiting.append(combo)
        else:
            runs.update(found)
    for combo in waiting:
        runs.update(_combo_runs(root, combo) or {})
    return runs


def single_run(
    tmp_path_factory: pytest.TempPathFactory, combo: dict[str, str], stack: str
) -> StackRun:
    """One stack of one structural combination: its combination's shared runs (made now
    when no test has made them yet; a worker making another combination is not waited for)."""
    runs = _combo_runs(_session_root(tmp_path_factory), combo)
    assert runs is not None
    return runs[combo_id(combo), stack]


def structural_run(runs: dict[tuple[str, str], StackRun], stack: str, **options: str) -> StackRun:
    """The run of ``stack`` of the structural combination with these (all four) options."""
    found = [
        run
        for (_, name), run in runs.items()
        if name == stack and all(run.combo[k] == v for k, v in options.items())
    ]
    assert len(found) == 1, f"{options}: {len(found)} structural combinations match"
    return found[0]
