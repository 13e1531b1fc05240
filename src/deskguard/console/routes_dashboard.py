"""The dashboard and the monthly report: a tenant's month in figures, per provider, as charts and tables.

- ``GET /t/{tenant}/dashboard?month=yyyy-mm&provider=…``: the figures of ``app.kpis`` (the current
  month by default), drawn by ``static/dashboard.js`` with the vendored Chart.js from a JSON data block,
  each chart with its table (what a screen reader reads, and what shows without JavaScript);
- ``GET /t/{tenant}/reports/{yyyy-mm}`` (``.html``, ``.pdf``, ``.csv``; the bare path is HTML): the
  monthly report. The PDF is the same HTML rendered by WeasyPrint; the CSV has one ``indicator,value``
  line per figure, then one line per operator.
"""

from __future__ import annotations

import csv
import io
import json
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response

from deskguard.app.kpis import Month, MonthKpis, month_kpis
from deskguard.console.reports import report_response
from deskguard.console.session import Ctx, Seen
from deskguard.console.web import ConsoleRoute, render, translator
from deskguard.domain.errors import NotFound

router = APIRouter(route_class=ConsoleRoute, include_in_schema=False)
FORMATS = ("html", "pdf", "csv")


def _chart_data(kpis: MonthKpis, t: Any) -> str:
    """The charts' data, as the JSON of the page's ``application/json`` block (never a script)."""
    data = {
        "severity": {
            "label": t("dashboard.alerts_by_severity"),
            "labels": [t("dashboard.severity." + s) for s in kpis.alerts_by_severity],
            "values": list(kpis.alerts_by_severity.values()),
        },
        "operators": {
            "labels": [load.operator_id for load in kpis.operators],
            "series": [
                {"label": t("dashboard.this_month"), "values": [load.requests for load in kpis.operators]},
                {
                    "label": t("dashboard.baseline"),
                    "values": [round(load.baseline, 2) for load in kpis.operators],
                },
            ],
        },
    }
    return json.dumps(data).replace("<", "\\u003c")  # nothing can close the block early


def figures_of(kpis: MonthKpis) -> list[tuple[str, str]]:
    """(indicator key, value) in report order: the CSV's lines and the report's summary table."""

    def pct(value: float | None) -> str:
        return "" if value is None else f"{value * 100:.1f}"

    def secs(value: float | None) -> str:
        return "" if value is None else f"{value:.0f}"

    rows = [
        ("sensitive_actions", str(kpis.sensitive_actions)),
        ("with_step_up", str(kpis.with_step_up)),
        ("step_up_share_pct", pct(kpis.step_up_share)),
        ("proofs", str(kpis.proofs)),
        ("verification_failures", str(kpis.verification_failures)),
        ("failure_rate_pct", pct(kpis.failure_rate)),
        ("alerts", str(kpis.alerts)),
        ("mean_time_to_detect_s", secs(kpis.mean_time_to_detect_s)),
        ("mean_time_to_respond_s", secs(kpis.mean_time_to_respond_s)),
        ("unanswered_alerts", str(kpis.unanswered_alerts)),
    ]
    rows += [(f"alerts_{severity}", str(n)) for severity, n in kpis.alerts_by_severity.items()]
    return rows


def _csv(kpis: MonthKpis) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["tenant", "month", "provider", "indicator", "value"])
    for key, value in figures_of(kpis):
        writer.writerow([kpis.tenant_id, kpis.month, kpis.provider_id or "all", key, value])
    writer.writerow([])
    writer.writerow(["operator", "provider", "requests", "baseline_per_month", "ratio"])
    for load in kpis.operators:
        ratio = "" if load.ratio is None else f"{load.ratio:.2f}"
        writer.writerow([load.operator_id, load.provider_id, load.requests, f"{load.baseline:.2f}", ratio])
    return out.getvalue()


@router.get("/t/{tenant_id}/dashboard")
def dashboard(
    request: Request, tenant_id: str, seen: Seen, ctx: Ctx, month: str = "", provider: str = ""
) -> Response:
    chosen = month or str(Month.of(ctx.clock.now()))
    kpis = month_kpis(ctx, actor=seen.actor, tenant_id=tenant_id, month=chosen, provider_id=provider)
    return render(
        request,
        "dashboard/dashboard.html",
        viewer=seen,
        tenant_id=tenant_id,
        kpis=kpis,
        figures=dict(figures_of(kpis)),
        chart_data=_chart_data(kpis, translator(request)),
        previous=str(Month.parse(kpis.month).shift(-1)),
        following=str(Month.parse(kpis.month).shift(1)),
    )


@router.get("/t/{tenant_id}/reports/{name}")
def report(request: Request, tenant_id: str, name: str, seen: Seen, ctx: Ctx, provider: str = "") -> Response:
    month, _, kind = name.partition(".")
    kind = kind or "html"
    if kind not in FORMATS:
        raise NotFound(f"report format {kind!r} is not one of {', '.join(FORMATS)}", code="not_found.format")
    kpis = month_kpis(ctx, actor=seen.actor, tenant_id=tenant_id, month=month, provider_id=provider)
    return report_response(
        request,
        kind=kind,
        stem=f"deskguard-{tenant_id}-{kpis.month}" + (f"-{provider}" if provider else ""),
        csv=lambda: _csv(kpis),
        template="dashboard/report.html",
        viewer=seen,
        tenant_id=tenant_id,
        kpis=kpis,
        figures=figures_of(kpis),
    )
