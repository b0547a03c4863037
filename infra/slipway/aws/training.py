"""TrainingPipelines: the stack's SageMaker Pipelines, their schedule and their retrain trigger.

* a training pipeline (validate -> train -> evaluate + gate -> register) and a batch
  scoring pipeline, declared as ``aws.sagemaker.Pipeline`` with the definition the
  ``sagemaker`` SDK builds (``slipway.aws.pipeline_definition``): a change of image, size,
  role or key is a change of the definition, which ``pulumi preview`` shows;
* what the training role needs to run them: SageMaker Pipelines starts the steps' jobs as
  that role (``RoleArn``) and passes it to them; the steps read data, write models,
  snapshots, evaluations and predictions, register model packages in the stack's group and
  call the stack's MLflow;
* with a schedule in the preset, an EventBridge rule that starts the training pipeline on
  it; with alarms to retrain on (drift, model quality), a rule that starts it when one of
  them goes to ALARM. Both act through one role that may only ``StartPipelineExecution``
  on this training pipeline (EventBridge User Guide, "Amazon SageMaker AI pipeline"
  targets: the role needs sagemaker:StartPipelineExecution).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_aws as aws

from slipway.aws import policy
from slipway.aws.boundary import PIPELINE_JOBS
from slipway.aws.context import StackContext
from slipway.aws.deploy_policy import EVENTS
from slipway.aws.pipeline_definition import (
    TRIGGER_PARAMETER,
    PipelineSpec,
    batch_definition,
    training_definition,
)
from slipway.aws.roles import no_approval
from slipway.aws.service_role import role_with_policy
from slipway.names import BATCH_PIPELINE, TRAINING_PIPELINE

ALARM_STATE_CHANGE = "CloudWatch Alarm State Change"


@dataclass(frozen=True)
class TrainingPipelinesArgs:
    context: StackContext
    """The stack: names, tags and the preset every default comes from."""
    image_uri: pulumi.Input[str]
    """The project's image (stack repository and ``modelImageTag``): the ``ImageUri``
    parameter's default; ``pipeline run --on aws --image-tag`` overrides it per run."""
    role_arn: pulumi.Input[str]
    """``Roles.training_role_arn``: the pipelines and every step run as it."""
    bucket_name: pulumi.Input[str]
    """``ArtifactStore.bucket_name``: data, snapshots, models, predictions."""
    bucket_arn: pulumi.Input[str]
    """``ArtifactStore.bucket_arn``: the prefixes the steps read and write
    (``policy.step_bucket_statements``)."""
    kms_key_arn: pulumi.Input[str]
    """Project key: volumes and outputs of every job."""
    tracking_uri: pulumi.Input[str]
    """The stack's MLflow (``Tracking.tracking_uri``): evaluate and register talk to it."""
    model_package_group_name: pulumi.Input[str]
    """``Registry.group_name``: register adds each version as a model package here."""
    model_package_group_arn: pulumi.Input[str]
    """``Registry.group_arn``: the group (and its packages) the register step may write."""
    retrain_alarm_arns: Sequence[pulumi.Input[str]] = ()
    """Default none. Alarms whose ALARM state starts the training pipeline (drift, quality)."""
    starter_role_arn: pulumi.Input[str] | None = None
    """Default ``None``. ``Roles.candidate_role_arn``: release.yml's job `candidate` starts
    and follows the pipelines (``pipeline run --on aws``, ``batch --on aws``) and nothing
    else of them (``starter_statements``)."""


class TrainingPipelines(pulumi.ComponentResource):
    """Outputs: training_pipeline_name/arn, batch_pipeline_name/arn, trigger_role_arn."""

    training_pipeline_name: pulumi.Output[str]
    training_pipeline_arn: pulumi.Output[str]
    batch_pipeline_name: pulumi.Output[str]
    batch_pipeline_arn: pulumi.Output[str]
    trigger_role_arn: pulumi.Output[str] | None

    def __init__(
        self, name: str, args: TrainingPipelinesArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("slipway:aws:TrainingPipelines", name, None, opts)
        ctx = args.context
        child = pulumi.ResourceOptions(parent=self)
        invoke = pulumi.InvokeOutputOptions(parent=self)
        account = aws.get_caller_identity_output(opts=invoke).account_id
        region = aws.get_region_output(opts=invoke).region
        partition = aws.get_partition_output(opts=invoke).partition
        spec = pulumi.Output.all(
            region,
            args.image_uri,
            args.role_arn,
            args.kms_key_arn,
            args.bucket_name,
            args.tracking_uri,
            args.model_package_group_name,
        ).apply(lambda values: _spec(ctx, *values))
        pipelines = {}
        for kind, pipeline_name, build in (
            ("training", TRAINING_PIPELINE, training_definition),
            ("batch", BATCH_PIPELINE, batch_definition),
        ):
            physical = pipeline_name.format(prefix=ctx.prefix)
            pipelines[kind] = aws.sagemaker.Pipeline(
                f"{name}-{kind}",
                pipeline_name=physical,
                pipeline_display_name=physical,
                pipeline_description=f"{ctx.prefix}: {kind} (slipway)",
                pipeline_definition=spec.apply(build),
                role_arn=args.role_arn,
                tags=ctx.tags,
                opts=child,
            )
        training = pipelines["training"]

        def arn(resource: str) -> pulumi.Output[str]:
            return pulumi.Output.concat(
                "arn:", partition, ":sagemaker:", region, ":", account, ":", resource
            )

        # SageMaker Pipelines names a step's job pipelines-<execution id>-<step>-<suffix>
        aws.iam.RolePolicy(
            f"{name}-steps",
            role=pulumi.Output.from_input(args.role_arn).apply(lambda a: a.rsplit("/", 1)[-1]),
            policy=policy.document(
                *_step_statements(args, [arn(f"{job}/pipelines-*") for job in PIPELINE_JOBS])
            ),
            opts=child,
        )
        if args.starter_role_arn is not None:
            aws.iam.RolePolicy(
                f"{name}-starter",
                role=pulumi.Output.from_input(args.starter_role_arn).apply(
                    lambda a: a.rsplit("/", 1)[-1]
                ),
                policy=policy.document(
                    *starter_statements(
                        [p.arn for p in pipelines.values()],
                        [arn(f"{job}/pipelines-*") for job in PIPELINE_JOBS],
                    )
                ),
                opts=child,
            )
        self.trigger_role_arn = self._triggers(name, ctx, args, training, account)
        self.training_pipeline_name = training.pipeline_name
        self.training_pipeline_arn = training.arn
        self.batch_pipeline_name = pipelines["batch"].pipeline_name
        self.batch_pipeline_arn = pipelines["batch"].arn
        self.register_outputs(
            {
                "training_pipeline_name": self.training_pipeline_name,
                "training_pipeline_arn": self.training_pipeline_arn,
                "batch_pipeline_name": self.batch_pipeline_name,
                "batch_pipeline_arn": self.batch_pipeline_arn,
                "trigger_role_arn": self.trigger_role_arn,
            }
        )

    def _triggers(
        self,
        name: str,
        ctx: StackContext,
        args: TrainingPipelinesArgs,
        training: aws.sagemaker.Pipeline,
        account: pulumi.Output[str],
    ) -> pulumi.Output[str] | None:
        """The schedule and the alarm rule, through a role that may only start ``training``."""
        schedule = ctx.preset.training.sagemaker.schedule
        rules: list[tuple[str, dict[str, Any]]] = []
        if schedule:
            rules.append(("schedule", {"schedule_expression": schedule}))
        if args.retrain_alarm_arns:
            pattern = pulumi.Output.all(*args.retrain_alarm_arns).apply(alarm_pattern)
            rules.append(("retrain", {"event_pattern": pattern}))
        if not rules:
            return None
        child = pulumi.ResourceOptions(parent=self)
        role = role_with_policy(
            f"{name}-trigger",
            ctx,
            policy.service_trust(EVENTS, account),
            [
                {
                    "Sid": "StartTrainingPipeline",
                    "Effect": "Allow",
                    "Action": ["sagemaker:StartPipelineExecution"],
                    "Resource": training.arn,
                }
            ],
            self,
        )
        for kind, settings in rules:
            rule = aws.cloudwatch.EventRule(
                f"{name}-{kind}",
                description=f"{ctx.prefix}: start the training pipeline ({kind})",
                tags=ctx.tags,
                opts=child,
                **settings,
            )
            aws.cloudwatch.EventTarget(
                f"{name}-{kind}-target",
                rule=rule.name,
                arn=training.arn,
                role_arn=role.arn,
                sagemaker_pipeline_target={
                    "pipeline_parameter_lists": [{"name": TRIGGER_PARAMETER, "value": kind}]
                },
                opts=child,
            )
        return role.arn


def starter_statements(
    pipeline_arns: Sequence[pulumi.Input[str]], job_arns: Sequence[pulumi.Input[str]]
) -> list[dict[str, Any]]:
    """Start a run of the stack's pipelines and follow it to its steps' own messages
    (``slipway.jobs.sagemaker``): no PassRole, as a run acts as the pipeline's own role
    (the CreatePipeline ``RoleArn``), like the EventBridge trigger's role."""
    executions = [pulumi.Output.concat(a, "/execution/*") for a in pipeline_arns]
    return [
        {
            "Sid": "StartOwnPipelines",
            "Effect": "Allow",
            "Action": [
                "sagemaker:StartPipelineExecution",
                "sagemaker:ListPipelineExecutions",
                "sagemaker:DescribePipeline",
            ],
            "Resource": list(pipeline_arns),
        },
        {
            "Sid": "FollowOwnRuns",
            "Effect": "Allow",
            "Action": [
                "sagemaker:DescribePipelineExecution",
                "sagemaker:ListPipelineExecutionSteps",
            ],
            "Resource": executions,
        },
        {
            "Sid": "ReadStepMessages",
            "Effect": "Allow",
            "Action": ["sagemaker:DescribeProcessingJob", "sagemaker:DescribeTrainingJob"],
            "Resource": list(job_arns),
        },
    ]


def alarm_pattern(alarm_arns: Sequence[str]) -> str:
    """EventBridge pattern of these alarms entering ALARM (CloudWatch User Guide, "Alarm
    events and EventBridge": source aws.cloudwatch, the alarm's ARN in ``resources``)."""
    return json.dumps(
        {
            "source": ["aws.cloudwatch"],
            "detail-type": [ALARM_STATE_CHANGE],
            "resources": sorted(alarm_arns),
            "detail": {"state": {"value": ["ALARM"]}},
        },
        sort_keys=True,
    )


def _spec(
    ctx: StackContext,
    region: str,
    image_uri: str,
    role_arn: str,
    kms_key_arn: str,
    bucket: str,
    tracking_uri: str,
    group: str,
) -> PipelineSpec:
    return PipelineSpec(
        region=region,
        training_name=TRAINING_PIPELINE.format(prefix=ctx.prefix),
        batch_name=BATCH_PIPELINE.format(prefix=ctx.prefix),
        image_uri=image_uri,
        role_arn=role_arn,
        kms_key_arn=kms_key_arn,
        bucket=bucket,
        tracking_uri=tracking_uri,
        model_package_group=group,
        stack=ctx.environment,
        jobs=ctx.preset.training.sagemaker,
    )


def _step_statements(
    args: TrainingPipelinesArgs, jobs: list[pulumi.Output[str]]
) -> list[dict[str, Any]]:
    """Run the steps' jobs (as the pipeline), and what the steps do in them."""
    packages = pulumi.Output.from_input(args.model_package_group_arn).apply(
        lambda group: group.replace(":model-package-group/", ":model-package/") + "/*"
    )
    return [
        {
            "Sid": "RunPipelineJobs",
            "Effect": "Allow",
            "Action": [
                "sagemaker:CreateTrainingJob",
                "sagemaker:DescribeTrainingJob",
                "sagemaker:StopTrainingJob",
                "sagemaker:CreateProcessingJob",
                "sagemaker:DescribeProcessingJob",
                "sagemaker:StopProcessingJob",
                "sagemaker:AddTags",
            ],
            "Resource": jobs,
        },
        {
            "Sid": "PassSelfToJobs",
            "Effect": "Allow",
            "Action": ["iam:PassRole"],
            "Resource": args.role_arn,
            "Condition": {"StringEquals": {"iam:PassedToService": "sagemaker.amazonaws.com"}},
        },
        *policy.step_bucket_statements(args.bucket_arn),
        {
            "Sid": "RegisterModelPackages",
            "Effect": "Allow",
            "Action": [
                "sagemaker:CreateModelPackage",
                "sagemaker:DescribeModelPackage",
                "sagemaker:DescribeModelPackageGroup",
                "sagemaker:ListModelPackages",
                "sagemaker:AddTags",
            ],
            "Resource": [args.model_package_group_arn, packages],
        },
        no_approval(args.model_package_group_arn),  # registers; the deploy approves
        {
            "Sid": "UseStackMlflow",
            "Effect": "Allow",
            "Action": [
                "sagemaker:DescribeMlflowApp",
                "sagemaker:CallMlflowAppApi",
                "sagemaker:DescribeMlflowTrackingServer",
                "sagemaker-mlflow:*",
            ],
            "Resource": [args.tracking_uri],
        },
    ]
