"""Drift report: a self-contained HTML page and a JSON summary.

The page needs nothing but itself (inline CSS and SVG, no script, no fetch): it opens the
same from a laptop, an S3 object or a CI artifact. One card per feature, most drifted first
(sorted by the deciding statistic against its threshold): the deciding test and its
threshold in words and as a gauge, reference against current as a histogram drawn from the
profile and the streamed counts (``histogram.py``), the other statistics as context.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from jinja2 import Environment, select_autoescape

from slipway.drift.detect import DriftResult, FeatureDrift
from slipway.drift.histogram import Histogram

HTML_NAME = "drift_report.html"
JSON_NAME = "drift_summary.json"

PLOT_WIDTH, PLOT_HEIGHT = 300, 96
MAX_TICKS = 10  # labelled bars up to this many get a label each
GAUGE_SCALE = 3.0  # the gauge spans 0..3x the threshold; the threshold mark sits at 1/3
TESTS = {
    "wasserstein": ("normalised Wasserstein", ">="),
    "psi": ("PSI", ">="),
    "ks": ("KS p-value", "<"),
    "chi2": ("chi-square p-value", "<"),
}


@dataclass(frozen=True)
class Bar:
    x: float
    y: float
    width: float
    height: float
    tip: str


@dataclass(frozen=True)
class Plot:
    """SVG geometry of one feature's histogram."""

    reference: list[Bar]
    current: list[Bar]  # labelled bars: beside the reference; binned: drawn as ``step``
    step: str  # path of the current distribution over equal-width bins ("" when labelled)
    ticks: list[str]  # the range's ends, or one label per bar (when they fit)


@dataclass(frozen=True)
class Card:
    feature: FeatureDrift
    test: str
    rule: str  # e.g. "drift if < 0.01"
    gauge: float  # filled width of the gauge
    mark: float  # x of the threshold on the gauge
    plot: Plot | None
    context: list[str]


_TEMPLATE = """{% macro bar(kind, b) -%}
<rect class="{{ kind }}" x="{{ b.x }}" y="{{ b.y }}" width="{{ b.width }}" height="{{ b.height }}">
<title>{{ b.tip }}</title></rect>
{%- endmacro %}<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Drift report</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<link rel="icon" href="data:,">
<style>
body{font-family:system-ui,sans-serif;margin:1.5rem;color:#222;background:#fafafa}
h1{margin:.2rem 0}.verdict{font-size:1.3rem;font-weight:bold;margin:.4rem 0}
.bad{color:#b00020}.ok{color:#1b7a1b}.muted{color:#777}
.legend span{display:inline-block;width:.9rem;height:.9rem;vertical-align:middle;
margin:0 .3rem 0 1rem}
.cards{display:grid;grid-template-columns:repeat(auto-fill,minmax(330px,1fr));gap:.8rem}
.card{background:#fff;border:1px solid #ddd;border-left:6px solid #1b7a1b;border-radius:4px;
padding:.5rem .7rem}.card.drift{border-left-color:#b00020;background:#fff8f8}
.card h2{font-size:1rem;margin:.1rem 0;display:flex;justify-content:space-between}
.badge{font-size:.75rem;padding:.1rem .4rem;border-radius:3px;background:#e3f1e3;color:#1b7a1b}
.drift .badge{background:#fde2e1;color:#b00020}.decide{margin:.2rem 0;font-size:.9rem}
.axis{display:flex;justify-content:space-between;font-size:.75rem;color:#555;margin:0}
.axis.bars{display:grid;width:300px;text-align:center;overflow:hidden;white-space:nowrap}
.context{font-size:.75rem;color:#777;margin:.3rem 0 0}
svg{display:block}.ref{fill:#b9b9b9}.cur{fill:#1f5fbf;opacity:.75}
.step{fill:none;stroke:#1f5fbf;stroke-width:2}.drift .cur{fill:#c62828}.drift .step{stroke:#c62828}
.track{fill:#eee}.fill{fill:#1b7a1b}.drift .fill{fill:#b00020}.mark{stroke:#222;stroke-width:2}
table{border-collapse:collapse;margin-top:.5rem;background:#fff}
td,th{padding:.25rem .6rem;border-bottom:1px solid #ddd;text-align:right;font-size:.85rem}
td:first-child,th:first-child{text-align:left}tr.drift td{background:#fde2e1}
td.decides{font-weight:bold}
</style></head><body>
<h1>Drift report</h1>
<p class="verdict {{ 'bad' if r.retrain_needed else 'ok' }}">
{{ 'Retrain needed' if r.retrain_needed else 'No retraining needed' }}:
{{ r.drifted|length }} of {{ r.features|length }} features drifted
({{ '%.0f'|format(100 * r.drifted_share) }}%; retraining above
{{ '%.0f'|format(100 * r.thresholds.max_drifted_share) }}%).</p>
<p>Reference rows: {{ r.reference_rows }}; current rows: {{ r.current_rows }}.
Each feature is decided by one test: {{ deciding|join('; ') }}.{% if small %}
With {{ r.reference_rows }} reference rows (at most {{ r.thresholds.small_reference }}), numeric
features are decided by the KS test and categorical ones by chi-square, as in Evidently's preset;
normalised Wasserstein and PSI are then shown as context only.{% endif %}</p>
<p class="legend">Most drifted first (deciding statistic against its threshold).
<span style="background:#b9b9b9"></span>reference
<span style="background:#1f5fbf"></span>current
<span style="background:#c62828"></span>current, drifted feature.
The gauge fills to the deciding statistic; the black mark is its threshold.</p>
<div class="cards">
{% for c in cards %}{% set f = c.feature %}
<section class="card{{ ' drift' if f.drifted else '' }}" data-feature="{{ f.feature }}">
<h2><span>{{ f.feature }}</span>
<span class="badge">{{ 'drifted' if f.drifted else 'no drift' }}</span></h2>
<p class="decide"><b>{{ c.test }} {{ num(f.score) }}</b>: {{ c.rule }}</p>
<svg class="gauge" width="{{ width }}" height="14" viewBox="0 0 {{ width }} 14" role="img"
 aria-label="{{ c.test }} {{ num(f.score) }}, {{ c.rule }}">
<rect class="track" x="0" y="2" width="{{ width }}" height="10"/>
<rect class="fill" x="0" y="2" width="{{ '%.1f'|format(c.gauge) }}" height="10"/>
{% set x = '%.1f'|format(c.mark) %}<line class="mark" x1="{{ x }}" x2="{{ x }}" y1="0" y2="14"/>
</svg>
{% if c.plot %}{% set p = c.plot %}
<svg class="dist" width="{{ width }}" height="{{ height }}" viewBox="0 0 {{ width }} {{ height }}"
 role="img" aria-label="{{ f.feature }}: reference and current distributions">
{% for b in p.reference %}{{ bar('ref', b) }}{% endfor %}
{% for b in p.current %}{{ bar('cur', b) }}{% endfor %}
{% if p.step %}<path class="step" d="{{ p.step }}"/>{% endif %}
</svg>
{% if p.step or p.ticks|length < p.reference|length %}
<p class="axis">{% for t in p.ticks %}<span>{{ t }}</span>{% endfor %}</p>
{% else %}
<p class="axis bars" style="grid-template-columns:repeat({{ p.ticks|length }},1fr)">
{% for t in p.ticks %}<span>{{ t }}</span>{% endfor %}</p>
{% endif %}
{% endif %}
<p class="context">Context, not deciding: {{ c.context|join(' · ') }}</p>
</section>
{% endfor %}
</div>
<h2>All statistics</h2>
<table><thead><tr><th>Feature</th><th>Deciding test</th><th>Statistic</th><th>Threshold</th>
<th>Wasserstein (norm.)</th><th>PSI</th><th>KS statistic</th><th>KS / &chi;&sup2; p-value</th>
<th>Missing</th><th>Drifted</th></tr></thead><tbody>
{% for c in cards %}{% set f = c.feature %}
<tr class="{{ 'drift' if f.drifted else '' }}"><td>{{ f.feature }}</td><td>{{ c.test }}</td>
<td class="decides">{{ num(f.score) }}</td><td>{{ c.rule }}</td>
<td class="muted">{{ num(f.wasserstein) }}</td><td class="muted">{{ num(f.psi) }}</td>
<td class="muted">{{ num(f.ks_statistic) }}</td>
<td class="muted">{{ num(f.ks_pvalue if f.chi2_pvalue is none else f.chi2_pvalue) }}</td>
<td>{{ f.missing }}</td><td>{{ 'yes' if f.drifted else 'no' }}</td></tr>
{% endfor %}
</tbody></table></body></html>
"""


def render_html(result: DriftResult) -> str:
    env = Environment(autoescape=select_autoescape(default=True, default_for_string=True))
    features = sorted(result.features, key=lambda f: -f.relative)
    used = {(f.test, f.threshold) for f in result.features}
    deciding = [
        f"{TESTS[test][0]} {TESTS[test][1].replace('>=', '≥')} {threshold:g}"
        for test, threshold in sorted(used)
    ]
    small = result.thresholds.numeric_test == "auto" and any(
        f.test == "ks" for f in result.features
    )
    return env.from_string(_TEMPLATE).render(
        r=result,
        cards=[_card(f) for f in features],
        deciding=deciding,
        small=small,
        num=_number,
        width=PLOT_WIDTH,
        height=PLOT_HEIGHT,
    )


def _card(feature: FeatureDrift) -> Card:
    name, op = TESTS[feature.test]
    context = {
        "normalised Wasserstein": feature.wasserstein,
        "PSI": feature.psi,
        "KS statistic": feature.ks_statistic,
        "chi-square": feature.chi2,
    }
    lines = [f"{k} {_number(v)}" for k, v in context.items() if v is not None and k != name]
    lines.append(f"missing {feature.missing}")
    return Card(
        feature=feature,
        test=name,
        rule=f"drift if {op.replace('>=', '≥')} {feature.threshold:g}",
        gauge=min(max(feature.relative, 0.0), GAUGE_SCALE) / GAUGE_SCALE * PLOT_WIDTH,
        mark=PLOT_WIDTH / GAUGE_SCALE,
        plot=_plot(feature.histogram) if feature.histogram else None,
        context=lines,
    )


def _plot(h: Histogram) -> Plot:
    """Bars of the reference; the current as bars beside them (labelled) or a step line."""
    top = max(*h.reference, *h.current, 1e-12)
    count = len(h.reference)
    slot = PLOT_WIDTH / count

    def bar(i: int, share: float, offset: float, width: float) -> Bar:
        height = round(share / top * (PLOT_HEIGHT - 2), 1)
        where = h.labels[i] if h.labels else f"{_number(h.edges[i])} to {_number(h.edges[i + 1])}"
        return Bar(
            x=round(i * slot + offset, 1),
            y=round(PLOT_HEIGHT - height, 1),
            width=round(width, 1),
            height=height,
            tip=f"{where}: reference {h.reference[i]:.1%}, current {h.current[i]:.1%}",
        )

    if h.labels:
        width = slot * 0.4
        return Plot(
            reference=[bar(i, s, slot * 0.1, width) for i, s in enumerate(h.reference)],
            current=[bar(i, s, slot * 0.5, width) for i, s in enumerate(h.current)],
            step="",
            ticks=h.labels if count <= MAX_TICKS else [h.labels[0], h.labels[-1]],
        )
    step = [f"M0 {PLOT_HEIGHT}"]
    for i, share in enumerate(h.current):
        y = PLOT_HEIGHT - share / top * (PLOT_HEIGHT - 2)
        step.append(f"V{y:.1f} H{(i + 1) * slot:.1f}")
    step.append(f"V{PLOT_HEIGHT}")
    return Plot(
        reference=[bar(i, s, 0.0, slot) for i, s in enumerate(h.reference)],
        current=[],
        step=" ".join(step),
        ticks=[_number(h.edges[0]), _number(h.edges[-1])],
    )


def _number(value: float | None) -> str:
    return "" if value is None else f"{value:.4g}"


def write_report(result: DriftResult, out_dir: Path) -> tuple[Path, Path]:
    """Write ``drift_report.html`` and ``drift_summary.json`` into ``out_dir``."""
    out_dir.mkdir(parents=True, exist_ok=True)
    html_path, json_path = out_dir / HTML_NAME, out_dir / JSON_NAME
    html_path.write_text(render_html(result))
    json_path.write_text(json.dumps(result.summary(), indent=1))
    return html_path, json_path
