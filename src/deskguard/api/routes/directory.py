"""Who am I, the action catalogue, people and tickets: what an agent looks up before asking."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Query

from deskguard.api.deps import Ctx, CurrentActor
from deskguard.api.schemas import PersonOut, TicketIn, TicketOut
from deskguard.app import directory
from deskguard.domain.actions import CATALOGUE

router = APIRouter(prefix="/api/v1", tags=["directory"])


@router.get("/me", summary="The authenticated actor")
def me(actor: CurrentActor) -> dict[str, Any]:
    return {**actor.to_dict(), "tenant_ids": sorted(actor.tenant_ids)}


@router.get("/actions", summary="The action catalogue: risk tier and parameter schema of each action")
def actions() -> list[dict[str, Any]]:
    return [
        {
            "kind": s.kind.value,
            "tier": s.tier.label,
            "summary": s.summary,
            "produces_secret": s.produces_secret,
            "params_schema": s.params.model_json_schema(),
        }
        for s in CATALOGUE.values()
    ]


@router.get("/tenants/{tenant_id}/persons", summary="Find a person by name, e-mail, employee id or phone")
def search(
    tenant_id: str,
    ctx: Ctx,
    actor: CurrentActor,
    q: str = Query(min_length=2, max_length=100),
    limit: int = Query(default=20, ge=1, le=100),
) -> list[PersonOut]:
    return [
        PersonOut.of(p)
        for p in directory.search_persons(ctx, actor=actor, tenant_id=tenant_id, query=q, limit=limit)
    ]


@router.get("/tenants/{tenant_id}/persons/{person_id}", summary="A person's identity card")
def person(tenant_id: str, person_id: str, ctx: Ctx, actor: CurrentActor) -> PersonOut:
    return PersonOut.of(directory.get_person(ctx, actor=actor, tenant_id=tenant_id, person_id=person_id))


@router.post("/tenants/{tenant_id}/tickets", status_code=201, summary="Record the ticket a request serves")
def ticket(tenant_id: str, body: TicketIn, ctx: Ctx, actor: CurrentActor) -> TicketOut:
    return TicketOut.of(
        directory.open_ticket(
            ctx,
            actor=actor,
            tenant_id=tenant_id,
            external_ref=body.external_ref,
            channel=body.channel,
            claimed_identity=body.claimed_identity,
            caller_number=body.caller_number,
        )
    )
