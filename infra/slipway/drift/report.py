"""Drift report: a self-contained HTML page and a JSON summary."""

from __future__ import annotations

import json
from pathlib import Path

from jinja2 import Environment, select_autoescape

from slipway.drift.detect import DriftResult

HTML_NAME = "drift_report.html"
JSON_NAME = "drift_summary.json"

_TEMPLATE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Drift report</title>
<style>
body{font-family:system-ui,sans-serif;margin:2rem;color:#222}
table{border-collapse:collapse}
td,th{padding:.3rem .7rem;border-bottom:1px solid #ddd;text-align:right}
td:first-child,th:first-child{text-align:left}.drift{background:#fde2e1}
.verdict{font-size:1.3rem;font-weight:bold}.bad{color:#b00020}.ok{color:#1b7a1b}
</style></head><body>
<h1>Drift report</h1>
<p class="verdict {{ 'bad' if r.retrain_needed else 'ok' }}">
{{ 'Retrain needed' if r.retrain_needed else 'No retraining needed' }}:
{{ r.drifted|length }} of {{ r.features|length }} features drifted
({{ '%.0f'|format(100 * r.drifted_share) }}%, limit
{{ '%.0f'|format(100 * r.thresholds.max_drifted_share) }}%).</p>
<p>Reference rows: {{ r.reference_rows }}; current rows: {{ r.current_rows }}.
Each feature is decided by one test: normalised Wasserstein &ge; {{ r.thresholds.wasserstein }},
PSI &ge; {{ r.thresholds.psi }}, KS p-value &lt; {{ r.thresholds.ks_pvalue }} or chi-square
p-value &lt; {{ r.thresholds.chi2_pvalue }}; the other statistics are shown for context.</p>
<table><thead><tr><th>Feature</th><th>Test</th><th>Score</th><th>Wasserstein (norm.)</th>
<th>PSI</th><th>KS statistic</th><th>KS / &chi;&sup2; p-value</th><th>Missing</th>
<th>Drifted</th></tr></thead><tbody>
{% for f in r.features %}
<tr class="{{ 'drift' if f.drifted else '' }}"><td>{{ f.feature }}</td><td>{{ f.test }}</td>
<td>{{ '%.4g'|format(f.score) }}</td><td>{{ num(f.wasserstein) }}</td>
<td>{{ num(f.psi) }}</td><td>{{ num(f.ks_statistic) }}</td>
<td>{{ num(f.ks_pvalue if f.chi2_pvalue is none else f.chi2_pvalue) }}</td>
<td>{{ f.missing }}</td><td>{{ f.reasons|join('; ') if f.drifted else 'no' }}</td></tr>
{% endfor %}
</tbody></table></body></html>
"""


def render_html(result: DriftResult) -> str:
    env = Environment(autoescape=select_autoescape(default=True, default_for_string=True))
    return env.from_string(_TEMPLATE).render(r=result, num=_number)


def _number(value: float | None) -> str:
    return "" if value is None else f"{value:.4g}"


def write_report(result: DriftResult, out_dir: Path) -> tuple[Path, Path]:
    """Write ``drift_report.html`` and ``drift_summary.json`` into ``out_dir``."""
    out_dir.mkdir(parents=True, exist_ok=True)
    html_path, json_path = out_dir / HTML_NAME, out_dir / JSON_NAME
    html_path.write_text(render_html(result))
    json_path.write_text(json.dumps(result.summary(), indent=1))
    return html_path, json_path
