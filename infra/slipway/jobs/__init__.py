"""The container contract of the lifecycle steps on the stack's engine (docs/engines.md).

The same project code runs each step in the project's image: a SageMaker processing or
training job, or a container of a Kubernetes Job. ``slipway.jobs.contract`` names the steps
and where each finds its inputs and leaves its outputs on each engine; the SageMaker
pipeline definition (``slipway.aws.pipeline_definition``), the Kubernetes Jobs
(``slipway.eks.training``), the rehearsal and the project's ``steps`` module all read it.
"""
