"""The HTML report of ``deskguard evaluate``: one self-contained page, plots as inline SVG.

No external assets (no script, no stylesheet, no font fetched): the figures are drawn here as SVG
and the page is rendered with Jinja2 (autoescaped). Three plots: time to detect per scenario
(against the 60 s target), alerts per simulated day (true and false), and the monthly KPIs per tenant.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from jinja2 import Environment
from markupsafe import Markup

from deskguard.sim.evaluate_score import TARGET_TTD_S, Evaluation

WIDTH, BAR_H, PAD = 640, 18, 170


def _bars(rows: list[tuple[str, float, str]], *, unit: str, mark: float | None = None) -> Markup:
    """Horizontal bars: (label, value, colour); ``mark`` draws a dashed target line."""
    top = max([value for _, value, _ in rows] + [mark or 0, 1.0])
    scale = (WIDTH - PAD - 60) / top
    height = BAR_H * len(rows) + 30
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{height}" role="img">']
    for i, (label, value, colour) in enumerate(rows):
        y = 10 + i * BAR_H
        parts.append(
            f'<text x="{PAD - 6}" y="{y + 12}" text-anchor="end" font-size="11">{_esc(label)}</text>'
        )
        length = max(value, 0) * scale
        parts.append(
            f'<rect x="{PAD}" y="{y + 2}" width="{length:.1f}" height="{BAR_H - 5}" fill="{colour}"/>'
        )
        parts.append(f'<text x="{PAD + length + 4:.1f}" y="{y + 12}" font-size="11">{value:g} {unit}</text>')
    if mark is not None:
        x = PAD + mark * scale
        parts.append(
            f'<line x1="{x:.1f}" y1="4" x2="{x:.1f}" y2="{height - 14}" stroke="#c00" '
            'stroke-dasharray="4 3"/>'
        )
        parts.append(
            f'<text x="{x + 3:.1f}" y="{height - 4}" font-size="10" fill="#c00">target {mark:g} {unit}</text>'
        )
    parts.append("</svg>")
    return Markup("".join(parts))  # noqa: S704 - every text in it went through _esc


def _esc(text: str) -> str:
    return str(Markup.escape(text))


def _stacked(days: list[dict[str, Any]]) -> Markup:
    """Alerts per day: true (green) under false (red)."""
    if not days:
        return Markup("<p>No alerts.</p>")
    top = max(d["true"] + d["false"] for d in days) or 1
    step, chart_h = max(18, (WIDTH - 60) // len(days)), 160
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{chart_h + 40}" role="img">']
    for i, d in enumerate(days):
        x, base = 40 + i * step, chart_h + 10
        for key, colour in (("true", "#2a7"), ("false", "#d33")):
            h = d[key] / top * chart_h
            base -= h
            parts.append(
                f'<rect x="{x}" y="{base:.1f}" width="{step - 4}" height="{h:.1f}" fill="{colour}"/>'
            )
        parts.append(f'<text x="{x}" y="{chart_h + 24}" font-size="9">{_esc(d["day"][5:])}</text>')
    parts.append(
        f'<text x="2" y="14" font-size="10">{top}</text>'
        f'<text x="2" y="{chart_h + 10}" font-size="10">0</text>'
    )
    parts.append("</svg>")
    return Markup("".join(parts))  # noqa: S704 - texts escaped


TEMPLATE = Path(__file__).with_name("templates") / "evaluation.html"


def render_html(result: Evaluation) -> str:
    attacks = [r for r in result.labels if r.variant == "attack"]
    ttd = _bars(
        [
            (r.scenario, r.time_to_detect_s, "#2a7" if r.time_to_detect_s <= TARGET_TTD_S else "#d33")
            for r in attacks
            if r.time_to_detect_s is not None and not r.prevented
        ]
        + [(f"{r.scenario} (prevented)", 0.0, "#2a7") for r in attacks if r.prevented],
        unit="s",
        mark=TARGET_TTD_S,
    )
    kpi_plot = _bars(
        [
            (f"{k['tenant']} {k['month']} sensitive", float(k["sensitive_actions"]), "#36c")
            for k in result.kpis
        ]
        + [(f"{k['tenant']} {k['month']} alerts", float(k["alerts"]), "#d93") for k in result.kpis],
        unit="",
    )
    env = Environment(autoescape=True)
    return env.from_string(TEMPLATE.read_text(encoding="utf-8")).render(
        e=result, ttd=ttd, over_time=_stacked(result.alerts_over_time), kpi_plot=kpi_plot
    )
