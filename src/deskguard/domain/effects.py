"""What an executed action changes in deskguard's copy of the directory.

The identity provider is authoritative; deskguard mirrors the effect at once so that the next
decision sees it (a phone changed today makes a call-back unacceptable tomorrow).
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from typing import Any

from deskguard.domain.actions import ActionKind
from deskguard.domain.model import Factor, FactorKind, Person, Phone, PhoneSource


def apply_effect(
    person: Person, *, kind: ActionKind, params: dict[str, Any], result: dict[str, Any], now: datetime
) -> Person:
    match kind:
        case ActionKind.UNLOCK_ACCOUNT:
            return replace(person, locked=False)
        case ActionKind.RESET_MFA:
            return replace(
                person, factors=tuple(f for f in person.factors if f.kind == FactorKind.RECOVERY_EMAIL)
            )
        case ActionKind.REMOVE_FACTOR:
            return replace(person, factors=tuple(f for f in person.factors if f.id != params["factor_id"]))
        case ActionKind.ENROLL_FACTOR:
            factor = Factor(
                id=str(result.get("factor_enrolled", "")),
                kind=FactorKind(params["kind"]),
                label=params["label"],
                enrolled_at=now,
            )
            return replace(person, factors=(*person.factors, factor))
        case ActionKind.CHANGE_PHONE:
            phone = Phone(
                number=params["new_number"], kind=params["kind"], source=PhoneSource.HELPDESK, changed_at=now
            )
            return replace(person, phones=(phone,))
        case ActionKind.CHANGE_RECOVERY_EMAIL:
            kept = tuple(f for f in person.factors if f.kind != FactorKind.RECOVERY_EMAIL)
            email = Factor(
                id=f"{person.id}-recovery",
                kind=FactorKind.RECOVERY_EMAIL,
                label="recovery e-mail",
                enrolled_at=now,
                address=params["new_email"],
            )
            return replace(person, factors=(*kept, email))
        case ActionKind.GRANT_PRIVILEGE:
            return replace(person, groups=person.groups | {params["group"]})
    return person
