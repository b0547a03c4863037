"""Validate every cookiecutter input before a file is written.

Each failure prints one line, ``error: <field>: <rule> (got <value>)``, and exits 1;
cookiecutter then deletes the half-made project directory.
"""

from __future__ import annotations

import json
import keyword
import re
import sys

CONTEXT = json.loads(r"""{{ cookiecutter | jsonify }}""")

MAX_NAME = 40
# The slug starts every AWS name of a stack, <slug>-<stack>-..., and Pulumi appends "-" and 7
# characters to autonamed ones: the tightest name sets the cap (tests/aws/test_name_lengths.py).
MAX_SLUG = 31
SLUG = re.compile(r"^[a-z][a-z0-9]*(-[a-z0-9]+)*$")
PACKAGE = re.compile(r"^[a-z][a-z0-9_]*$")
EMAIL = re.compile(r"^[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}$")
# AWS tag values (author_name becomes the `owner` tag on every resource).
TAG_VALUE = re.compile(r"^[\w .:/=+\-@]{1,256}$")
GITHUB_REPOSITORY = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9-]{0,38})/[A-Za-z0-9._-]{1,100}$")
# AWS commercial regions where SageMaker, S3, KMS and EKS are all offered.
AWS_REGIONS = frozenset(
    {
        "af-south-1",
        "ap-east-1",
        "ap-northeast-1",
        "ap-northeast-2",
        "ap-northeast-3",
        "ap-south-1",
        "ap-south-2",
        "ap-southeast-1",
        "ap-southeast-2",
        "ap-southeast-3",
        "ap-southeast-4",
        "ca-central-1",
        "ca-west-1",
        "eu-central-1",
        "eu-central-2",
        "eu-north-1",
        "eu-south-1",
        "eu-south-2",
        "eu-west-1",
        "eu-west-2",
        "eu-west-3",
        "il-central-1",
        "me-central-1",
        "me-south-1",
        "mx-central-1",
        "sa-east-1",
        "us-east-1",
        "us-east-2",
        "us-west-1",
        "us-west-2",
    }
)
CHOICES = {
    "compute": ("sagemaker", "eks"),
    "endpoint": ("realtime", "serverless"),
    "monitoring": ("yes", "no"),
    "ci": ("github", "none"),
    "python_version": ("3.11", "3.12"),
    "license": ("MIT", "Apache-2.0", "Proprietary"),
}
# Names a generated package must not take: they would shadow the platform package
# or a module the project imports.
RESERVED_PACKAGES = frozenset(
    {"slipway", "mlflow", "pulumi", "pulumi_aws", "sklearn", "pandas", "numpy", "infra", "tests"}
) | frozenset(sys.stdlib_module_names)
SOURCE_PREFIXES = ("file://", "git+https://", "git+ssh://", "git+file://", "https://")
VERSION_SPEC = re.compile(r"^(==|>=|<=|~=|!=|>|<)\s*\d+(\.\d+)*([a-z0-9.+-]*)$")


class InvalidInput(ValueError):
    """One input breaks one rule."""


def fail(field: str, rule: str) -> None:
    raise InvalidInput(f"{field}: {rule} (got {CONTEXT.get(field)!r})")


def check_identifier(
    field: str, value: str, pattern: re.Pattern[str], shape: str, maximum: int = MAX_NAME
) -> None:
    if not value:
        fail(field, "must not be empty")
    if len(value) > maximum:
        fail(field, f"must be at most {maximum} characters")
    if value[0].isdigit():
        fail(field, "must start with a letter, not a digit")
    if value != value.lower():
        fail(field, "must be lowercase")
    if any(ch.isspace() for ch in value):
        fail(field, "must not contain spaces")
    if not pattern.match(value):
        fail(field, f"must be {shape}")


def check_names(ctx: dict[str, str]) -> None:
    if not ctx["project_name"].strip():
        fail("project_name", "must not be empty")
    if any(ch in ctx["project_name"] for ch in '"\\\n\r\t{}'):
        fail("project_name", "must not contain quotes, backslashes, braces or control characters")
    check_identifier(
        "project_slug",
        ctx["project_slug"],
        SLUG,
        "lowercase letters and digits in words joined by single hyphens",
        MAX_SLUG,
    )
    package = ctx["package_name"]
    check_identifier(
        "package_name", package, PACKAGE, "a Python identifier of lowercase letters, digits, '_'"
    )
    if keyword.iskeyword(package) or keyword.issoftkeyword(package):
        fail("package_name", "must not be a Python keyword")
    if package in RESERVED_PACKAGES:
        fail("package_name", "must not shadow the standard library or a platform package")


def check_people(ctx: dict[str, str]) -> None:
    if not ctx["author_name"].strip():
        fail("author_name", "must not be empty")
    if any(ch in ctx["author_name"] for ch in '"\\\n\r\t{}'):
        fail("author_name", "must not contain quotes, backslashes, braces or control characters")
    if not TAG_VALUE.match(ctx["author_name"]):
        fail(
            "author_name",
            "must be a valid AWS tag value: letters, digits, spaces and _ . : / = + - @",
        )
    if not EMAIL.match(ctx["author_email"]):
        fail("author_email", "must be an email address like team@example.com")
    if len(ctx["description"]) > 200 or any(ch in ctx["description"] for ch in '"\\\n\r'):
        fail("description", "must be one line of at most 200 characters without quotes")


def check_choices(ctx: dict[str, str]) -> None:
    for field, allowed in CHOICES.items():
        if ctx[field] not in allowed:
            fail(field, "must be one of " + ", ".join(allowed))
    if ctx["aws_region"] not in AWS_REGIONS:
        fail("aws_region", "must be an AWS commercial region code such as us-east-1")


def check_combinations(ctx: dict[str, str]) -> None:
    """Refuse what the platform cannot deploy."""
    if ctx["compute"] == "eks" and ctx["endpoint"] == "serverless":
        fail("endpoint", "serverless endpoints exist only on SageMaker; use realtime with eks")
    if ctx["ci"] == "github" and not GITHUB_REPOSITORY.match(ctx["github_repository"]):
        fail("github_repository", "must be owner/name of a GitHub repository when ci=github")


def check_source(ctx: dict[str, str]) -> None:
    source = ctx["slipway_source"].strip()
    if not source:
        return
    if source.startswith(SOURCE_PREFIXES) or VERSION_SPEC.match(source):
        return
    if source.startswith(("/", "./", "../", "~")):
        return
    fail(
        "slipway_source",
        "must be a path, a file:// or git+https:// URL, or a version specifier like ==0.1.0",
    )


def main() -> int:
    try:
        for check in (check_choices, check_names, check_people, check_combinations, check_source):
            check(CONTEXT)
    except InvalidInput as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
