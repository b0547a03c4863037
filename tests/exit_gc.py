"""One garbage collection at pytest's exit instead of two (a pytest plugin).

pytest collects garbage at exit so that finalizers' exceptions in cyclic garbage are reported
(PytestUnraisableExceptionWarning): in its ``pytest_unconfigure``, then again in a config
cleanup. On CPython one pass frees every cycle (pytest's own comment); each pass walks the
whole heap: ~1.5 s of CPU in an xdist worker of this suite. After pytest's own pass, this
sets the cleanup's pass count to 0; tests/test_exit_gc.py checks the report stays.
"""

from __future__ import annotations

import pytest
from _pytest.unraisableexception import gc_collect_iterations_key


@pytest.hookimpl(trylast=True)  # after pytest's unraisableexception plugin has collected
def pytest_unconfigure(config: pytest.Config) -> None:
    config.stash[gc_collect_iterations_key] = 0
