"""A generated project's local ``pipeline run`` on its bundled data: wall time, and where it goes.

Bakes a project with the defaults (``slipway new --no-input``), then runs its CLI the way the
end-to-end tests do (this venv, ``PYTHONPATH=src``): ``--help`` (the start-up cost of every
command) and one ``pipeline run`` on a fresh project (ingest, train, evaluate + gate,
register, promote, batch predict, monitor), each a process of its own, with its CPU time
beside its wall time (the CPU figure holds on a busy machine). A first, untimed run on another
fresh bake under ``python -X importtime`` attributes import time to top-level packages and
fills the bytecode cache.
"""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
import tempfile
from collections import Counter
from pathlib import Path

from load import watch
from measure import measure, program_env
from summary import Figure

PROJECT = "bench-project"
PACKAGE = PROJECT.replace("-", "_")
GOAL_SECONDS = 10.0


def add_arguments(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("pipeline")
    group.add_argument("--help-runs", type=int, default=3, help="`--help` runs (median)")


def bake(out: Path) -> Path:
    slipway = Path(sys.executable).with_name("slipway")
    cmd = [str(slipway), "new", "--no-input", "--output-dir", str(out), f"project_name={PROJECT}"]
    subprocess.run(cmd, check=True, capture_output=True)
    return out / PROJECT


def project_env() -> dict[str, str]:
    env = {k: v for k, v in program_env().items() if not k.startswith("MLFLOW_")}
    return {**env, "PYTHONPATH": "src", "PYTHONWARNINGS": "ignore"}


def cli(*args: str) -> list[str]:
    return [sys.executable, *args, "-m", PACKAGE]


def import_breakdown(stderr: str) -> Counter[str]:
    """Seconds of import per top-level package from ``-X importtime`` output (self times)."""
    seconds: Counter[str] = Counter()
    for line in stderr.splitlines():
        if not line.startswith("import time:") or "|" not in line:
            continue
        own, _, name = line.removeprefix("import time:").split("|")
        if own.strip().isdigit():
            seconds[name.strip().split(".")[0]] += int(own) / 1e6
    return seconds


def step_seconds(stderr: str) -> dict[str, float]:
    """The pipeline's own step timings (``done <step> (<seconds> s)`` lines)."""
    return {m[1]: float(m[2]) for m in re.finditer(r"^done (.+) \(([\d.]+) s\)$", stderr, re.M)}


def in_project(cmd: list[str], cwd: Path) -> subprocess.CompletedProcess[str]:
    """Run ``cmd`` in the project directory (the CLI finds its config there)."""
    done = subprocess.run(cmd, cwd=cwd, env=project_env(), capture_output=True, text=True)
    if done.returncode:
        raise SystemExit(
            f"error: {' '.join(cmd[-3:])}: exited with {done.returncode}\n" + done.stderr[-2000:]
        )
    return done


def run(args: argparse.Namespace) -> list[Figure]:
    with tempfile.TemporaryDirectory(prefix="slipway-pipeline-bench-") as tmp:
        first, second = bake(Path(tmp) / "a"), bake(Path(tmp) / "b")
        # First, untimed: the import-time breakdown, which also fills the bytecode cache of
        # every module the timed run imports (measure.program_env).
        traced = in_project([*cli("-X", "importtime"), "pipeline", "run"], second)
        with watch("pipeline") as quiet:
            helps = sorted(
                measure([*cli(), "--help"], project_env(), first).seconds
                for _ in range(args.help_runs)
            )
            pipeline = measure([*cli(), "pipeline", "run"], project_env(), first)
    imports = import_breakdown(traced.stderr)
    top = ", ".join(f"{name} {sec:.2f}" for name, sec in imports.most_common(8))
    print(f"project --help: {helps[len(helps) // 2]:.2f} s (median of {len(helps)})")
    steps = step_seconds(pipeline.stderr)
    print(
        f"pipeline run: {pipeline.seconds:.1f} s (goal {GOAL_SECONDS:.0f} s), "
        f"{pipeline.cpu_seconds:.1f} s of CPU, peak RSS {pipeline.peak_mib:.0f} MiB; "
        f"steps {sum(steps.values()):.1f} s ("
        + ", ".join(f"{name} {sec:.1f}" for name, sec in steps.items())
        + "), the rest start-up and imports"
    )
    print(f"imports under -X importtime: {sum(imports.values()):.1f} s in all; by package: {top}")
    cpu = f"cpu {pipeline.cpu_seconds:.1f} s"
    return [Figure("pipeline", f"{pipeline.seconds:.1f} s", quiet.load, cpu)]


if __name__ == "__main__":
    from summary import summary_line

    cli_parser = argparse.ArgumentParser(description=__doc__)
    add_arguments(cli_parser)
    print(summary_line([run(cli_parser.parse_args())]))
