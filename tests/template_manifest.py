"""The exact file set a baked project must have, per option value.

Paths use ``{pkg}`` for the package name. Whoever adds a template file adds it
here, under BASE or under the option value that brings it.
"""

from __future__ import annotations

import tomllib
from pathlib import Path

VERSION = tomllib.loads((Path(__file__).parents[1] / "pyproject.toml").read_text())["project"][
    "version"
]
# The slipway-mlops wheel the post-gen hook builds from a local checkout (docs/template.md).
VENDORED_WHEEL = f"vendor/slipway_mlops-{VERSION}-py3-none-any.whl"

BASE = {
    ".gitignore",
    ".pre-commit-config.yaml",
    "LICENSE",
    # Serving image (issue 7)
    ".dockerignore",
    "Dockerfile",
    "Makefile",
    "README.md",
    "pyproject.toml",
    "vendor/README.md",
    "infra/Pulumi.yaml",
    "infra/pulumi-backend.env",
    "infra/Pulumi.dev.yaml",
    "infra/Pulumi.staging.yaml",
    "infra/Pulumi.prod.yaml",
    "infra/__main__.py",
    "src/{pkg}/__init__.py",
    "src/{pkg}/__main__.py",
    "src/{pkg}/cli.py",
    "tests/test_cli.py",
    "tests/test_infra.py",
    # Local ML lifecycle (issue 3)
    "config/pipeline.yaml",
    "src/{pkg}/config.py",
    "src/{pkg}/data.py",
    "src/{pkg}/estimators.py",
    "src/{pkg}/evaluate.py",
    "src/{pkg}/monitor.py",
    "src/{pkg}/pipeline.py",
    "src/{pkg}/predict.py",
    "src/{pkg}/register.py",
    "src/{pkg}/schema.py",
    "src/{pkg}/serve.py",
    "src/{pkg}/train.py",
    "tests/conftest.py",
    "tests/test_config.py",
    "tests/test_data.py",
    "tests/test_evaluate.py",
    "tests/test_monitor.py",
    "tests/test_predict.py",
    "tests/test_promote.py",
    "tests/test_register.py",
    "tests/test_serve.py",
    "tests/test_train.py",
    # Promotion you can trust (issue 15): fairness, explanation, evaluation plots, no-op
    "src/{pkg}/explain.py",
    "src/{pkg}/fairness.py",
    "src/{pkg}/plots.py",
    "tests/test_pipeline.py",
    # The steps on the stack's engine (issue 14; docs/engines.md): the image's entry point,
    # the steps it runs, `pipeline run --on aws` / `pipeline status` / `batch --on aws`
    "src/{pkg}/container.py",
    "src/{pkg}/steps.py",
    "src/{pkg}/registry.py",
    "src/{pkg}/remote.py",
    "tests/test_container.py",
    "tests/test_steps.py",
    "tests/test_remote.py",
}

BY_OPTION: dict[tuple[str, str], set[str]] = {
    # SageMaker deploy commands (issue 6; docs/deploy.md)
    ("compute", "sagemaker"): {"src/{pkg}/deploy.py", "tests/test_deploy.py"},
    # GitHub Actions with OIDC (issue 8; docs/security.md)
    ("ci", "github"): {
        ".github/actions/setup/action.yml",
        ".github/actions/stack-mlflow/action.yml",
        ".github/workflows/ci.yml",
        ".github/workflows/deploy.yml",
        ".github/workflows/release.yml",
        ".github/workflows/stack-up.yml",
        ".github/workflows/test.yml",
        ".github/workflows/train.yml",
    },
}


def expected_files(options: dict[str, str], vendored: bool = True) -> set[str]:
    """Relative paths of every file a project baked with ``options`` must hold;
    ``vendored``: baked from a local checkout, so slipway-mlops is vendored as a wheel."""
    files = set(BASE) | ({VENDORED_WHEEL} if vendored else set())
    for (option, value), extra in BY_OPTION.items():
        if options.get(option) == value:
            files |= extra
    if options.get("ci") == "github":
        files.add(".github/actions/image/action.yml")  # serving image build (docs/ci.md)
        # Scheduled drift check; it follows prod's slipway:monitoring (docs/configuration.md)
        files.add(".github/workflows/drift.yml")
    return {path.format(pkg=options["package_name"]) for path in files}
