"""Provider assurance: the tenant's outsourced providers, each one's checklist and its report.

- ``GET /t/{tenant}/providers``: the outsourced providers serving the tenant, items by status;
- ``GET /t/{tenant}/providers/{provider}?month=yyyy-mm``: the checklist by section (status, evidence,
  review dates, overdue ones marked), the forms to assess an item and attach a file (admins and
  auditors; a multipart upload carrying the CSRF field), and beside it what deskguard measured about the
  provider's operators that month (``app.assurance``, ``app.kpis``);
- ``POST …/items/{item}`` (assess) and ``POST …/items/{item}/evidence`` (attach): re-render the page
  with what was done announced;
- ``GET …/evidence/{id}``: the file, as attached (its SHA-256 in ``x-content-sha256``);
- ``GET …/report`` (``.html``, ``.pdf``, ``.csv``): the provider's report. The PDF is the same HTML
  rendered by WeasyPrint (``console.reports``); the CSV has one line per checklist item.

Readers: admins, auditors and supervisors; every use case checks role and tenant.
"""

from __future__ import annotations

import csv
import io
from typing import Annotated, Any

from fastapi import APIRouter, File, Form, Request, UploadFile
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool

from deskguard.app import assurance
from deskguard.app.console_auth import Viewer
from deskguard.app.kpis import Month
from deskguard.console.reports import report_response
from deskguard.console.routes_dashboard import figures_of
from deskguard.console.session import Acting, Ctx, Seen
from deskguard.console.web import ConsoleRoute, render, translator
from deskguard.domain.assurance import ACCEPTED, MAX_EVIDENCE_BYTES, ItemStatus
from deskguard.domain.errors import NotFound, ValidationFailed

router = APIRouter(route_class=ConsoleRoute, include_in_schema=False)
BASE = "/t/{tenant_id}/providers"
FORMATS = ("html", "pdf", "csv")
ASSESSORS = {r.value for r in assurance.ASSESSORS}
MEASURED = ("sensitive_actions", "with_step_up", "step_up_share_pct", "proofs", "verification_failures")
MEASURED += ("failure_rate_pct", "alerts", "mean_time_to_detect_s")


@router.get(BASE)
def providers(request: Request, tenant_id: str, seen: Seen, ctx: Ctx) -> Response:
    found = assurance.list_providers(ctx, actor=seen.actor, tenant_id=tenant_id)
    return render(request, "assurance/providers.html", viewer=seen, tenant_id=tenant_id, providers=found)


def _provider_page(
    request: Request,
    ctx: Any,
    seen: Viewer,
    tenant_id: str,
    provider_id: str,
    month: str = "",
    done: str = "",
) -> Response:
    found = assurance.provider_assurance(
        ctx, actor=seen.actor, tenant_id=tenant_id, provider_id=provider_id, month=month
    )
    return render(
        request,
        "assurance/provider.html",
        viewer=seen,
        tenant_id=tenant_id,
        found=found,
        figures=_measured(found),
        statuses=[s.value for s in ItemStatus],
        can_assess=seen.actor.role in ASSESSORS,
        accepted=ACCEPTED,
        max_mb=MAX_EVIDENCE_BYTES // (1024 * 1024),
        previous=str(Month.parse(found.measured.kpis.month).shift(-1)),
        following=str(Month.parse(found.measured.kpis.month).shift(1)),
        done=_done(done, translator(request).lang),
    )


def _done(done: str, lang: str) -> tuple[str, str] | None:
    """What the page announces after a change: (assessed|attached, the item's title)."""
    if not done:
        return None
    kind, _, item_id = done.partition(":")
    return kind, assurance.checklist().item(item_id).title[lang]


def _measured(found: assurance.ProviderAssurance) -> list[tuple[str, str]]:
    wanted = dict(figures_of(found.measured.kpis))
    return [(key, wanted[key]) for key in MEASURED]


@router.get(BASE + "/{provider_id}")
def provider(
    request: Request, tenant_id: str, provider_id: str, seen: Seen, ctx: Ctx, month: str = ""
) -> Response:
    return _provider_page(request, ctx, seen, tenant_id, provider_id, month)


@router.post(BASE + "/{provider_id}/items/{item_id}")
def assess(
    request: Request,
    tenant_id: str,
    provider_id: str,
    item_id: str,
    seen: Acting,
    ctx: Ctx,
    status: Annotated[str, Form(max_length=16)],
    note: Annotated[str, Form(max_length=assurance.MAX_NOTE)] = "",
    review_due: Annotated[str, Form(max_length=10)] = "",
) -> Response:
    assurance.assess_item(
        ctx,
        actor=seen.actor,
        tenant_id=tenant_id,
        provider_id=provider_id,
        item_id=item_id,
        status=status,
        note=note,
        review_due=review_due,
    )
    return _provider_page(request, ctx, seen, tenant_id, provider_id, done=f"assessed:{item_id}")


@router.post(BASE + "/{provider_id}/items/{item_id}/evidence")
async def attach(
    request: Request,
    tenant_id: str,
    provider_id: str,
    item_id: str,
    seen: Acting,
    ctx: Ctx,
    file: Annotated[UploadFile | None, File()] = None,
) -> Response:
    if file is None or not file.filename:
        raise ValidationFailed("choose a file to attach", field="file")
    content = await file.read(MAX_EVIDENCE_BYTES + 1)
    await run_in_threadpool(
        assurance.attach_evidence,
        ctx,
        actor=seen.actor,
        tenant_id=tenant_id,
        provider_id=provider_id,
        item_id=item_id,
        name=file.filename,
        content=content,
    )
    return await run_in_threadpool(
        _provider_page, request, ctx, seen, tenant_id, provider_id, "", f"attached:{item_id}"
    )


@router.get(BASE + "/{provider_id}/evidence/{evidence_id}")
def evidence(
    request: Request, tenant_id: str, provider_id: str, evidence_id: str, seen: Seen, ctx: Ctx
) -> Response:
    found, content = assurance.evidence_file(
        ctx, actor=seen.actor, tenant_id=tenant_id, provider_id=provider_id, evidence_id=evidence_id
    )
    return Response(
        content,
        media_type=found.media_type,
        headers={
            "content-disposition": f'attachment; filename="{found.name}"',
            "x-content-sha256": found.sha256,
        },
    )


def _csv(found: assurance.ProviderAssurance, lang: str) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(
        ["tenant", "provider", "section", "item", "title", "status", "reviewer", "reviewed_at"]
        + ["review_due", "overdue", "evidence", "note"]
    )
    for section in found.sections:
        for view in section.items:
            a = view.assessment
            files = "; ".join(f"{e.name} sha256:{e.sha256}" for e in view.evidence)
            writer.writerow(
                [found.tenant_id, found.provider.id, section.section.id, view.item.id, view.item.title[lang]]
                + [view.status.value, a.reviewer_id if a else "", a.reviewed_at.isoformat() if a else ""]
                + [a.review_due.isoformat() if a else "", "yes" if view.overdue else "no", files]
                + [a.note if a else ""]
            )
    writer.writerow([])
    writer.writerow(["tenant", "provider", "month", "indicator", "value"])
    for key, value in _measured(found):
        writer.writerow([found.tenant_id, found.provider.id, found.measured.kpis.month, key, value])
    return out.getvalue()


@router.get(BASE + "/{provider_id}/{name}")
def report(
    request: Request, tenant_id: str, provider_id: str, name: str, seen: Seen, ctx: Ctx, month: str = ""
) -> Response:
    stem, _, kind = name.partition(".")
    kind = kind or "html"
    if stem != "report" or kind not in FORMATS:
        raise NotFound(f"{name!r} is not report.html, report.pdf or report.csv", code="not_found.format")
    found = assurance.provider_assurance(
        ctx, actor=seen.actor, tenant_id=tenant_id, provider_id=provider_id, month=month
    )
    return report_response(
        request,
        kind=kind,
        stem=f"deskguard-{tenant_id}-{provider_id}-assurance-{found.today.isoformat()}",
        csv=lambda: _csv(found, translator(request).lang),
        template="assurance/report.html",
        viewer=seen,
        tenant_id=tenant_id,
        found=found,
        figures=_measured(found),
    )
