"""The ``otp_sms`` proof: a one-time code sent to the *registered* phone, read back to the agent.

``app.verification`` starts and completes it (``start_proof``, ``submit_otp``); this module holds
what is particular to it (ADR 0013):

- the destination is the registered phone of the directory, never a number the agent gives; the
  agent sees it masked. A MAC of it is kept (``secret_hash``): if the registered phone changes
  between the send and the check, the proof fails rather than check a code sent elsewhere;
- a send whose answer was lost (``ConnectorTimeout``) leaves the proof pending with
  ``delivery: unconfirmed``: the code may have arrived, and Verify can check it by number. Such a
  proof may be superseded by a new send (Verify then resends the same open code);
- a check whose answer was lost leaves the proof pending and records a MAC of the code "in doubt",
  counted once. The agent retrying the *same* code is not counted again; a different code is.
  Verify deletes a verification once approved, so a retry may find it gone: the proof then fails
  (fail closed, never "probably approved") and the agent sends a new code.
"""

from __future__ import annotations

import hmac
from dataclasses import replace

from deskguard.app.context import AppContext
from deskguard.domain.errors import ConnectorTimeout, ProofRejected
from deskguard.domain.model import Person
from deskguard.domain.otp_sms import masked_number
from deskguard.domain.ports import UnitOfWork
from deskguard.domain.ports_otp import OtpVerdict
from deskguard.domain.requests import Proof, ProofMethod, ProofStatus

UNCONFIRMED = "unconfirmed"
FAILURES = {
    OtpVerdict.WRONG: "wrong code",
    OtpVerdict.GONE: "the code service no longer holds this code (expired, already used, or too many "
    "checks): send a new code",
    OtpVerdict.LOCKED: "the code service locked this code after too many wrong tries",
}


def _to_mac(ctx: AppContext, *, request_id: str, number: str) -> str:
    return ctx.secrets.mac(number, context=f"otp_to:{request_id}")


def send_code(ctx: AppContext, *, proof: Proof, person: Person) -> Proof:
    """Send the code to the registered phone; the proof as it is to be stored (still pending)."""
    phone = person.registered_phone()
    if phone is None:
        raise ProofRejected(
            f"{person.display_name} has no registered phone number", code="proof_rejected.no_phone"
        )
    challenge = {
        "registered_number_masked": masked_number(phone.number),
        "source": phone.source.value,
        "changed_at": phone.changed_at.isoformat(),
    }
    proof = replace(proof, secret_hash=_to_mac(ctx, request_id=proof.request_id, number=phone.number))
    try:
        sent = ctx.channels.otp.send(tenant_id=proof.tenant_id, to_number=phone.number, reference=proof.id)
    except ConnectorTimeout as exc:
        note = f"{exc.message}; ask whether a code arrived: if it did, enter it, if not, send again"
        return replace(proof, challenge={**challenge, "delivery": UNCONFIRMED, "note": note})
    return replace(
        proof,
        challenge={
            **challenge,
            "delivery": "sent",
            "channel": sent.channel,
            "verification_id": sent.verification_id,
        },
    )


def supersedable(proof: Proof) -> bool:
    """A pending code whose sending was never confirmed: a new send may replace it."""
    return (
        proof.method == ProofMethod.OTP_SMS
        and proof.status == ProofStatus.PENDING
        and proof.challenge.get("delivery") == UNCONFIRMED
    )


def superseded(proof: Proof, *, ctx: AppContext) -> Proof:
    return replace(
        proof,
        status=ProofStatus.EXPIRED,
        completed_at=ctx.clock.now(),
        failure_reason="superseded by a new send (the earlier one was never confirmed)",
    )


def sent_to(ctx: AppContext, *, proof: Proof, person: Person | None) -> str | None:
    """The registered number the code went to, or None when the registered phone changed since."""
    phone = person.registered_phone() if person is not None else None
    if phone is None:
        return None
    expected = proof.secret_hash.partition("|")[0]
    given = _to_mac(ctx, request_id=proof.request_id, number=phone.number)
    return phone.number if hmac.compare_digest(expected, given) else None


def _fingerprint(ctx: AppContext, *, proof: Proof, code: str) -> str:
    # 128 bits: beside the number's MAC it fits ``secret_hash`` (128 characters)
    return ctx.secrets.mac(code, context=f"otp_check:{proof.id}")[:32]


def in_doubt(proof: Proof) -> bool:
    return bool(proof.secret_hash.partition("|")[2])


def is_retry(ctx: AppContext, *, proof: Proof, code: str) -> bool:
    """Whether ``code`` is the one of a check whose answer was lost (already counted)."""
    doubt = proof.secret_hash.partition("|")[2]
    return bool(doubt) and hmac.compare_digest(doubt, _fingerprint(ctx, proof=proof, code=code))


def cleared(proof: Proof) -> Proof:
    """The proof without its check in doubt: the service gave a verdict."""
    return replace(proof, secret_hash=proof.secret_hash.partition("|")[0])


def check_code(
    ctx: AppContext, uow: UnitOfWork, *, proof: Proof, number: str, code: str, retry: bool
) -> OtpVerdict:
    """The service's verdict. A lost answer is recorded (counted once), committed, and re-raised."""
    try:
        return ctx.channels.otp.check(
            tenant_id=proof.tenant_id,
            to_number=number,
            verification_id=str(proof.challenge.get("verification_id", "")),
            code=code,
        )
    except ConnectorTimeout as exc:
        doubt = f"{cleared(proof).secret_hash}|{_fingerprint(ctx, proof=proof, code=code)}"
        uow.proofs.update(replace(proof, attempts=proof.attempts + (0 if retry else 1), secret_hash=doubt))
        uow.commit()
        raise ConnectorTimeout(
            f"{exc.message}. The proof stays pending: enter the same code again to retry it "
            "(it is not counted twice)",
            code=exc.code,
        ) from None


def failure(verdict: OtpVerdict, *, doubted: bool) -> str:
    reason = FAILURES[verdict]
    if verdict == OtpVerdict.GONE and doubted:
        reason += " (an earlier check whose answer was lost may have used it)"
    return reason
