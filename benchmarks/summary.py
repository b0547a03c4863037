"""The one summary line of ``make bench``: every figure, or why it was not reported."""

from __future__ import annotations

from dataclasses import dataclass

from load import Load


@dataclass(frozen=True)
class Figure:
    """One figure of the summary, e.g. ``name="batch100", value="12.0x rps"``.

    ``load`` is the machine load while a time-dependent figure was measured (``None`` for
    figures the CPU does not change: memory, verdicts); when it was busy, the figure reads
    ``busy`` instead of a ratio that would only measure the other jobs. ``steady`` is a part
    that holds under load (``1.1x memory`` beside ``9.8x time``). ``unmeasured`` says why a
    figure could not be measured at all."""

    name: str
    value: str = ""
    load: Load | None = None
    steady: str = ""
    unmeasured: str = ""

    def render(self) -> str:
        if self.unmeasured:
            return f"{self.name} not measured ({self.unmeasured})"
        elif self.load is not None and self.load.busy:
            value = f"busy (others {self.load.others:.1f} cores, steal {self.load.steal:.0%})"
        else:
            value = self.value
        return " ".join(part for part in (self.name, value, self.steady) if part)


def summary_line(groups: list[list[Figure]]) -> str:
    """Figures joined by ``, ``, benchmarks by ``; ``."""
    return "; ".join(", ".join(f.render() for f in group) for group in groups if group)
