"""CustomResources against their CRD schemas, Helm values against the charts' values.yaml,
and Alertmanager's route to the SNS topic (config structure, IRSA publish-only role)."""

from __future__ import annotations

import copy
import json
from typing import Any

import jsonschema
import pytest
from chart_keys import CHART_VALUES, chart_defaults, unknown_keys
from crd_validation import is_custom_resource, validate_custom_resource
from slipway.eks.helm import coalesce
from slipway.eks.irsa import ROLE_ANNOTATION
from slipway.eks.manifests import ManifestError, manifests, reveal
from slipway.testing import ProgramRun, iter_policy_statements

MLFLOW_FREE_FORM = frozenset({"podSecurityContext", "securityContext"})  # Kubernetes objects
STACK_FREE_FORM = frozenset({"alertmanager.config"})  # Alertmanager's own schema, tested below
ALERTMANAGER_SCHEMA = json.loads((CHART_VALUES / "alertmanager-config.schema.json").read_text())


def _values(run: ProgramRun, chart: str) -> dict[str, Any]:
    release = next(
        r for r in run.of_type("kubernetes:helm.sh/v3:Release") if r.inputs["chart"] == chart
    )
    return dict(reveal(release.inputs["values"]))


def _custom(run: ProgramRun, kind: str) -> dict[str, Any]:
    return copy.deepcopy(next(m for m in manifests(run) if m["kind"] == kind))


def _rendered_alertmanager_config(run: ProgramRun) -> dict[str, Any]:
    """The config Helm renders: our values coalesced over the chart's default config."""
    default = chart_defaults("kube-prometheus-stack-75.x.values.yaml")["alertmanager"]["config"]
    ours = _values(run, "kube-prometheus-stack")["alertmanager"]["config"]
    return dict(coalesce(default, ours))


def test_every_custom_resource_matches_its_crd_schema(eks_run: ProgramRun) -> None:
    found = [m for m in manifests(eks_run) if is_custom_resource(m)]
    assert {m["kind"] for m in found} >= {"ServiceMonitor", "PrometheusRule"}
    for manifest in found:
        validate_custom_resource(manifest, "1.35")


@pytest.mark.parametrize(
    ("kind", "mutate", "error"),
    [
        (
            "ServiceMonitor",
            lambda m: m["spec"]["endpoints"][0].update(paht="/metrics"),
            r"spec\.endpoints\.0: Additional properties are not allowed \('paht'",
        ),
        (
            "ServiceMonitor",
            lambda m: m["spec"]["endpoints"][0].update(interval="30 seconds"),
            r"spec\.endpoints\.0\.interval: '30 seconds' does not match",
        ),
        (
            "ServiceMonitor",
            lambda m: m["spec"].pop("selector"),
            r"spec: 'selector' is a required property",
        ),
        (
            "ServiceMonitor",
            lambda m: m["spec"]["namespaceSelector"].update(matchNames="serving"),
            r"spec\.namespaceSelector\.matchNames: 'serving' is not of type 'array'",
        ),
        (
            "PrometheusRule",
            lambda m: m["spec"]["groups"][0]["rules"][0].pop("expr"),
            r"spec\.groups\.0\.rules\.0: 'expr' is a required property",
        ),
        (
            "PrometheusRule",
            lambda m: m["spec"]["groups"][0]["rules"][0].update({"for": "5 minutes"}),
            r"spec\.groups\.0\.rules\.0\.for: '5 minutes' does not match",
        ),
        (
            "PrometheusRule",
            lambda m: m["spec"]["groups"][0].update(partial_response_strategy="skip"),
            r"spec\.groups\.0\.partial_response_strategy: 'skip' does not match",
        ),
        (
            "PrometheusRule",
            lambda m: m["spec"]["groups"][0]["rules"][0].update(severity="critical"),
            r"Additional properties are not allowed \('severity'",
        ),
        (
            "PrometheusRule",
            lambda m: m.update(kind="PodMonitor"),
            r"no CRD schema vendored for monitoring\.coreos\.com/v1",
        ),
    ],
)
def test_a_custom_resource_breaking_its_crd_schema_is_rejected(
    eks_run: ProgramRun, kind: str, mutate: Any, error: str
) -> None:
    manifest = _custom(eks_run, kind)
    mutate(manifest)
    with pytest.raises(ManifestError, match=error):
        validate_custom_resource(manifest, "1.35")


def test_helm_values_use_only_keys_the_charts_declare(eks_run: ProgramRun) -> None:
    mlflow = chart_defaults("mlflow-1.11.4.values.yaml")
    assert list(unknown_keys(_values(eks_run, "mlflow"), mlflow, MLFLOW_FREE_FORM)) == []
    stack = chart_defaults("kube-prometheus-stack-75.x.values.yaml")
    assert (
        list(unknown_keys(_values(eks_run, "kube-prometheus-stack"), stack, STACK_FREE_FORM)) == []
    )
    pushgateway = chart_defaults("prometheus-pushgateway.values.yaml")
    assert list(unknown_keys(_values(eks_run, "prometheus-pushgateway"), pushgateway)) == []


def test_a_misspelt_chart_key_is_found() -> None:
    mlflow = chart_defaults("mlflow-1.11.4.values.yaml")
    values = {
        "backendStore": {"postgres": {"hostname": "db"}, "existingDatabaseSecrets": {}},
        "serviceAccount": {"annotations": {"any/key": "free-form"}},
        "service": {"port": {"http": 5000}},
    }
    assert sorted(unknown_keys(values, mlflow)) == [
        "backendStore.existingDatabaseSecrets",
        "backendStore.postgres.hostname",
        "service.port",
    ]


def test_alertmanager_config_is_valid_and_routes_by_severity_to_the_topic(
    eks_run: ProgramRun,
) -> None:
    config = _rendered_alertmanager_config(eks_run)
    jsonschema.validate(config, ALERTMANAGER_SCHEMA)
    receivers = {r["name"]: r for r in config["receivers"]}
    assert len(receivers) == len(config["receivers"])

    def routes(route: dict[str, Any]) -> list[dict[str, Any]]:
        return [route, *(sub for child in route.get("routes", []) for sub in routes(child))]

    assert all(r["receiver"] in receivers for r in routes(config["route"]))
    by_matcher = {tuple(r.get("matchers", [])): r["receiver"] for r in routes(config["route"])}
    assert by_matcher[('severity = "critical"',)] == "sns-critical"
    assert by_matcher[('severity = "warning"',)] == "sns-warning"
    assert by_matcher[('alertname =~ "Watchdog|InfoInhibitor"',)] == "null"
    assert config["route"]["receiver"] == "null" and "sns_configs" not in receivers["null"]
    topic = eks_run.one("aws:sns/topic:Topic").state["arn"]
    for name in ("sns-critical", "sns-warning"):
        [sns] = receivers[name]["sns_configs"]
        assert sns["topic_arn"] == topic
        assert sns["sigv4"] == {"region": topic.split(":")[3]}  # credentials: IRSA only
        assert sns["subject"].startswith(f"[churn-{eks_run.outputs['preset']}] ")
    # the chart's inhibit rules and template path survive the merge
    assert config["inhibit_rules"] and config["templates"] == ["/etc/alertmanager/config/*.tmpl"]


@pytest.mark.parametrize(
    ("mutate", "error"),
    [
        (
            lambda c: c["receivers"][1]["sns_configs"][0].update(topicArn="x"),
            "Additional properties are not allowed",
        ),
        (
            lambda c: c["receivers"][1]["sns_configs"][0].update(topic_arn="alarms"),
            "does not match",
        ),
        (lambda c: c["route"].update(repeat_interval="1 hour"), "does not match"),
        (
            lambda c: c["route"]["routes"][0].update(match_labels={}),
            "Additional properties are not allowed",
        ),
    ],
)
def test_a_broken_alertmanager_config_fails_its_schema(
    eks_run: ProgramRun, mutate: Any, error: str
) -> None:
    config = copy.deepcopy(_rendered_alertmanager_config(eks_run))
    mutate(config)
    with pytest.raises(jsonschema.ValidationError, match=error):
        jsonschema.validate(config, ALERTMANAGER_SCHEMA)


def test_alertmanager_may_only_publish_to_the_alarm_topic(eks_run: ProgramRun) -> None:
    account = _values(eks_run, "kube-prometheus-stack")["alertmanager"]["serviceAccount"]
    role = next(
        r
        for r in eks_run.of_type("aws:iam/role:Role")
        if r.state["arn"] == account["annotations"][ROLE_ANNOTATION]
    )
    trust = json.loads(role.inputs["assumeRolePolicy"])["Statement"][0]
    sub = next(v for k, v in trust["Condition"]["StringEquals"].items() if k.endswith(":sub"))
    assert sub == f"system:serviceaccount:monitoring:{account['name']}"
    [attached] = [
        p
        for p in eks_run.of_type("aws:iam/rolePolicy:RolePolicy")
        if p.inputs["role"] == role.state["name"]
    ]
    statements = list(iter_policy_statements(attached.inputs["policy"]))
    topic = eks_run.one("aws:sns/topic:Topic").state["arn"]
    assert [(s["Effect"], s["Action"], s["Resource"]) for s in statements] == [
        ("Allow", ["sns:Publish"], [topic])
    ]
