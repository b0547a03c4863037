"""Kubernetes versions on Amazon EKS and the day their standard support ends.

From AWS's "Amazon EKS Kubernetes release calendar" (EKS User Guide, "Understand the
Kubernetes version lifecycle on EKS"): a minor version is in standard support for 14 months
after its EKS release, then in extended support (billed per cluster hour) for 12 more.
Billing for extended support starts at the beginning of the day in this table. A preset
must name a version in standard support (tests/eks/test_eks_versions.py fails the day it
lapses); add the next version here when AWS publishes its dates, with the source.
"""

from __future__ import annotations

import datetime

CALENDAR_URL = "https://docs.aws.amazon.com/eks/latest/userguide/kubernetes-versions.html"
# version -> end of standard support, as the calendar lists it (docs/eks.md: sources).
STANDARD_SUPPORT_ENDS: dict[str, datetime.date] = {
    "1.31": datetime.date(2025, 11, 26),
    "1.32": datetime.date(2026, 3, 23),
    "1.33": datetime.date(2026, 7, 29),
    "1.34": datetime.date(2026, 12, 2),
    "1.35": datetime.date(2027, 3, 27),
}


def standard_support_ends(version: str) -> datetime.date:
    """The first day ``version`` is billed as extended support."""
    try:
        return STANDARD_SUPPORT_ENDS[version]
    except KeyError:
        raise ValueError(
            f"kubernetes_version: {version} is not in the EKS release calendar table "
            f"(slipway.eks.versions, from {CALENDAR_URL})"
        ) from None


def in_standard_support(version: str, today: datetime.date) -> bool:
    return today < standard_support_ends(version)
