"""Every physical name fits AWS's limit with the longest project slug the template accepts
(issue 12, item 13). Names are ``<slug>-<stack>-...``, and Pulumi appends ``-`` and 7
characters to the ones it autonames, so the slug cap is derived from the tightest name:
with the cap, each stack's every name fits, and one name is exactly at its limit (a longer
cap would break it)."""

from __future__ import annotations

from pathlib import Path

import pytest
from hook_loader import load_inputs
from name_limits import AUTONAME_SUFFIX, EKS_CHILDREN, LIMITS, UNNAMED, model_limit
from slipway.testing import ProgramRun, run_program
from stack_config import configure_image

ROOT = Path(__file__).resolve().parents[2]

COMBOS = {
    "sagemaker": {"compute": "sagemaker", "endpoint": "realtime", "monitoring": "yes"},
    "eks": {"compute": "eks", "endpoint": "realtime", "monitoring": "yes"},
}
STACKS = ("dev", "staging", "prod")


def longest_slug() -> str:
    """The longest project slug the template accepts (slipway_inputs.py)."""
    return "a" * load_inputs().MAX_SLUG


def physical_names(run: ProgramRun) -> list[tuple[str, str, str]]:
    """(type, logical name, physical name) of every named AWS resource of a run, the
    autonamed ones as long as Pulumi makes them; pulumi-eks children from its naming."""
    found = []
    for resource in run.resources:
        for suffix, child_type, given in EKS_CHILDREN.get(resource.type, []):
            logical = resource.name + suffix
            name = resource.inputs.get(given) if given else None
            found.append((child_type, logical, name or logical + "x" * AUTONAME_SUFFIX))
        if not resource.custom or not resource.type.startswith("aws:"):
            continue
        if resource.type in UNNAMED or (
            resource.type.startswith("aws:s3/bucket") and (resource.type != "aws:s3/bucket:Bucket")
        ):
            continue
        assert resource.type in LIMITS, f"{resource.type}: add its AWS name limit to name_limits"
        given = resource.inputs.get(LIMITS[resource.type].prop)
        found.append((resource.type, resource.name, given or resource.name + "x" * AUTONAME_SUFFIX))
    return found


@pytest.fixture(scope="module")
def margins(tmp_path_factory: pytest.TempPathFactory) -> dict[tuple[str, str], list[tuple]]:
    """(combo, stack) -> (limit - length, type, physical name) of each name, longest slug."""
    from cookiecutter.main import cookiecutter

    out = tmp_path_factory.mktemp("long-slug")
    found = {}
    for key, combo in COMBOS.items():
        context = {**combo, "ci": "github", "project_name": longest_slug()}
        context["slipway_source"] = "==0.1.0"  # no wheel to vendor: only the program runs
        project = Path(
            cookiecutter(str(ROOT), no_input=True, extra_context=context, output_dir=str(out / key))
        )
        # API networks (EKS) and a pushed image (both flavors: pipelines, schedules, Jobs)
        configure_image(project / "infra")
        for stack in STACKS:
            names = physical_names(run_program(project / "infra", stack))
            found[key, stack] = sorted(
                (LIMITS[type_].limit - len(name), type_, name) for type_, _, name in names
            )
    return found


@pytest.mark.parametrize("stack", STACKS)
@pytest.mark.parametrize("combo", COMBOS)
def test_every_name_fits_with_the_longest_slug(
    margins: dict[tuple[str, str], list[tuple]], combo: str, stack: str
) -> None:
    over = [(t, n, f"{len(n)} > {len(n) + m}") for m, t, n in margins[combo, stack] if m < 0]
    assert not over, over
    assert len(margins[combo, stack]) >= 20


def test_the_slug_cap_is_the_tightest_name(margins: dict[tuple[str, str], list[tuple]]) -> None:
    """One character more would break a name: the cap is derived, not picked."""
    tightest = min(m for names in margins.values() for m in names)
    assert tightest[0] == 0, f"slack of {tightest[0]} characters: raise MAX_SLUG ({tightest})"


def test_limits_are_read_from_the_aws_api_models() -> None:
    """The table's numbers come from botocore's models (or a cited guide), e.g. IAM role
    names 64, SageMaker 63, RDS identifiers 63 (from the API reference text)."""
    assert LIMITS["aws:iam/role:Role"].limit == 64
    assert LIMITS["aws:sagemaker/monitoringSchedule:MonitoringSchedule"].limit == 63
    assert model_limit("rds CreateDBInstance.DBInstanceIdentifier") == 63
    assert model_limit("sns CreateTopic.Name") == 256
    assert all(limit.limit > 0 for limit in LIMITS.values())
