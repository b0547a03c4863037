"""Every preset's Kubernetes version is in EKS standard support today (AWS's release calendar).

This test starts failing on the day a preset's version enters extended support (billed per
cluster hour): move the presets to a newer version and add its dates to
``slipway.eks.versions`` (docs/eks.md#kubernetes-version).
"""

from __future__ import annotations

import datetime

import pytest
from slipway.eks.versions import CALENDAR_URL, in_standard_support, standard_support_ends
from slipway.presets import load_preset


@pytest.mark.parametrize("preset", ["dev", "staging", "prod"])
def test_preset_kubernetes_version_is_in_standard_support_today(preset: str) -> None:
    version = load_preset(preset).eks.kubernetes_version
    ends = standard_support_ends(version)
    today = datetime.date.today()
    assert in_standard_support(version, today), (
        f"stacks/{preset}.yaml: Kubernetes {version} left EKS standard support on {ends} "
        f"(extended support is billed per cluster hour; see {CALENDAR_URL})"
    )


def test_the_lapse_day_is_extended_support() -> None:
    ends = standard_support_ends("1.35")
    assert in_standard_support("1.35", ends - datetime.timedelta(days=1))
    assert not in_standard_support("1.35", ends)  # billing starts at the beginning of the day
    with pytest.raises(ValueError, match=r"^kubernetes_version: 1\.99 is not in the EKS"):
        standard_support_ends("1.99")
