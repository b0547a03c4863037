"""kube-prometheus-stack on EKS: nothing scrapes or alerts on control-plane components EKS does
not expose, and Prometheus keeps its data on an encrypted EBS volume.

The control-plane gates are the chart's own template conditions (vendored verbatim in
chart_values/kube-prometheus-stack-75.15.1.control-plane-gates.txt), evaluated on our values
coalesced over the chart's (prometheus-community/helm-charts#4106: on EKS the scheduler,
controller manager, etcd and kube-proxy metrics are not reachable, so KubeSchedulerDown and
KubeControllerManagerDown fire forever).
"""

from __future__ import annotations

import re
from typing import Any

import pytest
from chart_keys import CHART_VALUES, chart_defaults
from slipway.eks.helm import coalesce
from slipway.eks.manifests import manifests, reveal
from slipway.presets import load_preset
from slipway.testing import ProgramRun

GATES = CHART_VALUES / "kube-prometheus-stack-75.15.1.control-plane-gates.txt"
VALUE_REF = re.compile(r"\.Values((?:\.\w+)+)")


def _gates() -> dict[str, str]:
    lines = [line for line in GATES.read_text().splitlines() if not line.startswith("#")]
    return dict(line.split(": ", 1) for line in lines)


def _lookup(values: dict[str, Any], dotted: str) -> Any:
    node: Any = values
    for key in dotted.strip(".").split("."):
        if not isinstance(node, dict) or key not in node:
            return None  # Helm: a missing key is nil, which `and` treats as false
        node = node[key]
    return node


def rendered(condition: str, values: dict[str, Any]) -> bool:
    """Whether ``{{- if and A B ... }}`` holds: every ``.Values`` term truthy (Go templates:
    false, 0, nil, empty string/list/map are false); ``semverCompare`` terms hold for the
    presets' Kubernetes versions (>=1.14, <9.9.9)."""
    terms = VALUE_REF.findall(condition)
    assert condition.startswith("{{- if and ") and terms, condition
    return all(bool(_lookup(values, term)) for term in terms)


def _stack_values(run: ProgramRun) -> dict[str, Any]:
    release = next(
        r
        for r in run.of_type("kubernetes:helm.sh/v3:Release")
        if r.inputs["chart"] == "kube-prometheus-stack"
    )
    return dict(reveal(release.inputs["values"]))


def test_no_template_scrapes_or_alerts_on_hidden_control_plane_components(
    eks_run: ProgramRun,
) -> None:
    merged = coalesce(
        chart_defaults("kube-prometheus-stack-75.x.values.yaml"), _stack_values(eks_run)
    )
    gates = _gates()
    assert len(gates) == 16  # 4 components x (endpoints, service, servicemonitor) + 4 rule groups
    rendered_templates = [path for path, condition in gates.items() if rendered(condition, merged)]
    assert rendered_templates == []


def test_the_chart_defaults_render_every_control_plane_template() -> None:
    """The evaluator is not vacuous: on the chart's defaults the services, monitors and rules
    render (the endpoints templates need listed IPs, which no default gives)."""
    defaults = chart_defaults("kube-prometheus-stack-75.x.values.yaml")
    on = sorted(p for p, c in _gates().items() if rendered(c, defaults))
    assert len(on) == 12 and not any(p.endswith("endpoints.yaml") for p in on)


def test_prometheus_keeps_its_data_on_the_encrypted_storage_class(
    eks_run: ProgramRun, preset_name: str
) -> None:
    spec = _stack_values(eks_run)["prometheus"]["prometheusSpec"]["storageSpec"]
    claim = spec["volumeClaimTemplate"]["spec"]
    [storage_class] = [m for m in manifests(eks_run) if m["kind"] == "StorageClass"]
    assert claim["storageClassName"] == storage_class["metadata"]["name"]
    assert claim["accessModes"] == ["ReadWriteOnce"]
    size = load_preset(preset_name).eks.prometheus_storage_gb
    assert claim["resources"] == {"requests": {"storage": f"{size}Gi"}}


@pytest.mark.parametrize("preset", ["dev", "staging", "prod"])
def test_retention_fits_the_volume(preset: str) -> None:
    """Prometheus 3 needs roughly 1-2 bytes per sample; the presets keep retention days
    and volume size in proportion (a full volume stops ingestion)."""
    eks = load_preset(preset).eks
    assert eks.prometheus_storage_gb >= 2 * eks.prometheus_retention_days
