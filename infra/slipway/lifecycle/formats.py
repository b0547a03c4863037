"""Import the model formats before anything else in a process that saves or loads a model.

skops (MLflow's scikit-learn format here) looks every numpy ufunc up in every loaded module
when it is imported (``skops.io._trusted_types``): after MLflow, scikit-learn and SciPy that
lookup costs ~1 s of CPU more than as the process's first import, and once a Pulumi program
ran (``pulumi_aws`` registers thousands of lazy modules) it loads each of them (8.9 s instead
of 1.6 s). docs/testing.md (issue 17) has the measurements.
"""

from __future__ import annotations

import contextlib


def load_model_formats_first() -> None:
    """Import skops.io now, ideally before MLflow; a no-op without scikit-learn's flavor."""
    with contextlib.suppress(ImportError):  # without scikit-learn's flavor: nothing to load
        import skops.io  # noqa: F401
