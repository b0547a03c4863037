"""The stack's options: the ``slipway:*`` keys of ``Pulumi.<stack>.yaml``, read and checked once.

Every option the template used to bake into the program is a key here, so a project
changes one with ``pulumi config set slipway:<key> <value>`` (turns monitoring on, say)
without re-templating. ``load_config()`` reads the running stack's keys;
``StackConfig.parse(values, project, stack)`` checks a plain mapping (tests, tools). A bad
value stops the program before any resource is declared, with one line
``slipway:<key>: <rule>``: a ``pulumi.RunError``, which Pulumi prints without a traceback.
``KEYS`` is the reference; docs/configuration.md is rendered from it
(``python -m slipway.platform``).
"""

from __future__ import annotations

import difflib
import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Literal, TypeVar, cast

import pulumi
import yaml
from pulumi.runtime import config as pulumi_config

from slipway.aws.context import StackContext
from slipway.aws.endpoint import EndpointKind
from slipway.aws.monitoring import EMAIL
from slipway.aws.roles import GithubDeployment
from slipway.platform.public_api import PublicApiError, PublicApiOptions, parse_public_api
from slipway.presets import Preset, PresetError, load_preset

NAMESPACE = "slipway"
MONITORING_DEFAULT = False
Compute = Literal["sagemaker", "eks"]
BOTH: tuple[Compute, ...] = ("sagemaker", "eks")
T = TypeVar("T")
PRIVATE_API = "private"
API_ACCESS_UNSET = (
    "slipway:apiAccessCidrs: required with compute eks: `pulumi up` applies the Kubernetes and "
    "Helm resources through the cluster's API endpoint, so list the networks it runs from, "
    "e.g. pulumi config set --path 'slipway:apiAccessCidrs[0]' "
    '"$(curl -fsS https://checkip.amazonaws.com)/32" (GitHub-hosted runners have no fixed '
    "addresses: docs/eks.md#api-access), or set it to private when pulumi runs inside the VPC"
)


@dataclass(frozen=True)
class Key:
    """One ``slipway:<name>`` key: the rule it must follow and what it does."""

    name: str
    rule: str
    default: str
    """Shown default; ``"required"`` when the key has none."""
    doc: str
    flavors: tuple[Compute, ...] = BOTH


KEYS = (
    Key("preset", "a preset name (dev, staging, prod) or a path", "required",
        "Environment defaults: sizes, retention, alarms, deletion protection (presets.md)."),
    Key("owner", "1-256 letters, digits, spaces or _ . : / = + - @", "required",
        "The `owner` tag of every resource."),
    Key("compute", "sagemaker or eks", "required",
        "Where models are trained and served: SageMaker, or an EKS cluster."),
    Key("endpoint", "realtime or serverless (eks: realtime)", "`realtime`",
        "SageMaker endpoint type; serverless has no data capture or Model Monitor."),
    Key("monitoring", "true or false", "`false`",
        "Alarm topic, alarms and dashboard (SageMaker) or Prometheus stack and drift "
        "CronJob (EKS); with `githubRepository`, the drift check's monitor role."),
    Key("alarmEmail", "an email address; required when monitoring is true", "none",
        "Receives the alarm notifications (confirm the subscription email)."),
    Key("githubRepository", "owner/name", "none: no GitHub roles",
        "The only repository whose GitHub Actions may assume the stack's roles (OIDC)."),
    Key("githubOidcProviderArn", "`arn:<partition>:iam::<account>:oidc-provider/"
        "token.actions.githubusercontent.com`", "that ARN in the stack's account",
        "The account's GitHub OIDC provider, which an administrator creates once per "
        "account (no stack creates or changes it: security.md)."),
    Key("githubDefaultBranch", "a branch name", "`main`",
        "The branch whose deploy workflows alone may assume the deploy role of a stack "
        "whose preset reviews releases (staging, prod)."),
    Key("pulumiStateBucket", "an S3 bucket name", "none: Pulumi Cloud",
        "The bucket of a self-managed `s3://` Pulumi backend: each stack's roles reach that "
        "stack's state and secrets key only (security.md)."),
    Key("modelName", "not empty", "the Pulumi project name",
        "The `Model` dimension the drift check publishes under (`model.name` in "
        "config/pipeline.yaml).", ("sagemaker",)),
    Key("modelImageTag", "an image tag", "none",
        "The project image's tag in the stack's ECR repository (tags are immutable; CI sets "
        "the commit SHA): the training and batch steps' image (the schedule and the retrain "
        "alarm run it; `pipeline run --on aws --image-tag` names another) and, on EKS, the "
        "model server's. Unset, the first `up` creates the repository and declares no model "
        "server (EKS), no training or batch pipelines or Jobs, nor their schedules and retrain "
        "wiring (docs/eks.md#bootstrap, docs/engines.md). SageMaker's endpoint takes its image "
        "per release instead (`deploy --image-tag`)."),
    Key("baselineKey", "a key under the bucket's monitoring/ prefix", "`baseline`",
        "Model Monitor baseline (statistics.json, constraints.json); realtime with "
        "monitoring.", ("sagemaker",)),
    Key("apiAccessCidrs", "a non-empty list of CIDR blocks, not 0.0.0.0/0; or `private`",
        "required",
        "Networks that may reach the public Kubernetes API endpoint: those `pulumi up`, "
        "release.yml and drift.yml run from (they apply and call Kubernetes through it); "
        "`private`: no public endpoint, for runners inside the VPC (docs/eks.md#api-access).",
        ("eks",)),
    Key("modelUri", "an MLflow model URI", "required",
        "The registered model the server loads, e.g. `models:/churn-model@champion`.",
        ("eks",)),
    Key("publicApi", "false, true or a mapping (public-api.md)", "`false`: none",
        "An OAuth2/OIDC-authenticated API for callers outside AWS: API Gateway HTTP API "
        "(SageMaker) or an ALB Ingress (EKS); `true`: the stack's own Cognito user pool."),
)  # fmt: skip
KNOWN = {key.name: key for key in KEYS}


class ConfigError(pulumi.RunError, ValueError):
    """A ``slipway:*`` key is missing or breaks its rule; the message is one line."""


@dataclass(frozen=True)
class SageMakerOptions:
    """Options of ``compute: sagemaker``."""

    endpoint: EndpointKind
    baseline_key: str
    model_name: str
    """The drift alarm's ``Model`` dimension."""
    model_image_tag: str | None
    """The training pipelines' default image tag in the stack repository; ``None`` until the
    first image is pushed: no training or batch pipelines yet (bootstrap)."""


@dataclass(frozen=True)
class EksOptions:
    """Options of ``compute: eks``."""

    api_access_cidrs: tuple[str, ...]
    """Empty: ``private`` (no public endpoint)."""
    model_image_tag: str | None
    """``None`` until the first image is pushed: no model server, training or batch Jobs yet
    (bootstrap)."""
    model_uri: str


@dataclass(frozen=True)
class StackConfig:
    """The checked options of one stack; ``sagemaker`` or ``eks`` is set, per ``compute``."""

    context: StackContext
    compute: Compute
    monitoring: bool
    alarm_email: str | None
    """Set when ``monitoring`` is on."""
    github: GithubDeployment | None
    sagemaker: SageMakerOptions | None = None
    eks: EksOptions | None = None
    public_api: PublicApiOptions | None = None
    """``None``: no public API (``slipway:publicApi`` off)."""

    @classmethod
    def parse(cls, values: Mapping[str, str], project: str, stack: str) -> StackConfig:
        """Check ``values`` (key without ``slipway:`` -> the string Pulumi holds)."""
        raw = _Raw(values)
        raw.reject_unknown()
        compute = cast(Compute, raw.choice("compute", BOTH))
        raw.reject_other_flavor(compute)
        context = raw.wrap(
            lambda: StackContext(
                project=project,
                environment=stack,
                owner=raw.required("owner"),
                preset=_preset(raw.required("preset")),
            )
        )
        monitoring = raw.boolean("monitoring", default=MONITORING_DEFAULT)
        alarm_email = raw.get("alarmEmail")
        if monitoring and alarm_email is None:
            raise ConfigError("slipway:alarmEmail: required when slipway:monitoring is true")
        if alarm_email is not None and not EMAIL.match(alarm_email):
            raise ConfigError(f"slipway:alarmEmail: must be an email address (got {alarm_email!r})")
        repository = raw.get("githubRepository")
        for key in ("githubOidcProviderArn", "githubDefaultBranch", "pulumiStateBucket"):
            if raw.get(key) is not None and repository is None:
                raise ConfigError(f"slipway:{key}: needs slipway:githubRepository")
        github = None
        if repository is not None:
            github = raw.wrap(
                lambda: GithubDeployment(
                    repository,
                    oidc_provider_arn=raw.get("githubOidcProviderArn"),
                    drift_monitor=monitoring,
                    eks_cluster=compute == "eks",
                    default_branch=raw.get("githubDefaultBranch") or "main",
                    state_bucket=raw.get("pulumiStateBucket"),
                )
            )
        endpoint = raw.choice("endpoint", ("realtime", "serverless"), default="realtime")
        if compute == "eks" and endpoint != "realtime":
            raise ConfigError(
                "slipway:endpoint: must be realtime with compute eks (the model server runs "
                "on the cluster)"
            )
        return cls(
            context,
            compute,
            monitoring,
            alarm_email,
            github,
            sagemaker=_sagemaker_options(raw, endpoint, project)
            if compute == "sagemaker"
            else None,
            eks=_eks_options(raw) if compute == "eks" else None,
            public_api=_public_api(raw, compute, context.prefix),
        )

    @property
    def drift_model(self) -> str | None:
        """The drift alarm's model on SageMaker: only when a GitHub drift check publishes."""
        if self.sagemaker is None or not self.monitoring or self.github is None:
            return None
        return self.sagemaker.model_name


def load_config() -> StackConfig:
    """The running stack's options (``pulumi up``/``preview``, or a run under mocks)."""
    prefix = NAMESPACE + ":"
    merged = {**(pulumi_config.get_config_env() or {}), **pulumi_config.CONFIG.get()}
    values = {
        key.removeprefix(prefix): str(pulumi_config.get_config(key))
        for key in merged
        if key.startswith(prefix)
    }
    return StackConfig.parse(values, pulumi.get_project(), pulumi.get_stack())


def stack_monitoring(infra: Path, stack: str) -> bool:
    """``slipway:monitoring`` of ``infra/Pulumi.<stack>.yaml`` by the program's rule: what
    ``pulumi config set --stack <stack> slipway:monitoring ...`` wrote last. The project's
    workflows and deploy command read it, so they follow the stack, not the template answer."""
    path = Path(infra) / f"Pulumi.{stack}.yaml"
    try:
        config = (yaml.safe_load(path.read_text()) or {}).get("config") or {}
    except OSError as exc:
        raise ConfigError(f"{path}: {exc.strerror or exc}") from None
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path}: {str(exc).splitlines()[0]}") from None
    value = config.get(f"{NAMESPACE}:monitoring")
    values = (
        {}
        if value is None
        else {"monitoring": value if isinstance(value, str) else json.dumps(value)}
    )
    return _Raw(values).boolean("monitoring", default=MONITORING_DEFAULT)


def _preset(name: str) -> Preset:
    try:
        return load_preset(name)
    except PresetError as exc:
        raise ConfigError(f"slipway:preset: {exc}") from None


def _sagemaker_options(raw: _Raw, endpoint: str, project: str) -> SageMakerOptions:
    """The serving image and the model are not stack config: the release names them
    (``deploy --image-tag``; docs/decisions.md). ``modelImageTag`` is the training
    pipelines' image (docs/engines.md); unset, no pipelines are declared."""
    return SageMakerOptions(
        endpoint=cast(EndpointKind, endpoint),
        baseline_key=raw.get("baselineKey") or "baseline",
        model_name=raw.not_empty("modelName", default=project),
        model_image_tag=raw.get("modelImageTag"),
    )


def _public_api(raw: _Raw, compute: str, prefix: str) -> PublicApiOptions | None:
    try:
        return parse_public_api(raw.json("publicApi", None, "value"), compute, prefix)
    except PublicApiError as exc:
        raise ConfigError(str(exc)) from None


def _eks_options(raw: _Raw) -> EksOptions:
    from slipway.eks.cluster import api_access_cidrs  # eks extra: only EKS stacks import it

    private = raw.get("apiAccessCidrs") == PRIVATE_API
    cidrs = [] if private else raw.json("apiAccessCidrs", default=None)
    if cidrs is not None and (
        not isinstance(cidrs, list) or not all(isinstance(c, str) for c in cidrs)
    ):
        raise ConfigError("slipway:apiAccessCidrs: must be a list of CIDR blocks or private")
    if not private and not cidrs:
        raise ConfigError(API_ACCESS_UNSET)
    return EksOptions(
        api_access_cidrs=tuple(raw.wrap(lambda: api_access_cidrs(cidrs or []))),
        model_image_tag=raw.get("modelImageTag"),
        model_uri=raw.required("modelUri"),
    )


class _Raw:
    """The string values of the stack's ``slipway:*`` keys, with one-line errors."""

    def __init__(self, values: Mapping[str, str]) -> None:
        self.values = dict(values)

    def reject_unknown(self) -> None:
        for key in sorted(self.values):
            if key not in KNOWN:
                close = difflib.get_close_matches(key, KNOWN, n=1)
                hint = f"; did you mean slipway:{close[0]}?" if close else ""
                raise ConfigError(f"slipway:{key}: unknown key{hint} (see docs/configuration.md)")

    def reject_other_flavor(self, compute: Compute) -> None:
        for key in sorted(self.values):
            if compute not in KNOWN[key].flavors:
                raise ConfigError(f"slipway:{key}: applies to compute {KNOWN[key].flavors[0]} only")

    def get(self, key: str) -> str | None:
        value = self.values.get(key)
        return None if value is None or value.strip() == "" else value.strip()

    def required(self, key: str, when: str = "") -> str:
        value = self.get(key)
        if value is None:
            raise ConfigError(f"slipway:{key}: required{' ' + when if when else ''}")
        return value

    def not_empty(self, key: str, default: str) -> str:
        if key in self.values and not self.values[key].strip():
            raise ConfigError(f"slipway:{key}: must not be empty")
        return self.get(key) or default

    def choice(self, key: str, allowed: tuple[str, ...], default: str | None = None) -> str:
        value = self.get(key) or default
        if value is None:
            raise ConfigError(f"slipway:{key}: required: {' or '.join(allowed)}")
        if value not in allowed:
            raise ConfigError(f"slipway:{key}: must be {' or '.join(allowed)} (got {value!r})")
        return value

    def boolean(self, key: str, default: bool) -> bool:
        value = self.get(key)
        if value is None:
            return default
        if value.lower() not in ("true", "false"):
            raise ConfigError(f"slipway:{key}: must be true or false (got {value!r})")
        return value.lower() == "true"

    def json(self, key: str, default: object, what: str = "list") -> object:
        value = self.get(key)
        if value is None:
            return default
        try:
            return json.loads(value)
        except json.JSONDecodeError:
            raise ConfigError(
                f"slipway:{key}: must be a YAML/JSON {what} (got {value!r})"
            ) from None

    @staticmethod
    def wrap(build: Callable[[], T]) -> T:
        """Run a constructor whose ValueError starts with the key's name (``owner: ...``)."""
        try:
            return build()
        except ConfigError:
            raise
        except ValueError as exc:
            message = str(exc)
            key = re.match(r"^(\w+): ", message)
            known = key is not None and key.group(1) in KNOWN
            raise ConfigError(f"slipway:{message}" if known else message) from None


def render_reference() -> str:
    """The table of docs/configuration.md."""
    rows = ["| key | rule | default | what it does |", "|---|---|---|---|"]
    for key in KEYS:
        flavor = "" if key.flavors == BOTH else f" ({key.flavors[0]} only)"
        rows.append(f"| `slipway:{key.name}`{flavor} | {key.rule} | {key.default} | {key.doc} |")
    return "\n".join(rows) + "\n"
