"""API and portal tokens: issued once in clear, stored only as a keyed hash, resolved to an ``Actor``.

A resolved token is remembered for ``ActorCache.ttl`` (5 s, ``app.actor_cache``): every API call
authenticates, and three lookups per call would cost more than the decision itself. A disabled
operator or a revoked token therefore stops working within 5 seconds in a running process, not
instantly (docs/adr/0002).
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime

from deskguard.app.context import AppContext
from deskguard.domain.errors import Unauthenticated
from deskguard.domain.events import Actor, ActorKind
from deskguard.domain.ports import TokenRecord, UnitOfWork

OPERATOR_PREFIX = "dg_op_"
PERSON_PREFIX = "dg_pt_"


def token_hash(ctx: AppContext, token: str) -> str:
    return ctx.secrets.mac(token, context="api-token")


def issue_token(
    ctx: AppContext,
    uow: UnitOfWork,
    *,
    subject_kind: str,
    subject_id: str,
    label: str,
    tenant_id: str | None = None,
    expires_at: datetime | None = None,
) -> str:
    """Create a token; the clear value is returned once and never stored."""
    prefix = OPERATOR_PREFIX if subject_kind == "operator" else PERSON_PREFIX
    token = prefix + ctx.random.token(24)
    uow.tokens.add(
        TokenRecord(
            id=ctx.random.new_id("tok"),
            token_hash=token_hash(ctx, token),
            subject_kind=subject_kind,
            subject_id=subject_id,
            tenant_id=tenant_id,
            label=label,
            created_at=ctx.clock.now(),
            expires_at=expires_at,
        )
    )
    return token


def authenticate(ctx: AppContext, *, token: str, client_ip: str = "", user_agent: str = "") -> Actor:
    if not token.startswith((OPERATOR_PREFIX, PERSON_PREFIX)) or len(token) > 200:
        raise Unauthenticated("invalid token")
    key, now = token_hash(ctx, token), ctx.clock.now()
    cached = ctx.actors.get(key, now=now)
    if cached is None:
        cached, not_after = _resolve(ctx, key=key, now=now)
        ctx.actors.put(key, cached, now=now, not_after=not_after)
    return replace(cached, client_ip=client_ip, user_agent=user_agent)


def _resolve(ctx: AppContext, *, key: str, now: datetime) -> tuple[Actor, datetime | None]:
    with ctx.reads() as uow:
        record = uow.tokens.find(key)
        if record is None or record.revoked or (record.expires_at is not None and record.expires_at <= now):
            raise Unauthenticated("invalid or expired token")
        actor = resolve_subject(
            uow, subject_kind=record.subject_kind, subject_id=record.subject_id, tenant_id=record.tenant_id
        )
        return actor, record.expires_at


def resolve_subject(uow: UnitOfWork, *, subject_kind: str, subject_id: str, tenant_id: str | None) -> Actor:
    """The ``Actor`` an API token or a console session stands for, read afresh: a disabled operator
    or a person gone from the directory is refused."""
    if subject_kind == "operator":
        operator = uow.operators.get(subject_id)
        if operator is None or not operator.active:
            raise Unauthenticated("operator disabled")
        provider = uow.providers.get(operator.provider_id)
        return Actor(
            kind=ActorKind.OPERATOR,
            id=operator.id,
            role=operator.role.value,
            provider_id=operator.provider_id,
            provider_kind=provider.kind.value if provider else "",
            tenant_ids=operator.tenant_ids,
            workstation=operator.workstation,
        )
    if tenant_id is None:
        raise Unauthenticated("a person's credential names their tenant")
    person = uow.persons.get(tenant_id=tenant_id, person_id=subject_id)
    if person is None:
        raise Unauthenticated("person no longer in the directory")
    return Actor(kind=ActorKind.PERSON, id=person.id, role="person", tenant_ids=frozenset({person.tenant_id}))
