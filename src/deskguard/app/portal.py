"""The employee portal's own view of their account: recent helpdesk actions, "this wasn't me", and
the confirmations a manager owes their reports.

``recent_actions`` lists the requests about the signed-in person of the last ``RECENT_DAYS`` days
(opened by an agent or by themselves), newest first. ``dispute_action`` is the person saying one of
them was not them: an ``action.disputed`` event is written to the outbox with the request's kind,
origin and requester, and fed to the detection engine at once (the rule
``Deskguard.Person.ActionDisputed`` turns it into a high-severity alert for the analysts; the
detector worker would read it a few seconds later anyway, from the same cursor).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from deskguard.app.access import require_person
from deskguard.app.context import AppContext
from deskguard.app.detection import consume_outbox
from deskguard.app.outbox import emit
from deskguard.app.requests import load_request
from deskguard.app.self_service import not_before
from deskguard.app.verification import pending_for_person
from deskguard.domain.errors import NotFound, ValidationFailed
from deskguard.domain.events import Actor, EventType
from deskguard.domain.model import Person
from deskguard.domain.ports import RequestFilter
from deskguard.domain.requests import ActionRequest, Proof, ProofMethod, RequestOrigin

RECENT_DAYS = 30
MAX_NOTE = 500


@dataclass(frozen=True, slots=True)
class ToConfirm:
    """A manager confirmation waiting for the signed-in person: the proof, the request, the report."""

    proof: Proof
    request: ActionRequest
    report: Person


def manager_confirmations(ctx: AppContext, *, actor: Actor, tenant_id: str) -> Sequence[ToConfirm]:
    """The requests about this person's reports that wait for their confirmation, with what is asked."""
    waiting = [
        p
        for p in pending_for_person(ctx, actor=actor, tenant_id=tenant_id)
        if p.method == ProofMethod.MANAGER_CONFIRMATION and p.challenge.get("manager_id") == actor.id
    ]
    found: list[ToConfirm] = []
    with ctx.reads() as uow:
        for proof in waiting:
            request = load_request(uow, tenant_id=tenant_id, request_id=proof.request_id)
            report = uow.persons.get(tenant_id=tenant_id, person_id=request.person_id)
            if report is not None and report.manager_id == actor.id:
                found.append(ToConfirm(proof=proof, request=request, report=report))
    return found


@dataclass(frozen=True, slots=True)
class AccountAction:
    """A request about the person: whether the helpdesk opened it (else they did, from the portal),
    and, for a sensitive change they asked for, when it may take effect (``app.self_service``)."""

    request: ActionRequest
    by_helpdesk: bool
    not_before: datetime | None


def recent_actions(ctx: AppContext, *, actor: Actor, tenant_id: str) -> Sequence[AccountAction]:
    """The requests about the signed-in person of the last ``RECENT_DAYS`` days, newest first."""
    require_person(actor, tenant_id=tenant_id)
    since = ctx.clock.now() - timedelta(days=RECENT_DAYS)
    with ctx.reads() as uow:
        found = uow.requests.list(tenant_id=tenant_id, where=RequestFilter(person_id=actor.id, limit=200))
    return [
        AccountAction(
            request=r, by_helpdesk=r.origin != RequestOrigin.SELF_SERVICE, not_before=not_before(ctx, r)
        )
        for r in sorted(found, key=lambda r: r.created_at, reverse=True)
        if r.created_at >= since
    ]


def dispute_action(ctx: AppContext, *, actor: Actor, tenant_id: str, request_id: str, note: str = "") -> None:
    """The person says the helpdesk action ``request_id`` on their account was not them."""
    require_person(actor, tenant_id=tenant_id)
    if len(note) > MAX_NOTE:
        raise ValidationFailed(f"note is longer than {MAX_NOTE} characters", field="note")
    with ctx.uow() as uow:
        request = load_request(uow, tenant_id=tenant_id, request_id=request_id)
        if request.person_id != actor.id:  # another person's request does not exist for this one
            raise NotFound(f"request {request_id} not found", code="not_found.request")
        if request.created_at < ctx.clock.now() - timedelta(days=RECENT_DAYS):
            raise ValidationFailed(
                f"request {request_id} is older than {RECENT_DAYS} days; call the helpdesk about it",
                field="request_id",
            )
        emit(
            ctx,
            uow,
            type=EventType.ACTION_DISPUTED,
            actor=actor,
            tenant_id=tenant_id,
            request_id=request.id,
            person_id=request.person_id,
            kind=request.kind.value,
            origin=request.origin.value,
            requester_id=request.requester_id,
            state=request.state.value,
            note=note.strip(),
        )
        uow.commit()
    if ctx.detector is not None:
        consume_outbox(ctx, tenant_id=tenant_id)
