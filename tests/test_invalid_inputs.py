"""Bad answers are refused before anything is written (slipway_inputs.py, run by
cookiecutter itself): one line naming the field and the rule, a non-zero exit, and no
output directory left behind."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from hook_loader import load_inputs
from matrix import ROOT

INVALID = [
    # (extra context, field named in the error, words of the rule)
    ({"project_slug": "1churn"}, "project_slug", "start with a letter"),
    ({"project_slug": "Churn-Model"}, "project_slug", "lowercase"),
    ({"project_slug": "churn model", "package_name": "churn_model"}, "project_slug", "spaces"),
    # 31: the tightest AWS name of a stack (tests/aws/test_name_lengths.py)
    ({"project_slug": "a" * 32, "package_name": "churn"}, "project_slug", "at most 31"),
    ({"project_slug": "churn--model", "package_name": "churn"}, "project_slug", "single hyphens"),
    ({"project_slug": "churn-", "package_name": "churn"}, "project_slug", "single hyphens"),
    ({"project_slug": "churn_model", "package_name": "churn"}, "project_slug", "hyphens"),
    ({"project_name": "class"}, "package_name", "keyword"),
    ({"package_name": "lambda"}, "package_name", "keyword"),
    ({"package_name": "9lives"}, "package_name", "start with a letter"),
    ({"package_name": "ChurnModel"}, "package_name", "lowercase"),
    ({"package_name": "churn-model"}, "package_name", "Python identifier"),
    ({"package_name": "churn " + "x"}, "package_name", "spaces"),
    ({"package_name": "p" * 41}, "package_name", "at most 40"),
    ({"package_name": "json"}, "package_name", "shadow"),
    ({"package_name": "slipway"}, "package_name", "shadow"),
    ({"project_name": "   "}, "project_name", "empty"),
    ({"project_name": "Churn {{ x }}", "project_slug": "churn-model"}, "project_name", "syntax"),
    ({"project_name": "Churn\tModel", "project_slug": "churn-model"}, "project_name", "one line"),
    ({"github_repository": "org/.."}, "github_repository", "owner/name"),
    ({"aws_region": "us-east-9"}, "aws_region", "AWS commercial region"),
    ({"aws_region": "US-EAST-1"}, "aws_region", "AWS commercial region"),
    ({"aws_region": "cn-north-1"}, "aws_region", "AWS commercial region"),
    ({"author_email": "ml-team"}, "author_email", "email"),
    ({"author_email": "ml@team"}, "author_email", "email"),
    ({"author_email": "ml team@example.com"}, "author_email", "email"),
    ({"author_name": ""}, "author_name", "empty"),
    ({"author_name": "ML Team (Berlin)"}, "author_name", "AWS tag value"),
    ({"description": "line one\nline two"}, "description", "one line"),
    ({"compute": "eks", "endpoint": "serverless"}, "endpoint", "only on SageMaker"),
    ({"ci": "github", "github_repository": "no-slash"}, "github_repository", "owner/name"),
    ({"ci": "github", "github_repository": "org/repo/extra"}, "github_repository", "owner/name"),
    ({"slipway_source": "ftp://example.com/slipway.tar.gz"}, "slipway_source", "version specifier"),
    ({"slipway_source": "/no/such/slipway/checkout"}, "slipway_source", "does not exist"),
]


@pytest.mark.parametrize(
    ("context", "field", "rule"), INVALID, ids=[f"{f}:{i}" for i, (_, f, _) in enumerate(INVALID)]
)
def test_invalid_input_is_refused(
    tmp_path: Path, context: dict[str, str], field: str, rule: str
) -> None:
    from cookiecutter.exceptions import FailedHookException
    from cookiecutter.main import cookiecutter

    out = tmp_path / "out"
    with pytest.raises(FailedHookException) as refused:
        cookiecutter(str(ROOT), no_input=True, extra_context=context, output_dir=str(out))
    error = str(refused.value)
    assert error.startswith(f"error: {field}: ") and rule in error, error
    assert not out.exists(), "something was written before the refusal"


@pytest.mark.parametrize(("context", "field", "rule"), INVALID[::3])
def test_cli_prints_one_line_naming_field_and_rule(
    tmp_path: Path, context: dict[str, str], field: str, rule: str
) -> None:
    out = tmp_path / "out"
    args = [f"{k}={v}" for k, v in context.items()]
    run = subprocess.run(
        [sys.executable, "-m", "slipway", "new", "--no-input", "-o", str(out), *args],
        capture_output=True,
        text=True,
        check=False,
    )
    assert run.returncode == 1, run.stdout + run.stderr
    lines = [line for line in run.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, run.stderr
    assert lines[0].startswith(f"error: {field}: "), lines[0]
    assert rule in lines[0], lines[0]
    assert not out.exists()


def test_at_least_twenty_distinct_invalid_inputs() -> None:
    assert len({repr(c) for c, _, _ in INVALID}) >= 20
    assert len({f for _, f, _ in INVALID}) >= 10


def test_accepted_regions_are_real_sagemaker_regions() -> None:
    import botocore.session

    regions = set(load_inputs().AWS_REGIONS)
    sagemaker = set(botocore.session.get_session().get_available_regions("sagemaker"))
    assert regions and regions <= sagemaker, regions - sagemaker
    assert "us-east-1" in regions
