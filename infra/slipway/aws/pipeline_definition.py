"""The SageMaker Pipeline definitions of a stack, built with the ``sagemaker`` SDK (v3).

``training_definition(spec)``: Validate -> Changed? -> Train -> Evaluate -> Gate? ->
Register, or GateRefused (a Fail step whose message is the gate's verdict); unchanged
data, code and config end the run after Validate (nothing trained). ``batch_definition``:
one Score step. Every step runs the project's image (parameter ``ImageUri``, default the
stack's tag) with the training role; its argument names the step (``slipway.jobs.contract``).
Volumes and outputs are encrypted with the project key; inputs and outputs live in the
stack's bucket; the training job takes the preset's instance type, spot setting and limits
and is cached for the preset's days (its input is the content-addressed data snapshot, so
a cache hit means the same data, image and config).

Building a definition makes no AWS call: the SDK would check the role's permissions with
iam:SimulatePrincipalPolicy (``SAGEMAKER_VALIDATE_ROLE`` turns that off; the role is
declared in the same program and may not exist yet), send telemetry (``TelemetryOptOut``)
and, on import, create a boto3 client that resolves credentials (instance metadata is
disabled for the import). The session used here refuses to send any request.

The SDK checks its defaults config against its JSON schema again on every config lookup
(about 70 per stack, two thirds of a SageMaker program run's CPU under mocks, and of
`pulumi preview`'s): ``_check_sdk_config_once`` keeps the SDK's check but runs it once per
distinct config and process (the schema does not change while the process runs). Two more
costs of the SDK are paid once per process instead of per definition: every session here
shares one botocore session (``_offline_session``), whose loader parses the service models'
JSON once, and the steps' check of where their arguments came from reads a method name of
``LocalSagemakerClient`` without building the local-mode session (boto3 session, S3
clients, config files) that the SDK's own ``LocalSagemakerClient()`` builds each time
(``_step_argument_check_without_session``). Together they were about half of a SageMaker
stack's program run under mocks (docs/testing.md, session 5).
"""

from __future__ import annotations

import functools
import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from slipway.environ import environ_changed
from slipway.envvars import (
    DATA_URI_ENV,
    MODEL_PACKAGE_GROUP_ENV,
    PIPELINES_URI_ENV,
    STACK_ENV,
    TRIGGER_ENV,
)
from slipway.jobs import contract
from slipway.names import BUCKET_PREFIXES
from slipway.presets import SageMakerTraining

SDK_CONFIG = {
    "SchemaVersion": "1.0",
    "SageMaker": {"PythonSDK": {"Modules": {"TelemetryOptOut": True}}},
}
IMAGE_PARAMETER, TRIGGER_PARAMETER = contract.IMAGE_PARAMETER, contract.TRIGGER_PARAMETER
CHANGED, GATE, REFUSED = contract.CHANGED, contract.GATE, contract.REFUSED
VALIDATE, TRAIN, EVALUATE, REGISTER, SCORE = (
    contract.SAGEMAKER_STEPS[step]
    for step in (
        contract.VALIDATE,
        contract.TRAIN,
        contract.EVALUATE,
        contract.REGISTER,
        contract.BATCH,
    )
)


# While the SDK is imported and used: no instance-metadata credential lookup, no role check.
OFFLINE_ENV = {"AWS_EC2_METADATA_DISABLED": "true", "SAGEMAKER_VALIDATE_ROLE": "false"}


class DefinitionError(RuntimeError):
    """Building the definition tried to reach AWS (it must be pure)."""


@dataclass(frozen=True)
class PipelineSpec:
    """Everything a stack's pipelines are made of, as plain values."""

    region: str
    training_name: str
    batch_name: str
    image_uri: str
    """Default of the ``ImageUri`` parameter: the project's image in the stack's repository."""
    role_arn: str
    kms_key_arn: str
    bucket: str
    tracking_uri: str
    model_package_group: str
    stack: str
    jobs: SageMakerTraining

    def s3(self, area: str, *parts: Any) -> Any:
        """``s3://<bucket>/<area prefix><parts...>`` (a ``Join`` when a part is a pipeline
        variable, e.g. the execution id)."""
        from sagemaker.core.workflow.functions import Join

        head = f"s3://{self.bucket}/{BUCKET_PREFIXES[area]}".rstrip("/")
        if all(isinstance(p, str) for p in parts):
            return "/".join([head, *parts])
        return Join(on="/", values=[head, *parts])

    @property
    def environment(self) -> dict[str, str]:
        """What every step's container gets: where the stack's data, MLflow and registry are."""
        return {
            "AWS_DEFAULT_REGION": self.region,
            "MLFLOW_TRACKING_URI": self.tracking_uri,
            STACK_ENV: self.stack,
            DATA_URI_ENV: f"s3://{self.bucket}/{BUCKET_PREFIXES['data']}",
            PIPELINES_URI_ENV: f"s3://{self.bucket}/{BUCKET_PREFIXES['pipelines']}",
            MODEL_PACKAGE_GROUP_ENV: self.model_package_group,
        }


def training_definition(spec: PipelineSpec) -> str:
    """The training pipeline's definition JSON."""
    with _sdk(spec) as sdk:
        return sdk.training()


def batch_definition(spec: PipelineSpec) -> str:
    """The batch scoring pipeline's definition JSON."""
    with _sdk(spec) as sdk:
        return sdk.batch()


@contextmanager
def _sdk(spec: PipelineSpec) -> Iterator[_Builder]:
    with _offline(spec.region), _step_argument_check_without_session():
        yield _Builder(spec)


@contextmanager
def _offline(region: str) -> Iterator[None]:
    """Import and use the SDK without reaching AWS (see the module docstring)."""
    with environ_changed(set_=OFFLINE_ENV, default={"AWS_DEFAULT_REGION": region}):
        yield


def _refuse(**kwargs: Any) -> None:
    raise DefinitionError(
        f"the pipeline definition must not call AWS ({kwargs.get('event_name', 'a request')})"
    )


@functools.cache
def _offline_session(region: str) -> Any:
    """A boto3 session that refuses to send any request, one per region and process: its
    botocore session's loader keeps the service models it parsed, and it makes each client
    once (every SDK Session makes five: SageMaker, its runtimes and metrics, S3)."""
    import boto3

    class Offline(boto3.Session):
        def __init__(self, **kwargs: Any) -> None:
            super().__init__(**kwargs)
            self.clients: dict[str, Any] = {}

        def client(self, *args: Any, **kwargs: Any) -> Any:
            key = json.dumps([args, kwargs], sort_keys=True, default=_options)
            if key not in self.clients:
                self.clients[key] = super().client(*args, **kwargs)
            return self.clients[key]

    boto = Offline(region_name=region, aws_access_key_id="unused", aws_secret_access_key="unused")
    boto.events.register("before-send", _refuse)
    return boto


def _options(value: Any) -> Any:
    """A botocore ``Config`` by the options it was given (others by their type and id)."""
    given = getattr(value, "_user_provided_options", None)
    return given if given is not None else f"{type(value).__name__}@{id(value)}"


@contextmanager
def _step_argument_check_without_session() -> Iterator[None]:
    """While building: the SDK's steps check ``step_args.caller_name`` against
    ``LocalSagemakerClient().create_processing_job.__name__`` (and the transform job's);
    a subclass that skips ``__init__`` has the same method names and builds no local-mode
    session. The steps module is left as it was found."""
    from sagemaker.mlops.workflow import steps

    original = getattr(steps, "LocalSagemakerClient", None)
    if original is None:  # a later SDK that no longer does this
        yield
        return

    class NameOnly(original):  # type: ignore[misc,valid-type]
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            """No session: only the method names are read."""

    steps.LocalSagemakerClient = NameOnly
    try:
        yield
    finally:
        steps.LocalSagemakerClient = original


def _check_sdk_config_once() -> None:
    """Wrap the SDK's two config checks (``SageMakerConfig.validate_sagemaker_config``, a
    static method called by every ``get_sagemaker_config_value``, and the function a
    ``Session`` calls on its ``sagemaker_config``) so that a config one accepted once is not
    checked again; a config it refuses is refused every time, with the SDK's own error."""
    from sagemaker.core.config.config_manager import SageMakerConfig
    from sagemaker.core.helper import session_helper

    SageMakerConfig.validate_sagemaker_config = staticmethod(  # type: ignore[method-assign,assignment]
        _once(SageMakerConfig.validate_sagemaker_config)
    )
    session_helper.validate_sagemaker_config = _once(session_helper.validate_sagemaker_config)


def _once(check: Callable[..., None]) -> Callable[..., None]:
    """``check`` run once per distinct accepted config (kept as is when already wrapped)."""
    if getattr(check, "slipway_once", False):
        return check
    accepted: set[str] = set()

    def validate_once(sagemaker_config: dict[str, Any] | None = None) -> None:
        key = json.dumps(sagemaker_config, sort_keys=True, default=repr)
        if key not in accepted:
            check(sagemaker_config)
            accepted.add(key)

    validate_once.slipway_once = True  # type: ignore[attr-defined]
    return validate_once


class _Builder:
    """SDK objects of one stack's pipelines."""

    def __init__(self, spec: PipelineSpec) -> None:
        import logging
        import warnings

        from sagemaker.core.workflow.parameters import ParameterString
        from sagemaker.core.workflow.pipeline_context import PipelineSession

        # The SDK logs every field it fills in and warns that a PipelineSession starts no job.
        for logger in ("sagemaker", "sagemaker.config"):
            logging.getLogger(logger).setLevel(logging.ERROR)
        warnings.filterwarnings("ignore", "Running within a PipelineSession", UserWarning)
        boto = _offline_session(spec.region)
        _check_sdk_config_once()
        self.spec = spec
        self.session = PipelineSession(
            boto_session=boto, default_bucket=spec.bucket, sagemaker_config=SDK_CONFIG
        )
        self.image = ParameterString(IMAGE_PARAMETER, default_value=spec.image_uri)
        self.trigger = ParameterString(TRIGGER_PARAMETER, default_value="manual")

    def _processor(self, instance_type: str) -> Any:
        from sagemaker.core.processing import Processor

        spec = self.spec
        return Processor(
            role=spec.role_arn,
            image_uri=self.image,
            instance_count=1,
            instance_type=instance_type,
            volume_size_in_gb=spec.jobs.volume_gb,
            volume_kms_key=spec.kms_key_arn,
            output_kms_key=spec.kms_key_arn,
            max_runtime_in_seconds=spec.jobs.max_run_minutes * 60,
            env={**spec.environment, TRIGGER_ENV: self.trigger},
            sagemaker_session=self.session,
        )

    @staticmethod
    def _input(name: str, uri: Any) -> Any:
        from sagemaker.core.shapes import ProcessingInput, ProcessingS3Input

        return ProcessingInput(
            input_name=name,
            s3_input=ProcessingS3Input(
                s3_uri=uri,
                local_path=contract.processing_input(name),
                s3_data_type="S3Prefix",
                s3_input_mode="File",
            ),
        )

    @staticmethod
    def _output(name: str, uri: Any) -> Any:
        from sagemaker.core.shapes import ProcessingOutput, ProcessingS3Output

        return ProcessingOutput(
            output_name=name,
            s3_output=ProcessingS3Output(
                s3_uri=uri, local_path=contract.processing_output(name), s3_upload_mode="EndOfJob"
            ),
        )

    @staticmethod
    def _execution() -> Any:
        from sagemaker.core.workflow.execution_variables import ExecutionVariables

        return ExecutionVariables.PIPELINE_EXECUTION_ID

    def _pipeline(self, name: str, steps: list[Any]) -> str:
        from sagemaker.mlops.workflow.pipeline import Pipeline

        pipeline = Pipeline(
            name=name,
            parameters=[self.image, self.trigger],
            steps=steps,
            sagemaker_session=self.session,
            pipeline_experiment_config=None,  # no SageMaker Experiments: runs go to MLflow
        )
        # Canonical JSON: the same spec always gives the same text (no spurious diff).
        return json.dumps(json.loads(pipeline.definition()), sort_keys=True, indent=1)

    def training(self) -> str:
        from sagemaker.core.workflow.conditions import ConditionEquals
        from sagemaker.core.workflow.functions import JsonGet
        from sagemaker.core.workflow.properties import PropertyFile
        from sagemaker.mlops.workflow.condition_step import ConditionStep
        from sagemaker.mlops.workflow.fail_step import FailStep
        from sagemaker.mlops.workflow.steps import CacheConfig, ProcessingStep, TrainingStep

        spec, jobs = self.spec, self.spec.jobs
        small = jobs.processing_instance_type
        dataset_file = PropertyFile(
            name="Dataset", output_name=contract.DATASET, path=contract.DATASET_FILE
        )
        validate = ProcessingStep(
            VALIDATE,
            step_args=self._processor(small).run(
                outputs=[
                    self._output(
                        contract.DATASET, spec.s3("pipelines", self._execution(), "dataset")
                    )
                ],
                arguments=[contract.VALIDATE],
            ),
            property_files=[dataset_file],
        )
        snapshot = JsonGet(step_name=VALIDATE, property_file=dataset_file, json_path="uri")
        train = TrainingStep(
            TRAIN,
            step_args=self._trainer().train(input_data_config=[self._channel(snapshot)]),
            cache_config=CacheConfig(enable_caching=True, expire_after=f"P{jobs.cache_days}D"),
        )
        model_data = train.properties.ModelArtifacts.S3ModelArtifacts
        verdict_file = PropertyFile(
            name="Verdict", output_name=contract.EVALUATION, path=contract.VERDICT_FILE
        )
        evaluate = ProcessingStep(
            EVALUATE,
            step_args=self._processor(small).run(
                inputs=[
                    self._input(contract.MODEL, model_data),
                    self._input(contract.DATASET, snapshot),
                ],
                outputs=[
                    self._output(
                        contract.EVALUATION, spec.s3("pipelines", self._execution(), "evaluation")
                    )
                ],
                arguments=[contract.EVALUATE],
            ),
            property_files=[verdict_file],
        )
        evaluation_uri = evaluate.properties.ProcessingOutputConfig.Outputs[
            contract.EVALUATION
        ].S3Output.S3Uri
        register = ProcessingStep(
            REGISTER,
            step_args=self._processor(small).run(
                inputs=[self._input(contract.EVALUATION, evaluation_uri)],
                arguments=[contract.REGISTER, "--model-data", model_data, "--image", self.image],
            ),
        )
        refused = FailStep(
            REFUSED,
            error_message=JsonGet(
                step_name=EVALUATE, property_file=verdict_file, json_path="summary"
            ),
        )
        gate = ConditionStep(
            GATE,
            conditions=[
                ConditionEquals(
                    left=JsonGet(
                        step_name=EVALUATE, property_file=verdict_file, json_path="passed"
                    ),
                    right=True,
                )
            ],
            if_steps=[register],
            else_steps=[refused],
        )
        changed = ConditionStep(
            CHANGED,
            conditions=[
                ConditionEquals(
                    left=JsonGet(
                        step_name=VALIDATE, property_file=dataset_file, json_path="changed"
                    ),
                    right=True,
                )
            ],
            if_steps=[train, evaluate, gate],
            else_steps=[],
        )
        return self._pipeline(spec.training_name, [validate, changed])

    def _trainer(self) -> Any:
        from sagemaker.train.configs import Compute, OutputDataConfig, StoppingCondition
        from sagemaker.train.model_trainer import ModelTrainer

        spec, jobs = self.spec, self.spec.jobs
        stopping = {"max_runtime_in_seconds": jobs.max_run_minutes * 60}
        if jobs.spot:
            stopping["max_wait_time_in_seconds"] = jobs.max_wait_minutes * 60
        return ModelTrainer(
            training_image=self.image,
            role=spec.role_arn,
            compute=Compute(
                instance_type=jobs.instance_type,
                instance_count=1,
                volume_size_in_gb=jobs.volume_gb,
                volume_kms_key_id=spec.kms_key_arn,
                enable_managed_spot_training=jobs.spot,
            ),
            stopping_condition=StoppingCondition(**stopping),
            output_data_config=OutputDataConfig(
                s3_output_path=spec.s3("models", "training"), kms_key_id=spec.kms_key_arn
            ),
            environment=spec.environment,
            base_job_name="train",
            sagemaker_session=self.session,
        )

    @staticmethod
    def _channel(uri: Any) -> Any:
        from sagemaker.train.configs import InputData

        return InputData(channel_name=contract.DATASET, data_source=uri)

    def batch(self) -> str:
        from sagemaker.mlops.workflow.steps import ProcessingStep

        spec = self.spec
        score = ProcessingStep(
            SCORE,
            step_args=self._processor(spec.jobs.batch_instance_type).run(
                inputs=[self._input(contract.BATCH_INPUT, spec.s3("batch", "input"))],
                outputs=[
                    self._output(
                        contract.PREDICTIONS, spec.s3("batch", "predictions", self._execution())
                    )
                ],
                arguments=[contract.BATCH],
            ),
        )
        return self._pipeline(spec.batch_name, [score])
