"""Stack presets load through one typed loader; a bad value names file, key and rule."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest
import yaml
from slipway.presets import PRESET_NAMES, PresetError, load_preset
from slipway.resources import stacks_dir


@pytest.mark.parametrize("name", PRESET_NAMES)
def test_shipped_presets_load(name: str) -> None:
    preset = load_preset(name)
    assert preset.name == name
    assert preset.sagemaker.autoscaling.min_capacity <= preset.sagemaker.autoscaling.max_capacity


def test_presets_grow_stricter_towards_prod() -> None:
    dev, staging, prod = (load_preset(n) for n in PRESET_NAMES)
    assert not dev.deletion_protection and prod.deletion_protection
    assert not dev.access_logging and staging.access_logging and prod.access_logging
    assert (
        dev.retention.capture_days <= staging.retention.capture_days <= prod.retention.capture_days
    )
    assert prod.eks.nat_gateways == "per_az" and dev.eks.nat_gateways == "one"
    assert prod.sagemaker.autoscaling.min_capacity >= 2


def _set(data: dict[str, Any], dotted: str, value: Any) -> None:
    *parents, leaf = dotted.split(".")
    for key in parents:
        data = data[key]
    if value is _DELETE:
        del data[leaf]
    else:
        data[leaf] = value


_DELETE = object()
BAD_VALUES = [
    (
        "sagemaker.autoscaling.max_capacity",
        0,
        "sagemaker.autoscaling.max_capacity",
        "greater than or equal to 1",
    ),
    (
        "sagemaker.autoscaling.min_capacity",
        5,
        "sagemaker.autoscaling",
        "max_capacity (2) must be >= min_capacity (5)",
    ),
    ("sagemaker.serverless.memory_size_mb", 1500, "sagemaker.serverless.memory_size_mb", "1024"),
    (
        "sagemaker.data_capture_sampling_percent",
        101,
        "sagemaker.data_capture_sampling_percent",
        "less than or equal to 100",
    ),
    ("sagemaker.instance_type", "m5.large", "sagemaker.instance_type", "pattern"),
    (
        "sagemaker.instance_type",
        "ml.p4d.24xlarge",
        "sagemaker",
        "instance_type: ml.p4d.24xlarge is not in allowed_instance_types",
    ),
    (
        "sagemaker.monitoring_instance_type",
        "ml.m5.24xlarge",
        "sagemaker",
        "monitoring_instance_type: ml.m5.24xlarge is not in allowed_instance_types",
    ),
    (
        "eks.database_instance_class",
        "db.r6g.16xlarge",
        "eks",
        "database_instance_class: db.r6g.16xlarge is not in allowed_instance_types",
    ),
    (
        "eks.node_group.instance_types",
        ["p4d.24xlarge"],
        "eks",
        "node_group.instance_types[0]: p4d.24xlarge is not in allowed_instance_types",
    ),
    ("eks.allowed_instance_types", [], "eks.allowed_instance_types", "at least 1 item"),
    ("retention.capture_days", 0, "retention.capture_days", "greater than or equal to 1"),
    ("retention.log_days", 10, "retention.log_days", "Input should be"),
    ("deletion_protection", "maybe", "deletion_protection", "boolean"),
    ("eks.nat_gateways", "two", "eks.nat_gateways", "'one' or 'per_az'"),
    ("eks.node_group.desired_size", 9, "eks.node_group", "min_size <= desired_size <= max_size"),
    ("alarms.period_seconds", 30, "alarms.period_seconds", "Input should be"),
    ("alarms.surprise", 1, "alarms.surprise", "unknown key"),
    ("alarms.latency_p99_ms", _DELETE, "alarms.latency_p99_ms", "required key is missing"),
    # AWS: a canary is at most 50% of the variant's instances; dev has one instance
    ("sagemaker.deployment.traffic", "canary", "sagemaker.deployment", "canary_percent"),
    (
        "sagemaker.deployment",
        {"traffic": "canary", "canary_percent": 10, "bake_seconds": 60},
        "sagemaker",
        "a 10% canary does not fit a 1-instance fleet",
    ),
    ("sagemaker.deployment.bake_seconds", 3601, "sagemaker.deployment.bake_seconds", "3600"),
]


@pytest.mark.parametrize(
    ("key", "value", "named", "rule"), BAD_VALUES, ids=[b[0] for b in BAD_VALUES]
)
def test_bad_preset_value_names_file_key_and_rule(
    tmp_path: Path, key: str, value: Any, named: str, rule: str
) -> None:
    data = copy.deepcopy(yaml.safe_load((stacks_dir() / "dev.yaml").read_text()))
    _set(data, key, value)
    path = tmp_path / "dev.yaml"
    path.write_text(yaml.safe_dump(data))
    with pytest.raises(PresetError) as info:
        load_preset(path)
    message = str(info.value)
    assert message.startswith(f"{path}: {named}: "), message
    assert rule in message, message
    assert "\n" not in message


def test_unknown_preset_and_broken_yaml(tmp_path: Path) -> None:
    with pytest.raises(PresetError, match=r"no such preset .known: dev, prod, staging"):
        load_preset("qa")
    broken = tmp_path / "broken.yaml"
    broken.write_text("name: [unclosed\n")
    with pytest.raises(PresetError, match="not valid YAML"):
        load_preset(broken)
    scalar = tmp_path / "scalar.yaml"
    scalar.write_text("just a string\n")
    with pytest.raises(PresetError, match="must be a mapping"):
        load_preset(scalar)


def test_a_preset_is_parsed_once_per_text_and_read_again_when_edited(tmp_path: Path) -> None:
    """Program runs read each stack's preset several times: one parse per file text, and an
    edited file (a fork changing its presets, a test writing one) is never served stale."""
    path = tmp_path / "dev.yaml"
    path.write_text((stacks_dir() / "dev.yaml").read_text())
    first = load_preset(path)
    assert load_preset(path) is first
    data = yaml.safe_load(path.read_text())
    data["deletion_protection"] = not first.deletion_protection
    path.write_text(yaml.safe_dump(data))
    assert load_preset(path).deletion_protection is not first.deletion_protection
