"""Test helpers of slipway and of every generated project.

* ``slipway.testing.mocks``: ``SlipwayMocks``, the mock provider (ids, ARNs, AWS invokes);
* ``slipway.testing.programs``: run a Pulumi program in-process under those mocks and read
  what it declared (``run_program``, ``run_pulumi``, ``ProgramRun``, policy statements, tags);
* ``slipway.testing.moto_stack``: emulated AWS for deploy tests (moto plus SageMaker
  UpdateEndpoint) and the resources a stack exports (``create_stack``).
* ``slipway.testing.gc_policy``: a pytest plugin, full garbage collections between test
  modules only (a suite's ``pytest_plugins``).

The program-runner names are re-exported here; ``moto_stack`` is imported on its own
(it needs boto3 and moto, which a program test does not).
"""

from slipway.testing.mocks import ACCOUNT_ID, DEFAULT_REGION, SlipwayMocks
from slipway.testing.programs import (
    ProgramRun,
    RecordedResource,
    config_from_stack_file,
    is_taggable,
    iter_policy_statements,
    run_program,
    run_pulumi,
    untagged,
)

__all__ = [
    "ACCOUNT_ID",
    "DEFAULT_REGION",
    "ProgramRun",
    "RecordedResource",
    "SlipwayMocks",
    "config_from_stack_file",
    "is_taggable",
    "iter_policy_statements",
    "run_program",
    "run_pulumi",
    "untagged",
]
