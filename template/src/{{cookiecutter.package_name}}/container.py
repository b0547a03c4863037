"""The image's entry point: ``python -m {{ cookiecutter.package_name }}.container <step>``.

SageMaker starts the image as ``docker run IMAGE serve`` (an endpoint) or ``docker run
IMAGE train`` (a training job) and, for a processing job, with the ``ContainerArguments``
the pipeline names (``validate``, ``evaluate``, ``register``, ``batch``); a Kubernetes Job
gives each container the same argument. ``serve`` is the Slipway model server; the others
run one lifecycle step (``steps.py``). A step ends with the local run's exit code (1 gate
refused, 2 bad input, 4 anything else) and leaves ``exit <code>: <why>`` where the engine
reports it (``slipway.jobs.contract``).
"""

from __future__ import annotations

import os
import sys
import traceback

from slipway import gc_policy
from slipway.envvars import ENGINE_ENV
from slipway.jobs import contract
from slipway.lifecycle import GateRejected, LifecycleError
from slipway.lifecycle.formats import load_model_formats_first

EXIT_GATE, EXIT_BAD_INPUT, EXIT_FAILED = 1, 2, 4
PROCESSING_STEPS = (
    contract.VALIDATE,
    contract.EVALUATE,
    contract.REGISTER,
    contract.BATCH,
)


def engine(step: str) -> contract.Engine:
    if os.environ.get(ENGINE_ENV) == "kubernetes":
        return "kubernetes"
    return "sagemaker-training" if step == contract.TRAIN else "sagemaker-processing"


def saves_or_loads_a_model(step: str, layout: contract.Layout) -> bool:
    """Train saves the model, evaluate and batch load one; train and evaluate do nothing
    when validate found nothing changed (a broken ``dataset.json`` is the step's to report)."""
    if step == contract.BATCH:
        return True
    if step not in (contract.TRAIN, contract.EVALUATE):
        return False
    try:
        return layout.validated().get("changed", True) is not False
    except (OSError, ValueError):
        return True


def run_step(step: str, args: list[str]) -> None:
    layout = contract.Layout.from_environment(engine(step))
    if saves_or_loads_a_model(step, layout):
        load_model_formats_first()  # before MLflow: ~1 s less CPU (slipway.lifecycle.formats)

    from slipway.jobs.s3data import DataError

    from {{ cookiecutter.package_name }} import steps
    from {{ cookiecutter.package_name }}.config import load

    try:
        config = load(steps.config_path())
        env = os.environ
        if step == contract.VALIDATE:
            facts = steps.validate(layout, config, env)
            print(f"validate: {facts['message']} (snapshot {facts['uri']})")
        elif step == contract.TRAIN:
            print(f"train: model in {steps.train(layout, config, env)}")
        elif step == contract.EVALUATE:
            print(f"evaluate: {steps.evaluate(layout, config, env)['summary']}")
        elif step == contract.REGISTER:
            options = dict(zip(args[::2], args[1::2], strict=False))
            outcome = steps.register(
                layout, config, env, options.get("--model-data"), options.get("--image")
            )
            layout.report(outcome)  # read by `pipeline run --on aws` (candidate.json)
            print(f"register: {outcome['message']}")
        else:
            print(f"batch: {', '.join(str(p) for p in steps.batch(layout, config, env))}")
    except GateRejected as exc:
        _stop(layout, EXIT_GATE, str(exc))
    except (LifecycleError, DataError) as exc:
        _stop(layout, EXIT_BAD_INPUT, str(exc))
    except Exception as exc:
        traceback.print_exc()
        _stop(layout, EXIT_FAILED, f"{type(exc).__name__}: {exc}")


def _stop(layout: contract.Layout, code: int, why: str) -> None:
    print(f"error: {why}", file=sys.stderr)
    layout.fail(code, why)
    raise SystemExit(code)


def main(argv: list[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    step = args[0] if args else "serve"
    if step == "serve":
        from slipway.serving.entry import main as serve

        return serve(args)
    if step not in (contract.TRAIN, *PROCESSING_STEPS):
        print(
            f"error: step: {step!r} is not serve, train or one of {PROCESSING_STEPS}",
            file=sys.stderr,
        )
        return EXIT_BAD_INPUT
    gc_policy.for_a_job()  # a step runs once and exits; the server above keeps CPython's
    run_step(step, args[1:])
    return 0


if __name__ == "__main__":
    sys.exit(main())
