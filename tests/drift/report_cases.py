"""Drift results for the report tests: drifted and steady, continuous, discrete, categorical."""

from __future__ import annotations

import numpy as np
import pandas as pd
from slipway.drift import DriftResult, build_profile, detect_drift


def mixed_result(seed: int = 5, rows: int = 4000) -> tuple[pd.DataFrame, pd.DataFrame, DriftResult]:
    """Reference and current frames and their drift result (``rows`` reference rows)."""
    rng = np.random.default_rng(seed)
    reference = pd.DataFrame(
        {
            "steady": rng.normal(10, 2, rows),
            "shifted": rng.normal(0, 1, rows),
            "count": rng.poisson(3, rows),
            "plan": rng.choice(["basic", "pro", "team"], rows, p=[0.6, 0.3, 0.1]),
        }
    )
    current = pd.DataFrame(
        {
            "steady": rng.normal(10, 2, 3000),
            "shifted": rng.normal(0.6, 1.3, 3000),
            "count": rng.poisson(3, 3000),
            "plan": rng.choice(["basic", "pro", "team", "gold"], 3000, p=[0.4, 0.3, 0.2, 0.1]),
        }
    )
    profile = build_profile(reference, categorical=["plan"])
    return reference, current, detect_drift(profile, current)
