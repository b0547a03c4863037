"""Progress of long lifecycle steps, shown with rich."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager

from rich.console import Console
from rich.progress import BarColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn


class StepProgress:
    """One bar over a fixed list of steps; ``with progress.step(name):`` per step, each
    reported as ``done <name> (<seconds> s)``."""

    def __init__(self, total: int, console: Console | None = None) -> None:
        self._progress = Progress(
            SpinnerColumn(),
            TextColumn("[bold]{task.description}"),
            BarColumn(),
            TextColumn("{task.completed}/{task.total}"),
            TimeElapsedColumn(),
            console=console or Console(stderr=True),
            transient=False,
        )
        self._task = self._progress.add_task("pipeline", total=total)

    def __enter__(self) -> StepProgress:
        self._progress.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._progress.stop()

    @contextmanager
    def step(self, name: str) -> Iterator[None]:
        self._progress.update(self._task, description=name)
        start = time.perf_counter()
        yield
        seconds = time.perf_counter() - start
        self._progress.console.print(f"[green]done[/green] {name} ({seconds:.1f} s)")
        self._progress.advance(self._task)
