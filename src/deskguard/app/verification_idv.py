"""The ``external_idv`` proof's link: the vendor's check reaches the person, and only the person.

``app.verification.start_proof`` starts the proof; this module holds what is particular to it
(ADR 0016):

- ``open_session`` (inside the start's transaction) asks the ``IdentityVerification`` port for a
  session. Its id goes in the proof's challenge (the webhook's verdict names it); the person's URL
  does not: the challenge is what the agent's screen, the API, the outbox and the ledger carry, and
  a bearer link seen by the agent could be handed to the caller — or used by the agent in the
  person's place. The URL is stored sealed (``IdvLink``), bound to the proof, with its expiry: the
  vendor's when it gives one, never later than the proof's.
- ``send_link`` (after the commit, so that no e-mail announces a proof that was rolled back) e-mails
  the link to the person's *registered* address — the enrolled recovery e-mail, else the work
  e-mail, both from the directory; there is no way for the agent to give one. This is the fallback
  for a person not signed in to the portal (a reset caller often cannot reach their work mailbox,
  hence the recovery address first). The outcome is recorded on the proof (``email``: sent or
  failed) and as ``secret.delivered`` / ``secret.delivery_failed`` (kind ``identity_check_link``),
  without the URL. A failed e-mail leaves the proof pending: the portal still shows the link.
- ``identity_checks`` is the portal's view: the person's pending checks with the request, the agent
  who opened it, the link (opened here, for this person only) and its expiry.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime

import structlog

from deskguard.app.access import require_person
from deskguard.app.context import AppContext
from deskguard.app.outbox import emit
from deskguard.app.requests import load_request
from deskguard.domain.actions import spec_for
from deskguard.domain.errors import ConnectorError, ConnectorTimeout
from deskguard.domain.events import Actor, EventType
from deskguard.domain.model import FactorKind, Person
from deskguard.domain.ports import UnitOfWork
from deskguard.domain.ports_idv import IdvLink, link_context, masked_email
from deskguard.domain.requests import ActionRequest, Proof

log = structlog.get_logger("deskguard.verification_idv")

KIND = "identity_check_link"  # the secret.delivered kind
SENT, FAILED, PENDING, NO_ADDRESS = "sent", "failed", "pending", "no_address"


def registered_email(person: Person) -> tuple[str, str]:
    """Where the link is e-mailed, from the directory only: (address, channel); ("", "") when none."""
    recovery = person.factor(FactorKind.RECOVERY_EMAIL)
    if recovery is not None and recovery.address:
        return recovery.address, "recovery_email"
    if person.email:
        return person.email, "work_email"
    return "", ""


def open_session(
    ctx: AppContext, *, request: ActionRequest, person: Person, proof: Proof
) -> tuple[Proof, str, IdvLink]:
    """The proof to store (challenge without the URL), its channel reference, and the sealed link."""
    session = ctx.channels.idv.start(tenant_id=request.tenant_id, person=person, reference=request.id)
    if not session.url:
        raise ConnectorError(f"the identity verification gave no link for session {session.session_id}")
    expires = proof.expires_at if session.expires_at is None else min(session.expires_at, proof.expires_at)
    address, _ = registered_email(person)
    challenge = {
        "session_id": session.session_id,
        "link_sent_to": "portal+email" if address else "portal",
        "email": PENDING if address else NO_ADDRESS,
        "email_to": masked_email(address) if address else "",
        "link_expires_at": expires.isoformat(),
    }
    link = IdvLink(
        tenant_id=request.tenant_id,
        proof_id=proof.id,
        person_id=person.id,
        sealed_url=ctx.secrets.seal(
            session.url.encode(), context=link_context(tenant_id=request.tenant_id, proof_id=proof.id)
        ),
        created_at=ctx.clock.now(),
        expires_at=expires,
    )
    return replace(proof, challenge=challenge), f"idv:{session.session_id}", link


def _url(ctx: AppContext, link: IdvLink) -> str:
    context = link_context(tenant_id=link.tenant_id, proof_id=link.proof_id)
    return ctx.secrets.open(link.sealed_url, context=context).decode()


def _message(*, request: ActionRequest, opened_by: str, url: str, expires_at: datetime) -> tuple[str, str]:
    what = spec_for(request.kind).summary.lower()
    who = f"{opened_by} of the IT helpdesk" if opened_by else "the IT helpdesk"
    subject = "deskguard: verify your identity for the IT helpdesk"
    text = (
        f"{who} opened a request on your account ({what}) at "
        f"{request.created_at.strftime('%Y-%m-%d %H:%M')} UTC and asks you to verify your identity: "
        "a photo of an identity document and a selfie, with our verification provider.\n\n"
        f"Open this link yourself, on your own phone or computer:\n{url}\n\n"
        f"It works until {expires_at.strftime('%Y-%m-%d %H:%M')} UTC. It is also in your employee portal.\n"
        "Never read this link out or send it to anyone, the helpdesk included: nobody from IT will ever "
        "ask you for it. If you did not contact the helpdesk, do not open it: open the portal and press "
        '"This wasn\'t me" on the request, or call the security team.'
    )
    return subject, text


def _opened_by(uow: UnitOfWork, request: ActionRequest) -> str:
    if request.requester_id == request.person_id:
        return ""
    operator = uow.operators.get(request.requester_id)
    return operator.display_name if operator is not None else ""


def send_link(ctx: AppContext, *, actor: Actor, proof: Proof, person: Person) -> Proof:
    """E-mail the committed proof's link to the person's registered address; the proof as recorded."""
    address, channel = registered_email(person)
    if not address:
        return proof
    with ctx.reads() as uow:
        link = uow.idv_links.get(tenant_id=proof.tenant_id, proof_id=proof.id)
        request = load_request(uow, tenant_id=proof.tenant_id, request_id=proof.request_id)
        opened_by = _opened_by(uow, request)
    if link is None:
        return proof
    subject, text = _message(
        request=request, opened_by=opened_by, url=_url(ctx, link), expires_at=link.expires_at
    )
    outcome: dict[str, str] = {"delivered_to": channel, "kind": KIND}
    try:
        outcome["reference"] = ctx.channels.response_notifier.send(
            tenant_id=proof.tenant_id,
            channel="email",
            to=address,
            subject=subject,
            text=text,
            idempotency_key=f"{proof.id}:idv-link",
        )
    except (ConnectorError, ConnectorTimeout, OSError) as exc:
        # the error's type only: a relay's words could quote the message, and so the link
        log.warning("idv_link_email_failed", proof_id=proof.id, error=type(exc).__name__)
        outcome["failed"] = type(exc).__name__
    with ctx.uow() as uow:
        current = uow.proofs.get(tenant_id=proof.tenant_id, proof_id=proof.id) or proof
        done = replace(
            current, challenge={**current.challenge, "email": FAILED if "failed" in outcome else SENT}
        )
        # the challenge alone: a verdict settled during the SMTP call keeps its status (this module is
        # the challenge's only writer once the proof is started)
        uow.proofs.set_challenge(tenant_id=proof.tenant_id, proof_id=proof.id, challenge=done.challenge)
        emit(
            ctx,
            uow,
            type=EventType.SECRET_DELIVERY_FAILED if "failed" in outcome else EventType.SECRET_DELIVERED,
            actor=actor,
            tenant_id=proof.tenant_id,
            request_id=proof.request_id,
            person_id=person.id,
            proof_id=proof.id,
            **outcome,
        )
        uow.commit()
    return done


@dataclass(frozen=True, slots=True)
class IdentityCheck:
    """A pending identity check of the signed-in person, for their portal."""

    proof: Proof
    request: ActionRequest
    opened_by: str  # the agent's display name; "" when the person opened the request
    expires_at: datetime
    url: str = field(repr=False)  # the person's link, opened for them only


def identity_checks(ctx: AppContext, *, actor: Actor, tenant_id: str) -> list[IdentityCheck]:
    """The identity checks waiting for this person: pending, unexpired, on a live request of theirs."""
    require_person(actor, tenant_id=tenant_id)
    now = ctx.clock.now()
    found: list[IdentityCheck] = []
    with ctx.reads() as uow:
        for link in uow.idv_links.pending_for_person(tenant_id=tenant_id, person_id=actor.id, now=now):
            proof = uow.proofs.get(tenant_id=tenant_id, proof_id=link.proof_id)
            request = proof and load_request(uow, tenant_id=tenant_id, request_id=proof.request_id)
            if proof is None or request is None or request.terminal or request.person_id != actor.id:
                continue
            found.append(
                IdentityCheck(
                    proof=proof,
                    request=request,
                    opened_by=_opened_by(uow, request),
                    expires_at=link.expires_at,
                    url=_url(ctx, link),
                )
            )
    return found
