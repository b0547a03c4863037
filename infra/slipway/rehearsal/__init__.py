"""Rehearsal: start every workload a stack declares the way AWS or Kubernetes starts it.

After ``slipway sandbox apply`` (the program applied to moto), each engine's discoverer
reads the workloads from the stack's own declarations (``RehearsalContext``: the program
run and what emulated AWS holds) and returns ``Workload`` (command, environment, port,
mounts, readiness probe, checks, the role it runs as) or ``NotRehearsed`` (with the
reason). The runner starts each workload once as a process (``process``: network and
mount namespaces where the machine allows them), waits for its readiness probe, sends its
checks, records its AWS requests (``slipway.access.recorder``) and stops it; the report
says, per workload, rehearsed or not and why (``report``). Where a container engine would
be needed, the image's entry point runs as a process and the outcome lists the deviations.

Adding an engine (e.g. Kubernetes Deployments, CronJobs, Jobs; SageMaker training jobs):
write ``discover(ctx) -> list[Workload | NotRehearsed]`` in a module of this package and
add it to ``slipway.rehearsal.stack.DISCOVERERS``. See docs/rehearsal.md.
"""

from slipway.rehearsal.context import RehearsalContext
from slipway.rehearsal.workload import CheckResult, HttpCheck, NotRehearsed, Outcome, Workload

__all__ = ["CheckResult", "HttpCheck", "NotRehearsed", "Outcome", "RehearsalContext", "Workload"]
