"""Finding people and opening tickets: what the agent does before asking for an action."""

from __future__ import annotations

from collections.abc import Sequence

from deskguard.app.access import REQUESTERS, require_operator
from deskguard.app.context import AppContext
from deskguard.app.outbox import emit
from deskguard.domain.errors import NotFound, ValidationFailed
from deskguard.domain.events import Actor, EventType
from deskguard.domain.model import Person, Tenant, Ticket, TicketChannel


def tenants_of(ctx: AppContext, *, actor: Actor) -> Sequence[Tenant]:
    """The tenants the actor serves (an operator) or belongs to (a person), by name."""
    with ctx.reads() as uow:
        found = [uow.tenants.get(tenant_id) for tenant_id in actor.tenant_ids]
    return sorted((t for t in found if t is not None), key=lambda t: t.name)


def search_persons(
    ctx: AppContext, *, actor: Actor, tenant_id: str, query: str, limit: int = 20
) -> Sequence[Person]:
    require_operator(actor, tenant_id=tenant_id)
    if len(query.strip()) < 2:
        raise ValidationFailed("search needs at least 2 characters", field="q")
    with ctx.reads() as uow:
        return uow.persons.search(tenant_id=tenant_id, query=query.strip(), limit=min(limit, 100))


def get_person(ctx: AppContext, *, actor: Actor, tenant_id: str, person_id: str) -> Person:
    require_operator(actor, tenant_id=tenant_id)
    with ctx.reads() as uow:
        person = uow.persons.get(tenant_id=tenant_id, person_id=person_id)
    if person is None:
        raise NotFound(f"person {person_id} not found", code="not_found.person")
    return person


def open_ticket(
    ctx: AppContext,
    *,
    actor: Actor,
    tenant_id: str,
    external_ref: str,
    channel: str,
    claimed_identity: str = "",
    caller_number: str = "",
) -> Ticket:
    require_operator(actor, tenant_id=tenant_id, roles=REQUESTERS)
    try:
        chosen = TicketChannel(channel)
    except ValueError:
        known = ", ".join(c.value for c in TicketChannel)
        raise ValidationFailed(f"channel must be one of {known}", field="channel") from None
    if not external_ref.strip() or len(external_ref) > 128:
        raise ValidationFailed("external_ref must be 1-128 characters", field="external_ref")
    ticket = Ticket(
        id=ctx.random.new_id("tkt"),
        tenant_id=tenant_id,
        external_ref=external_ref.strip(),
        channel=chosen,
        claimed_identity=claimed_identity[:200],
        caller_number=caller_number[:32],
        opened_at=ctx.clock.now(),
        opened_by=actor.id,
    )
    with ctx.uow() as uow:
        uow.tickets.add(ticket)
        emit(
            ctx,
            uow,
            type=EventType.TICKET_OPENED,
            actor=actor,
            tenant_id=tenant_id,
            ticket_id=ticket.id,
            external_ref=ticket.external_ref,
            channel=chosen.value,
            claimed_identity=ticket.claimed_identity,
            caller_number=ticket.caller_number,
        )
        uow.commit()
    return ticket
