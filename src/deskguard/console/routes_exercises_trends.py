"""The vishing exercises' trends and quarterly report in the console (issue 8).

- ``GET /t/{tenant}/exercises/trends?quarter=2026-Q4``: per quarter, desk and agent, the shares of
  calls followed, refused, escalated and failed, and the most frequent failure categories — a table,
  and a stacked bar chart drawn by ``static/exercises.js`` (vendored Chart.js) from a JSON data block;
- ``GET /t/{tenant}/exercises/report/{2026-Q4}`` (``.html`` or ``.csv``; the bare path is HTML):
  the quarter's report: the trends, then every call with its outcome and failure categories.
"""

from __future__ import annotations

import csv
import io
import json
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response

from deskguard.app.exercise_trends import ExerciseTrends, exercise_trends
from deskguard.console.session import Ctx, Seen
from deskguard.console.web import ConsoleRoute, render, translator
from deskguard.domain.errors import NotFound
from deskguard.domain.exercises import Outcome

router = APIRouter(route_class=ConsoleRoute, include_in_schema=False)
FORMATS = ("html", "csv")


def _chart_data(report: ExerciseTrends, t: Any) -> str:
    """Per quarter and desk, the share of each outcome (per cent): the chart's stacked bars."""
    rows = [tr for tr in report.trends if tr.scope in ("all", "provider")]
    data = {
        "labels": [
            f"{tr.quarter} · {report.name(tr.key) if tr.key else t('exercises.all_desks')}" for tr in rows
        ],
        "series": [
            {
                "label": t(f"exercises.outcome.{o.value}"),
                "values": [round(tr.share(o) * 100, 1) for tr in rows],
            }
            for o in Outcome
        ],
    }
    return json.dumps(data).replace("<", "\\u003c")  # nothing can close the block early


@router.get("/t/{tenant_id}/exercises/trends")
def trends(request: Request, tenant_id: str, seen: Seen, ctx: Ctx, quarter: str = "") -> Response:
    report = exercise_trends(ctx, actor=seen.actor, tenant_id=tenant_id, quarter=quarter)
    return render(
        request,
        "exercises/trends.html",
        viewer=seen,
        tenant_id=tenant_id,
        report=report,
        outcomes=list(Outcome),
        chart_data=_chart_data(report, translator(request)),
    )


def _csv(report: ExerciseTrends) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(
        ["quarter", "scope", "key", "name", "calls", *(f"{o.value}_pct" for o in Outcome), "top_failures"]
    )
    for tr in report.trends:
        shares = [f"{tr.share(o) * 100:.1f}" for o in Outcome]
        top = ";".join(f"{f.value}={n}" for f, n in tr.top_failures)
        writer.writerow(
            [tr.quarter, tr.scope, tr.key, report.name(tr.key) if tr.key else "", tr.calls, *shares, top]
        )
    writer.writerow([])
    writer.writerow(
        [
            "call",
            "campaign",
            "called_at",
            "operator",
            "provider",
            "script",
            "outcome",
            "failures",
            "feedback_sent_at",
        ]
    )
    for c in report.calls:
        sent = c.feedback_sent_at.isoformat() if c.feedback_sent_at else ""
        failures = ";".join(f.value for f in c.failures)
        writer.writerow(
            [
                c.id,
                c.campaign_id,
                c.called_at.isoformat(),
                c.operator_id,
                c.provider_id,
                c.script_id,
                c.outcome.value,
                failures,
                sent,
            ]
        )
    return out.getvalue()


@router.get("/t/{tenant_id}/exercises/report/{name}")
def report(request: Request, tenant_id: str, name: str, seen: Seen, ctx: Ctx) -> Response:
    quarter, _, kind = name.partition(".")
    kind = kind or "html"
    if kind not in FORMATS:
        raise NotFound(f"report format {kind!r} is not one of {', '.join(FORMATS)}", code="not_found.format")
    found = exercise_trends(ctx, actor=seen.actor, tenant_id=tenant_id, quarter=quarter)
    if kind == "csv":
        return Response(
            _csv(found),
            media_type="text/csv; charset=utf-8",
            headers={
                "content-disposition": (
                    f'attachment; filename="deskguard-{tenant_id}-exercises-{found.quarter or "all"}.csv"'
                )
            },
        )
    return render(
        request,
        "exercises/report.html",
        viewer=seen,
        tenant_id=tenant_id,
        report=found,
        outcomes=list(Outcome),
    )
