"""External identity verification: the session a vendor opens, and the person's link to it.

The ``IdentityVerification`` port (``domain.ports``) answers ``start`` with an ``IdvSession``: the
vendor's session id (the verdict's webhook names it) and the *person-facing* URL where the document
and selfie check is done (Veriff's ``verification.url``), with its expiry when the vendor gives one.

That URL is a bearer link: whoever opens it takes the check. It goes to the person only — their
employee portal and their registered e-mail — never to the agent, who could otherwise hand it to a
caller or take it in their place. So it is never part of the proof's challenge (which the agent,
the outbox and the ledger see): it is kept sealed at rest (``IdvLink.sealed_url``, AES-GCM under the
master key, bound to the proof) and opened only to render the person's portal or write their e-mail
(``app.verification_idv``). ``IdvSession``'s ``repr`` leaves it out, so a log line cannot carry it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol

MASK = "•"


@dataclass(frozen=True, slots=True, kw_only=True)
class IdvSession:
    session_id: str  # the vendor's id; 1 to 64 characters (the webhook's session_id)
    url: str = field(repr=False)  # the person's link: a secret, never logged nor shown to the agent
    expires_at: datetime | None = None  # the link's end when the vendor says; None: it does not say


@dataclass(frozen=True, slots=True, kw_only=True)
class IdvLink:
    """The person's link of a pending ``external_idv`` proof, as stored: the URL sealed."""

    tenant_id: str
    proof_id: str
    person_id: str  # whose portal shows it: the request's target
    sealed_url: bytes = field(repr=False)  # SecretBox.seal(url, context=link_context(...))
    created_at: datetime
    expires_at: datetime  # the earlier of the vendor's expiry and the proof's


def link_context(*, tenant_id: str, proof_id: str) -> str:
    """The sealing context: a sealed URL opens only for the proof it was stored with."""
    return f"idv_link:{tenant_id}:{proof_id}"


class IdvLinkRepository(Protocol):
    def add(self, link: IdvLink) -> None: ...

    def get(self, *, tenant_id: str, proof_id: str) -> IdvLink | None: ...

    def pending_for_person(self, *, tenant_id: str, person_id: str, now: datetime) -> Sequence[IdvLink]:
        """The links of this person's proofs still pending and unexpired at ``now``, oldest first."""
        ...


def masked_email(address: str) -> str:
    """``jean.martin@acme.example`` -> ``j•••@acme.example``: enough for the caller to recognise it."""
    local, at, domain = address.strip().rpartition("@")
    if not at or not local:
        return MASK * 3
    return f"{local[0]}{MASK * 3}@{domain}"
