"""The agent's desk during a call: find the caller's person, read their identity card, open the
request with the call's ticket, and follow it (proofs, approvals) on one page.

These read models gather what the console's agent pages show, each behind the same checks as the
use cases they build on: only requesters (agents, supervisors, admins) of the tenant; an object of
another tenant is ``NotFound``. Nothing here returns a secret: proofs carry only their public
challenge (the number to read out, the registered number dialled), requests their non-secret result.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from deskguard.app.access import REQUESTERS, require_operator
from deskguard.app.context import AppContext
from deskguard.app.directory import get_person, open_ticket, search_persons
from deskguard.app.requests import RequestDraft, load_request, open_request
from deskguard.detection.alerts import Alert
from deskguard.detection.risk import assess
from deskguard.domain.events import Actor
from deskguard.domain.model import Operator, Person, Ticket
from deskguard.domain.ports import RequestFilter
from deskguard.domain.requests import ActionRequest, Approval, Proof

PHONE_RECENT = timedelta(days=30)  # the card flags a phone change younger than this


@dataclass(frozen=True, slots=True, kw_only=True)
class PersonCard:
    person: Person
    risk_score: float
    risk_reasons: tuple[str, ...]
    alerts: tuple[Alert, ...]  # the alerts behind the current risk, strongest first
    phone_changed_at: datetime | None
    phone_recent: bool  # a registered phone changed within PHONE_RECENT
    live_requests: tuple[ActionRequest, ...]  # requests on the person that can still change


@dataclass(frozen=True, slots=True, kw_only=True)
class RequestView:
    request: ActionRequest
    person: Person
    ticket: Ticket | None
    proofs: tuple[Proof, ...]
    approvals: tuple[Approval, ...]
    approvers: tuple[Operator, ...]  # who may approve it: the role the decision names, or above
    phone_recent: bool  # a registered phone of the person changed within PHONE_RECENT


@dataclass(frozen=True, slots=True, kw_only=True)
class CallTicket:
    """The ticket of the call the agent is on."""

    external_ref: str
    channel: str = "phone"
    claimed_identity: str = ""
    caller_number: str = ""


def find_persons(ctx: AppContext, *, actor: Actor, tenant_id: str, query: str) -> Sequence[Person] | None:
    """The persons matching ``query``; ``None`` before the agent typed two characters."""
    require_operator(actor, tenant_id=tenant_id, roles=REQUESTERS)
    if len(query.strip()) < 2:
        return None
    return search_persons(ctx, actor=actor, tenant_id=tenant_id, query=query, limit=20)


def person_card(ctx: AppContext, *, actor: Actor, tenant_id: str, person_id: str) -> PersonCard:
    require_operator(actor, tenant_id=tenant_id, roles=REQUESTERS)
    person = get_person(ctx, actor=actor, tenant_id=tenant_id, person_id=person_id)
    now = ctx.clock.now()
    with ctx.reads() as uow:
        signals = uow.risk.get(tenant_id=tenant_id, person_id=person.id)
        risk = assess(signals, now=now.timestamp())
        found = (uow.alerts.get(tenant_id=tenant_id, alert_id=s.alert_id) for s in signals)
        alerts = tuple(sorted((a for a in found if a is not None), key=lambda a: -a.last_seen))
        requests = uow.requests.list(tenant_id=tenant_id, where=RequestFilter(person_id=person.id, limit=50))
    changed = person.phone_last_changed()
    return PersonCard(
        person=person,
        risk_score=risk.score,
        risk_reasons=risk.reasons,
        alerts=alerts,
        phone_changed_at=changed,
        phone_recent=_recent(changed, now),
        live_requests=tuple(r for r in requests if not r.terminal),
    )


def open_for_call(
    ctx: AppContext, *, actor: Actor, tenant_id: str, call: CallTicket | None, draft: RequestDraft
) -> ActionRequest:
    """Record the call's ticket (when given), then open the request that serves it."""
    require_operator(actor, tenant_id=tenant_id, roles=REQUESTERS)
    if call is not None:
        ticket = open_ticket(
            ctx,
            actor=actor,
            tenant_id=tenant_id,
            external_ref=call.external_ref,
            channel=call.channel,
            claimed_identity=call.claimed_identity,
            caller_number=call.caller_number,
        )
        draft = RequestDraft(
            kind=draft.kind,
            person_id=draft.person_id,
            params=draft.params,
            ticket_id=ticket.id,
            justification=draft.justification,
        )
    return open_request(ctx, actor=actor, tenant_id=tenant_id, draft=draft)


def request_view(ctx: AppContext, *, actor: Actor, tenant_id: str, request_id: str) -> RequestView:
    require_operator(actor, tenant_id=tenant_id, roles=REQUESTERS)
    with ctx.reads() as uow:
        request = load_request(uow, tenant_id=tenant_id, request_id=request_id)
        person = uow.persons.get(tenant_id=tenant_id, person_id=request.person_id)
        assert person is not None  # a request is only ever opened on a person of its tenant
        ticket = (
            uow.tickets.get(tenant_id=tenant_id, ticket_id=request.ticket_id) if request.ticket_id else None
        )
        proofs = uow.proofs.list_for_request(tenant_id=tenant_id, request_id=request.id)
        approvals = uow.approvals.list_for_request(tenant_id=tenant_id, request_id=request.id)
        operators = uow.operators.list(tenant_id=tenant_id)
    ranks = ctx.policy.approval_roles
    needed = ranks.get(str(request.decision.get("approvals", {}).get("role", "")), 1 << 30)
    approvers = tuple(
        o
        for o in operators
        if o.active and ranks.get(o.role.value, 0) >= needed and o.id != request.requester_id
    )
    return RequestView(
        request=request,
        person=person,
        ticket=ticket,
        proofs=tuple(sorted(proofs, key=lambda p: p.created_at)),
        approvals=tuple(approvals),
        approvers=approvers,
        phone_recent=_recent(person.phone_last_changed(), ctx.clock.now()),
    )


def _recent(changed: datetime | None, now: datetime) -> bool:
    return changed is not None and now - changed < PHONE_RECENT
