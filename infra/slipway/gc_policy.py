"""Garbage collection in a process that runs one job and exits: a CLI command, a pipeline step.

Such a process imports MLflow, scikit-learn and pandas (~250,000 objects that live until it
exits) and then makes and drops many more. CPython starts a full collection whenever what
survived its two young generations grew by a quarter, and each one walks every object: in a
local ``pipeline run``, 6 full collections took 0.4-0.5 s of its 3.1 s of CPU. A job needs
none of them: the young generations still collect short-lived cycles, and what is left is
freed when the process exits. A long-running process (a model server) keeps CPython's own
thresholds (docs/performance.md).
"""

from __future__ import annotations

import gc

NEVER = 1_000_000
"""Young collections between two automatic full ones: none in the process's lifetime."""


def for_a_job() -> tuple[int, int, int]:
    """No automatic full collections from here on; the two young generations as before.
    Returns the thresholds it replaced."""
    replaced = gc.get_threshold()
    gc.set_threshold(replaced[0], replaced[1], NEVER)
    return replaced
