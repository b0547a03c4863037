"""Run pytest suites in children forked from a warm interpreter.

A baked project's suite spends a third of its time importing mlflow, scikit-learn,
pandas, pandera, pulumi, boto3 and moto. ``WarmPytest`` keeps one helper process
(this file run as a script) that imports those once; each run forks a fresh child
from it, so no state leaks from one run to the next. The child starts its own
session, chdirs into the project, takes the caller's environment and the
``sys.path`` a ``python -m pytest`` started there would have, runs ``pytest.main``
with stdout/stderr on files and exits with its code. The caller gets a
``subprocess.CompletedProcess`` as from ``subprocess.run``; a timeout kills the
child's process group and raises ``subprocess.TimeoutExpired``.

The warm path is only taken when it is equivalent: ``os.fork`` exists, the helper
came up single-threaded, and the caller's environment is the one the helper imported under,
bar ``PYTHONPATH`` and the variables the preload's imports set themselves (scikit-learn's
``KMP_*``: a caller that imported those modules after the helper started has them too).
Otherwise, or when the helper dies, ``run_pytest`` warns why (``PlainRunWarning``, which
tests/matrix.py turns into an error) and runs ``python -m pytest`` in a plain subprocess.
``SLIPWAY_WARM_PYTEST=0`` forces the plain path, without the warning.
"""

from __future__ import annotations

import atexit
import contextlib
import gc
import importlib
import json
import os
import queue
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import warnings
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import IO, Any

PULUMI_AWS_PACKAGES = (
    "appautoscaling", "cloudwatch", "ec2", "ecr", "eks", "iam",
    "kms", "rds", "s3", "sagemaker", "sns",
)  # fmt: skip
PULUMI_KUBERNETES_PACKAGES = (
    "apps", "core", "helm", "meta", "networking", "policy", "rbac", "yaml",
)  # fmt: skip

# Third-party modules the baked suites import, never the project's package nor
# slipway's. pulumi's lazy submodules are touched so they load here, not per run.
PRELOAD = (
    "pytest",
    "yaml",
    "typer",
    "typer.testing",
    "cookiecutter.main",
    "pandas",
    "pandera.pandas",
    "matplotlib.pyplot",
    "sklearn.base",
    "sklearn.ensemble",
    "sklearn.linear_model",
    "sklearn.metrics",
    "sklearn.model_selection",
    "sklearn.pipeline",
    "sklearn.preprocessing",
    # before pulumi: importing skops.io (MLflow's sklearn format) looks every numpy ufunc up
    # in every loaded module, which loads each lazily registered pulumi_aws module
    # (tests/conftest.py, docs/testing.md)
    "skops.io",
    "mlflow",
    "mlflow.tracking",
    "mlflow.sklearn",
    "mlflow.pyfunc",
    "mlflow.server",
    "mlflow.store.tracking.sqlalchemy_store",
    "git",
    "boto3",
    "moto",
    "moto.server",
    "moto.iam",
    "moto.s3",
    "moto.sagemaker",
    "moto.cloudwatch",
    "moto.sts",
    "pulumi",
    "pulumi_random",
    "pulumi_eks",
    *(f"pulumi_aws.{name}" for name in PULUMI_AWS_PACKAGES),
    *(f"pulumi_kubernetes.{name}" for name in PULUMI_KUBERNETES_PACKAGES),
    "sagemaker.mlops.workflow.steps",  # SAGEMAKER_IMPORT_ENV: a SageMaker program's SDK
    "sagemaker.mlops.workflow.pipeline",
    "sagemaker.core.workflow.pipeline_context",
    "sagemaker.core.processing",
)
# The sagemaker SDK builds a boto3 client on import: imported as slipway's pipeline
# definitions import it (slipway.aws.pipeline_definition ``_offline``: a region, no instance
# metadata, as every bake's), with the environment restored and the default boto3 session
# the client made dropped after (a run makes its own, as a cold one does). A copy of
# slipway's ``OFFLINE_ENV`` (the helper imports no slipway module; tests/test_warm_runner.py
# checks they agree).
SAGEMAKER_IMPORT_ENV = {"AWS_EC2_METADATA_DISABLED": "true", "SAGEMAKER_VALIDATE_ROLE": "false"}
SAGEMAKER_IMPORT_REGION = "us-east-1"  # unless AWS_DEFAULT_REGION is set

START_TIMEOUT = 180.0
DISABLE_ENV = "SLIPWAY_WARM_PYTEST"


def plain_run(
    args: Sequence[str], cwd: Path, env: Mapping[str, str], timeout: float
) -> subprocess.CompletedProcess[str]:
    """``python -m pytest ARGS`` in a fresh interpreter: the reference behaviour."""
    return subprocess.run(
        [sys.executable, "-m", "pytest", *args],
        cwd=cwd,
        env=dict(env),
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


# Set per run (the child gets them) but never read at import time.
PER_RUN_ENV = frozenset({"PYTHONPATH", "PYTEST_CURRENT_TEST"})


def _base_env(env: Mapping[str, str]) -> dict[str, str]:
    return {k: v for k, v in env.items() if k not in PER_RUN_ENV}


class WarmPytest:
    """Client of one warm helper process, started on first use."""

    def __init__(self, preload: Sequence[str] = PRELOAD) -> None:
        self.preload = tuple(preload)
        self.broken: str | None = None if hasattr(os, "fork") else "os.fork is unavailable"
        self._proc: subprocess.Popen[str] | None = None
        self._replies: queue.Queue[dict[str, Any] | None] = queue.Queue()
        self._env: dict[str, str] = {}
        # variables the preload's imports set in the helper: the caller's own imports of the
        # same modules set them too, whenever they happen, so they never make a run plain
        self.set_by_imports: frozenset[str] = frozenset()
        self._lock = threading.Lock()
        self._workdir = Path(tempfile.mkdtemp(prefix="warm-pytest-"))
        self.log_path = self._workdir / "helper.log"

    def run(
        self, args: Sequence[str], cwd: Path, env: Mapping[str, str], timeout: float = 600
    ) -> subprocess.CompletedProcess[str]:
        """``python -m pytest ARGS`` in ``cwd`` with ``env``, forked warm when possible."""
        if os.environ.get(DISABLE_ENV) == "0":
            return plain_run(args, cwd, env, timeout)
        with self._lock:
            reason = self._unusable(env)
            if reason is None:
                try:
                    return self._run_warm(list(args), cwd, dict(env), timeout)
                except _HelperDied as died:
                    reason = self._break(str(died))
        message = f"warm pytest not used ({reason}); running a plain subprocess"
        warnings.warn(message, PlainRunWarning, stacklevel=2)
        return plain_run(args, cwd, env, timeout)

    def close(self) -> None:
        """Stop the helper (it also exits by itself when this process goes away).

        Its log is kept when it broke, for the warning that names it.
        """
        if self.broken is None:
            shutil.rmtree(self._workdir, ignore_errors=True)
        proc, self._proc = self._proc, None
        if proc is not None and proc.poll() is None:
            with contextlib.suppress(OSError):
                proc.stdin.close()  # type: ignore[union-attr]
            try:
                proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()

    def _unusable(self, env: Mapping[str, str]) -> str | None:
        if self.broken is None and self._proc is None:
            self._start(_base_env(env))
        if self.broken is not None:
            return self.broken
        differs = sorted(
            k
            for k in {*_base_env(env), *self._env} - self.set_by_imports
            if env.get(k) != self._env.get(k)
        )
        if differs:
            return "the environment differs from the one the helper imported under: " + ", ".join(
                differs
            )
        return None

    def _break(self, reason: str) -> str:
        self.broken = f"{reason}; helper log: {self.log_path}"
        self.close()
        return self.broken

    def _start(self, env: dict[str, str]) -> None:
        self._env = env
        with self.log_path.open("w") as log:
            self._proc = subprocess.Popen(
                [sys.executable, __file__, *self.preload],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=log,
                env=env,
                text=True,
                bufsize=1,
            )
        threading.Thread(target=_pump, args=(self._proc.stdout, self._replies), daemon=True).start()
        atexit.register(self.close)
        try:
            ready = self._reply(START_TIMEOUT)
        except _HelperDied as died:
            self._break(f"helper did not start: {died}")
            return
        if not ready.get("ready"):
            self._break(f"helper not forkable: {ready.get('error')}")
        self.set_by_imports = frozenset(ready.get("set_by_imports", ()))

    def _reply(self, timeout: float) -> dict[str, Any]:
        try:
            reply = self._replies.get(timeout=timeout)
        except queue.Empty:
            raise _NoAnswer(f"no answer within {timeout:.0f} s") from None
        if reply is None:
            raise _HelperDied("helper exited")
        return reply

    def _send(self, request: dict[str, Any]) -> None:
        try:
            self._proc.stdin.write(json.dumps(request) + "\n")  # type: ignore[union-attr]
            self._proc.stdin.flush()  # type: ignore[union-attr]
        except (OSError, ValueError) as error:
            raise _HelperDied(f"cannot write to helper: {error}") from error

    def _run_warm(
        self, args: list[str], cwd: Path, env: dict[str, str], timeout: float
    ) -> subprocess.CompletedProcess[str]:
        run_dir = Path(tempfile.mkdtemp(dir=self._workdir))
        out, err = run_dir / "stdout", run_dir / "stderr"
        try:
            self._send(
                {"args": args, "cwd": str(cwd), "env": env, "stdout": str(out), "stderr": str(err)}
            )
            pid = self._reply(30)["pid"]
            try:
                code = self._reply(timeout)["returncode"]
            except _NoAnswer:
                _kill_group(pid)
                self._reply(30)  # the killed child's status
                raise subprocess.TimeoutExpired(
                    ["pytest", *args], timeout, _read(out), _read(err)
                ) from None
            except _HelperDied:
                _kill_group(pid)  # the helper died under it: rerun it plainly
                raise
            return subprocess.CompletedProcess(["pytest", *args], code, _read(out), _read(err))
        finally:
            shutil.rmtree(run_dir, ignore_errors=True)


class PlainRunWarning(UserWarning):
    """A run that was to fork warm ran as a plain subprocess; the message says why."""


class _HelperDied(RuntimeError):
    """The helper stopped answering: the caller falls back to a plain subprocess."""


class _NoAnswer(_HelperDied):
    """No reply in time: for a running child, its timeout."""


def _pump(stream: IO[str], replies: queue.Queue[dict[str, Any] | None]) -> None:
    for line in stream:
        replies.put(json.loads(line))
    replies.put(None)


def _kill_group(pid: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pid, signal.SIGKILL)


def _read(path: Path) -> str:
    return path.read_text(errors="replace") if path.exists() else ""


_default: WarmPytest | None = None


def run_pytest(
    args: Sequence[str], cwd: Path, env: Mapping[str, str], timeout: float = 600
) -> subprocess.CompletedProcess[str]:
    """``WarmPytest.run`` on this process's shared helper."""
    global _default
    if _default is None:
        _default = WarmPytest()
    return _default.run(args, cwd, env, timeout)


# ---- helper process -------------------------------------------------------------


@contextlib.contextmanager
def _import_environment(name: str) -> Iterator[None]:
    """``SAGEMAKER_IMPORT_ENV`` while the sagemaker SDK imports (see there)."""
    if name.split(".")[0] != "sagemaker":
        yield
        return
    import boto3

    saved, session = dict(os.environ), boto3.DEFAULT_SESSION
    os.environ.update(SAGEMAKER_IMPORT_ENV)
    os.environ.setdefault("AWS_DEFAULT_REGION", SAGEMAKER_IMPORT_REGION)
    try:
        yield
    finally:
        os.environ.clear()
        os.environ.update(saved)
        boto3.DEFAULT_SESSION = session


def _serve(preload: Sequence[str]) -> None:
    control_in = os.fdopen(os.dup(0), "r")
    control_out = os.fdopen(os.dup(1), "w", buffering=1)
    devnull = os.open(os.devnull, os.O_RDWR)
    os.dup2(devnull, 0)
    os.dup2(2, 1)  # stray prints from imports must not corrupt the replies
    script_dir = os.path.dirname(os.path.abspath(__file__))
    base_path = [p for p in sys.path if p != script_dir]
    started = time.monotonic()
    before = dict(os.environ)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for name in preload:
            try:
                with _import_environment(name):
                    module = importlib.import_module(name)
                getattr(module, "__all__", None)  # loads a pulumi _LazyModule
            except ImportError as error:  # the suite will import it itself (or fail to)
                print(f"warm_pytest: not preloaded: {error}", file=sys.stderr)
    # What the preload made lives as long as the helper: out of the collector's sight, a
    # child's collections (pytest ends a session with two full ones) walk only what the run
    # made (about 2 s of CPU per run), and leave the shared pages unwritten.
    gc.freeze()
    threads = [t.name for t in threading.enumerate() if t is not threading.main_thread()]
    if threads:
        # Forking a multi-threaded process can deadlock the child: refuse.
        control_out.write(json.dumps({"ready": False, "error": f"threads {threads}"}) + "\n")
        return
    seconds = round(time.monotonic() - started, 2)
    # what the imports set themselves (mlflow's telemetry session, scikit-learn's KMP_*): a
    # caller that has since imported the same modules has them too
    by_imports = sorted(k for k, v in os.environ.items() if before.get(k) != v)
    control_out.write(
        json.dumps({"ready": True, "seconds": seconds, "set_by_imports": by_imports}) + "\n"
    )
    for line in control_in:
        request = json.loads(line)
        sys.stdout.flush()
        sys.stderr.flush()
        pid = os.fork()
        if pid == 0:
            control_in.close()
            control_out.close()
            _child(request, base_path)  # raises SystemExit: the child never comes back here
        control_out.write(json.dumps({"pid": pid}) + "\n")
        _, status = os.waitpid(pid, 0)
        control_out.write(json.dumps({"returncode": os.waitstatus_to_exitcode(status)}) + "\n")


def _child(request: dict[str, Any], base_path: list[str]) -> None:
    """In the forked child: become ``python -m pytest ARGS`` started in the project."""
    os.setsid()  # its own process group, so a timeout kills whatever it spawned
    for fd, path in ((1, request["stdout"]), (2, request["stderr"])):
        target = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        os.dup2(target, fd)
        os.close(target)
    os.chdir(request["cwd"])
    os.environ.clear()
    os.environ.update(request["env"])
    extra = [p for p in request["env"].get("PYTHONPATH", "").split(os.pathsep) if p]
    sys.path[:] = [os.getcwd(), *extra, *base_path]
    if "numpy" in sys.modules:  # a fresh interpreter seeds numpy's global RNG itself
        sys.modules["numpy"].random.seed()
    import pytest

    args = [*preloaded_plugin_filters(), *request["args"]]
    sys.argv = [os.path.join(os.path.dirname(pytest.__file__), "__main__.py"), *args]

    raise SystemExit(int(pytest.main(args)))


def preloaded_plugin_filters() -> list[str]:
    """``-W`` filters for pytest's warning that it cannot rewrite the asserts of a plugin
    module imported before it started: the preload imported it (anyio, typeguard), a fresh
    ``python -m pytest`` would not have, so the warning is this runner's, never the project's."""
    from importlib.metadata import entry_points

    modules = {ep.value.split(":")[0].split(".")[0] for ep in entry_points(group="pytest11")}
    return [
        f"-Wignore:Module already imported so cannot be rewritten; {name}"
        ":pytest.PytestAssertRewriteWarning"
        for name in sorted(modules)
        if name in sys.modules
    ]


if __name__ == "__main__":
    _serve(sys.argv[1:])
