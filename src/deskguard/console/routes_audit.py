"""The auditor's pages: browse a tenant's ledger (filters, pages), a record with its inclusion proof
checked in the browser (``static/audit.js``: RFC 9162 with WebCrypto), and the verifiable export.

Auditors and admins (and analysts, who may read evidence) of the tenant: ``app.ledger`` checks it.
The export is the bundle of ``app.ledger.export_bundle`` as one zip archive that the offline
verifier reads as it is: ``deskguard audit verify <download>.zip``.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import RedirectResponse, Response

from deskguard.app import ledger
from deskguard.audit.bundle import to_zip
from deskguard.console.session import Acting, Ctx, Seen
from deskguard.console.web import ConsoleRoute, render
from deskguard.domain.errors import ValidationFailed
from deskguard.domain.ports import RecordQuery

router = APIRouter(route_class=ConsoleRoute, include_in_schema=False)
BASE = "/t/{tenant_id}/audit"
PAGE = 50
Filter = Annotated[str, Query(max_length=64)]


def _day(name: str, value: str) -> datetime | None:
    if not value:
        return None
    try:
        return datetime.fromisoformat(value).replace(tzinfo=UTC)
    except ValueError:
        raise ValidationFailed(f"{name}: {value!r} is not a date (YYYY-MM-DD)", field=name) from None


@router.get(BASE)
def ledger_page(
    request: Request,
    tenant_id: str,
    seen: Seen,
    ctx: Ctx,
    type: Filter = "",
    person_id: Filter = "",
    actor_id: Filter = "",
    request_id: Filter = "",
    ticket_id: Filter = "",
    since: Filter = "",
    until: Filter = "",
    after: Annotated[int, Query(ge=-1)] = -1,
) -> Response:
    filters = {
        "type": type,
        "person_id": person_id,
        "actor_id": actor_id,
        "request_id": request_id,
        "ticket_id": ticket_id,
        "since": since,
        "until": until,
    }
    query = RecordQuery(
        type=type or None,
        person_id=person_id or None,
        actor_id=actor_id or None,
        request_id=request_id or None,
        ticket_id=ticket_id or None,
        since=_day("since", since),
        until=_day("until", until),
        after=after,
        limit=PAGE + 1,  # one more: is there a next page?
    )
    found = ledger.search_records(ctx, actor=seen.actor, tenant_id=tenant_id, query=query)
    kept = {k: v for k, v in filters.items() if v}
    return render(
        request,
        "audit/ledger.html",
        viewer=seen,
        tenant_id=tenant_id,
        records=found[:PAGE],
        more=len(found) > PAGE,
        filters=filters,
        kept=kept,
        after=after,
    )


@router.get(BASE + "/records/{event_id}")
def record_page(request: Request, tenant_id: str, event_id: str, seen: Seen, ctx: Ctx) -> Response:
    found = ledger.record_with_proof(ctx, actor=seen.actor, tenant_id=tenant_id, event_id=event_id)
    return render(request, "audit/record.html", viewer=seen, tenant_id=tenant_id, found=found)


@router.post(BASE + "/records/{event_id}/checkpoint")
def checkpoint(tenant_id: str, event_id: str, seen: Acting, ctx: Ctx) -> Response:
    ledger.checkpoint_now(ctx, actor=seen.actor, tenant_id=tenant_id)
    return RedirectResponse(f"/t/{tenant_id}/audit/records/{event_id}", status_code=303)


@router.post(BASE + "/export")
def export(tenant_id: str, seen: Acting, ctx: Ctx) -> Response:
    bundle = ledger.export_for(ctx, actor=seen.actor, tenant_id=tenant_id)
    stamp = ctx.clock.now().strftime("%Y%m%dT%H%M%SZ")
    folder = f"deskguard-audit-{tenant_id}-{stamp}"
    return Response(
        to_zip(bundle.files, folder=folder),
        media_type="application/zip",
        headers={"content-disposition": f'attachment; filename="{folder}.zip"'},
    )
