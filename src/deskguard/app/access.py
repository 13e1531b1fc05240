"""Who may do what, checked at the top of every use case.

An operator who does not serve a tenant gets ``NotFound`` for anything in it (never a 403 that
confirms the tenant exists). Roles gate gestures; separation-of-duties checks live with the gesture.
"""

from __future__ import annotations

from collections.abc import Iterable

from deskguard.domain.errors import Forbidden, NotFound
from deskguard.domain.events import Actor, ActorKind
from deskguard.domain.model import OperatorRole, Person

REQUESTERS = frozenset({OperatorRole.AGENT, OperatorRole.SUPERVISOR, OperatorRole.ADMIN})
APPROVERS = frozenset({OperatorRole.SUPERVISOR, OperatorRole.ADMIN})
READERS = frozenset(OperatorRole)


def require_operator(actor: Actor, *, tenant_id: str, roles: Iterable[OperatorRole] = READERS) -> None:
    if actor.kind != ActorKind.OPERATOR or tenant_id not in actor.tenant_ids:
        raise NotFound(f"tenant {tenant_id} not found", code="not_found.tenant")
    allowed = {r.value for r in roles}
    if actor.role not in allowed:
        raise Forbidden(
            f"role {actor.role} may not do this; needs one of {', '.join(sorted(allowed))}",
            code="forbidden.role",
        )


def require_person(actor: Actor, *, tenant_id: str) -> None:
    if actor.kind != ActorKind.PERSON or tenant_id not in actor.tenant_ids:
        raise NotFound(f"tenant {tenant_id} not found", code="not_found.tenant")


def same_human(actor: Actor, person: Person, *, operator_username: str) -> bool:
    """An operator is the same human as a directory person when their username is that e-mail."""
    return actor.kind == ActorKind.OPERATOR and operator_username.lower() == person.email.lower()
