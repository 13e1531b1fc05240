"""Proofs of identity: start one for a request, complete it through a channel the caller can't fake.

- push with number matching: the agent reads a number out; the person confirms it in their
  authenticated portal session (``respond_push``);
- TOTP from the enrolled authenticator: seed sealed at rest, a time step accepted once, attempts
  capped then locked (``submit_totp``);
- call-back to the *registered* number only: automated through the Telephony port (outcome by
  webhook, ``callback_result``) or dialled by the agent from the number shown (``attest_callback``,
  lower strength);
- the person's manager, from the manager's own portal session (``confirm_as_manager``);
- external identity verification: the vendor's link goes to the person's portal and registered
  e-mail, never to the agent (``app.verification_idv``); the verdict by webhook (``idv_result``);
- a one-time code sent to the registered phone by the OTP service, read back to the agent
  (``submit_otp``; the particulars in ``app.verification_otp``);
- knowledge answers are recorded (``record_knowledge``) and never count.
Each completion re-decides the request (``settle``).
"""

from __future__ import annotations

import hmac
from collections.abc import Callable
from dataclasses import replace
from datetime import datetime

from deskguard.app import verification_idv as idv
from deskguard.app import verification_otp as otp
from deskguard.app.access import REQUESTERS, require_operator, require_person
from deskguard.app.context import AppContext
from deskguard.app.outbox import emit
from deskguard.app.requests import live_request, settle
from deskguard.domain.errors import NotFound, ProofRejected
from deskguard.domain.events import SYSTEM, Actor, EventType
from deskguard.domain.model import FactorKind, Person
from deskguard.domain.otp import match_totp
from deskguard.domain.otp_sms import clean_code
from deskguard.domain.ports import UnitOfWork
from deskguard.domain.ports_otp import OtpVerdict
from deskguard.domain.requests import (
    METHOD_CHANNEL,
    METHOD_STRENGTH,
    ActionRequest,
    Proof,
    ProofMethod,
    ProofStatus,
    RequestState,
)

AGENT_STARTABLE = frozenset(
    {
        ProofMethod.PUSH_NUMBER_MATCH,
        ProofMethod.TOTP,
        ProofMethod.CALLBACK_AUTOMATED,
        ProofMethod.CALLBACK_AGENT,
        ProofMethod.MANAGER_CONFIRMATION,
        ProofMethod.EXTERNAL_IDV,
        ProofMethod.OTP_SMS,
    }
)
_COLLECTING = frozenset(
    {RequestState.PENDING_VERIFICATION, RequestState.PENDING_APPROVAL, RequestState.READY}
)


def _useful(request: ActionRequest, method: ProofMethod) -> None:
    """Refuse a proof the decision cannot use: disallowed here, or in no acceptable set."""
    decision = request.decision
    disallowed = decision.get("disallowed_proofs", {})
    if method.value in disallowed:
        raise ProofRejected(
            f"{method.value} cannot count for this request: {disallowed[method.value]}",
            code="proof_rejected.disallowed",
        )
    if not any(method.value in s for s in decision.get("acceptable_proof_sets", [])):
        raise ProofRejected(
            f"{method.value} is not part of any acceptable proof set for this request",
            code="proof_rejected.not_acceptable",
        )


def start_proof(ctx: AppContext, *, actor: Actor, tenant_id: str, request_id: str, method: str) -> Proof:
    require_operator(actor, tenant_id=tenant_id, roles=REQUESTERS)
    try:
        chosen = ProofMethod(method)
    except ValueError:
        raise ProofRejected(
            f"unknown proof method {method!r}", code="proof_rejected.unknown_method", field="method"
        ) from None
    if chosen == ProofMethod.SELF_SERVICE_INITIATED:
        raise ProofRejected(
            "a self-service request is opened by the person from the portal, not started by an agent",
            code="proof_rejected.portal_only",
            field="method",
        )
    if chosen == ProofMethod.KNOWLEDGE:
        raise ProofRejected(
            "knowledge answers are recorded with record_knowledge and never count as proof",
            code="proof_rejected.knowledge",
            field="method",
        )
    with ctx.uow() as uow:
        request = live_request(ctx, uow, tenant_id=tenant_id, request_id=request_id, actor=actor)
        if request.state not in _COLLECTING:
            raise ProofRejected(
                f"request {request.id} is {request.state.value}; it collects no proofs now",
                code="proof_rejected.state",
            )
        _useful(request, chosen)
        earlier = [
            p
            for p in uow.proofs.list_for_request(tenant_id=tenant_id, request_id=request.id)
            if p.method == chosen
        ]
        waiting = [p for p in earlier if p.status == ProofStatus.PENDING and p.expires_at > ctx.clock.now()]
        if any(not otp.supersedable(p) for p in waiting):
            raise ProofRejected(
                f"a {chosen.value} proof is already waiting for an answer on this request",
                code="proof_rejected.already_pending",
            )
        if len(earlier) >= ctx.timeouts.proofs_per_method:
            raise ProofRejected(
                f"{chosen.value} was tried {len(earlier)} times on this request; use another "
                "method or open a new request (a supervisor will see the failures)",
                code="proof_rejected.too_many_attempts",
            )
        person = uow.persons.get(tenant_id=tenant_id, person_id=request.person_id)
        assert person is not None
        link = None  # external_idv: the person's link, stored sealed (app.verification_idv)
        if chosen == ProofMethod.EXTERNAL_IDV:
            fresh = _new_proof(
                ctx, request=request, method=chosen, ttl_expires=ctx.clock.now() + ctx.timeouts.idv
            )
            proof, channel_ref, link = idv.open_session(ctx, request=request, person=person, proof=fresh)
        else:
            proof, channel_ref = _challenge(ctx, uow, request=request, person=person, method=chosen)
        for unconfirmed in waiting:  # a code whose sending was never confirmed: this send replaces it
            uow.proofs.update(otp.superseded(unconfirmed, ctx=ctx))
        uow.proofs.add(proof, channel_ref=channel_ref)
        if link is not None:
            uow.idv_links.add(link)
        emit(
            ctx,
            uow,
            type=EventType.PROOF_STARTED,
            actor=actor,
            tenant_id=tenant_id,
            request_id=request.id,
            person_id=person.id,
            proof_id=proof.id,
            method=chosen.value,
            channel=proof.channel,
            challenge=proof.challenge,
        )
        uow.commit()
    if link is not None:  # after the commit: no e-mail announces a proof that was rolled back
        proof = idv.send_link(ctx, actor=actor, proof=proof, person=person)
    return proof


def _new_proof(
    ctx: AppContext, *, request: ActionRequest, method: ProofMethod, ttl_expires: datetime, **fields: object
) -> Proof:
    return Proof(
        id=ctx.random.new_id("prf"),
        tenant_id=request.tenant_id,
        request_id=request.id,
        method=method,
        channel=METHOD_CHANNEL[method],
        strength=METHOD_STRENGTH[method],
        status=ProofStatus.PENDING,
        created_at=ctx.clock.now(),
        expires_at=ttl_expires,
        max_attempts=ctx.timeouts.proof_attempts,
        **fields,
    )  # type: ignore[arg-type]


def _challenge(
    ctx: AppContext, uow: UnitOfWork, *, request: ActionRequest, person: Person, method: ProofMethod
) -> tuple[Proof, str]:
    now, t = ctx.clock.now(), ctx.timeouts
    if method == ProofMethod.PUSH_NUMBER_MATCH:
        device = person.factor(FactorKind.PORTAL_PUSH)
        if device is None:
            raise ProofRejected(
                f"{person.display_name} has no enrolled portal device for a push",
                code="proof_rejected.no_push_device",
            )
        number = 10 + ctx.random.randbelow(90)
        proof = _new_proof(
            ctx,
            request=request,
            method=method,
            ttl_expires=now + t.push,
            challenge={"number_to_read_out": number, "device": device.label},
            secret_hash=ctx.secrets.mac(str(number), context=f"push:{request.id}"),
        )
        ctx.channels.push.notify(
            tenant_id=request.tenant_id, person_id=person.id, device_factor_id=device.id, proof_id=proof.id
        )
        return proof, ""
    if method == ProofMethod.TOTP:
        factor = person.factor(FactorKind.TOTP)
        if factor is None:
            raise ProofRejected(
                f"{person.display_name} has no enrolled authenticator", code="proof_rejected.no_totp"
            )
        return _new_proof(
            ctx,
            request=request,
            method=method,
            ttl_expires=now + t.totp,
            challenge={"factor_id": factor.id, "factor": factor.label},
        ), ""
    if method in (ProofMethod.CALLBACK_AUTOMATED, ProofMethod.CALLBACK_AGENT):
        phone = person.registered_phone()
        if phone is None:
            raise ProofRejected(
                f"{person.display_name} has no registered phone number", code="proof_rejected.no_phone"
            )
        challenge = {
            "registered_number": phone.number,
            "source": phone.source.value,
            "changed_at": phone.changed_at.isoformat(),
        }
        proof = _new_proof(
            ctx, request=request, method=method, ttl_expires=now + t.callback, challenge=challenge
        )
        if method == ProofMethod.CALLBACK_AGENT:
            return proof, ""
        call_id = ctx.channels.telephony.place_verification_call(
            tenant_id=request.tenant_id,
            to_number=phone.number,
            reference=proof.id,
            spoken_code=str(10 + ctx.random.randbelow(90)),
        )
        return replace(proof, challenge={**challenge, "call_id": call_id}), f"call:{call_id}"
    if method == ProofMethod.OTP_SMS:
        proof = _new_proof(ctx, request=request, method=method, ttl_expires=now + t.otp)
        return otp.send_code(ctx, proof=proof, person=person), ""
    # MANAGER_CONFIRMATION, the last method started here (external_idv: app.verification_idv)
    manager = (
        uow.persons.get(tenant_id=request.tenant_id, person_id=person.manager_id)
        if person.manager_id
        else None
    )
    if manager is None:
        raise ProofRejected(
            f"the directory names no manager for {person.display_name}", code="proof_rejected.no_manager"
        )
    return _new_proof(
        ctx,
        request=request,
        method=method,
        ttl_expires=now + t.manager,
        challenge={"manager_id": manager.id, "manager": manager.display_name},
    ), ""


# --- completion ----------------------------------------------------------------------------------
def _pending(
    ctx: AppContext,
    uow: UnitOfWork,
    *,
    tenant_id: str,
    proof_id: str,
    method: ProofMethod | tuple[ProofMethod, ...],
) -> Proof:
    proof = uow.proofs.get(tenant_id=tenant_id, proof_id=proof_id)
    methods = method if isinstance(method, tuple) else (method,)
    if proof is None or proof.method not in methods:
        raise NotFound(f"proof {proof_id} not found", code="not_found.proof")
    if proof.status != ProofStatus.PENDING:
        raise ProofRejected(
            f"proof {proof.id} is {proof.status.value}; it cannot be answered again",
            code=f"proof_rejected.{proof.status.value}",
        )
    if ctx.clock.now() >= proof.expires_at:
        uow.proofs.update(replace(proof, status=ProofStatus.EXPIRED, failure_reason="expired"))
        uow.commit()
        raise ProofRejected(
            f"proof {proof.id} expired at {proof.expires_at.isoformat()}", code="proof_rejected.expired"
        )
    return proof


def _finish(
    ctx: AppContext,
    uow: UnitOfWork,
    *,
    proof: Proof,
    actor: Actor,
    ok: bool,
    reason: str = "",
    final: bool = False,
    count: bool = True,
) -> Proof:
    """Record an attempt. Success re-decides the request; a failure counts toward the lock.
    ``count=False``: the attempt was counted already (an OTP check whose answer was lost)."""
    now = ctx.clock.now()
    attempts = proof.attempts + (1 if count else 0)
    if ok:
        done = replace(
            proof, status=ProofStatus.SUCCEEDED, attempts=attempts, completed_at=now, attested_by=actor.id
        )
    else:
        locked = final or attempts >= proof.max_attempts
        status = (ProofStatus.FAILED if final else ProofStatus.LOCKED) if locked else ProofStatus.PENDING
        done = replace(
            proof,
            status=status,
            attempts=attempts,
            failure_reason=reason,
            completed_at=now if locked else None,
        )
    uow.proofs.update(done)
    emit(
        ctx,
        uow,
        type=EventType.PROOF_SUCCEEDED if ok else EventType.PROOF_FAILED,
        actor=actor,
        tenant_id=proof.tenant_id,
        request_id=proof.request_id,
        proof_id=proof.id,
        method=proof.method.value,
        attempts=attempts,
        status=done.status.value,
        reason=reason,
    )
    request = live_request(ctx, uow, tenant_id=proof.tenant_id, request_id=proof.request_id, actor=actor)
    if ok:
        settle(ctx, uow, request=request, actor=actor)
    uow.commit()
    if not ok:
        raise ProofRejected(
            f"{reason} ({attempts}/{proof.max_attempts} attempts; proof {done.status.value})",
            code=f"proof_rejected.{done.status.value}",
            details={"attempts": attempts, "status": done.status.value},
        )
    return done


def submit_totp(ctx: AppContext, *, actor: Actor, tenant_id: str, proof_id: str, code: str) -> Proof:
    require_operator(actor, tenant_id=tenant_id, roles=REQUESTERS)
    with ctx.uow() as uow:
        proof = _pending(ctx, uow, tenant_id=tenant_id, proof_id=proof_id, method=ProofMethod.TOTP)
        factor_id = str(proof.challenge["factor_id"])
        sealed = uow.persons.get_totp_seed(tenant_id=tenant_id, factor_id=factor_id)
        if sealed is None:
            return _finish(
                ctx, uow, proof=proof, actor=actor, ok=False, reason="no seed for this factor", final=True
            )
        seed = ctx.secrets.open(sealed, context=f"totp:{tenant_id}:{factor_id}")
        step = match_totp(seed, code.strip(), unix_time=ctx.clock.now().timestamp())
        if step is None:
            return _finish(ctx, uow, proof=proof, actor=actor, ok=False, reason="wrong code")
        if not uow.totp.accept_step(tenant_id=tenant_id, factor_id=factor_id, step=step):
            return _finish(ctx, uow, proof=proof, actor=actor, ok=False, reason="code already used")
        return _finish(ctx, uow, proof=proof, actor=actor, ok=True)


def submit_otp(ctx: AppContext, *, actor: Actor, tenant_id: str, proof_id: str, code: str) -> Proof:
    """The code the person read back from the SMS or call, checked by the OTP service (otp_sms)."""
    require_operator(actor, tenant_id=tenant_id, roles=REQUESTERS)
    given = clean_code(code)
    with ctx.uow() as uow:
        proof = _pending(ctx, uow, tenant_id=tenant_id, proof_id=proof_id, method=ProofMethod.OTP_SMS)
        request = live_request(ctx, uow, tenant_id=tenant_id, request_id=proof.request_id, actor=actor)
        person = uow.persons.get(tenant_id=tenant_id, person_id=request.person_id)
        number = otp.sent_to(ctx, proof=proof, person=person)
        if number is None:
            reason = "the registered phone changed since the code was sent"
            return _finish(
                ctx, uow, proof=proof, actor=actor, ok=False, final=True, count=False, reason=reason
            )
        retry = otp.is_retry(ctx, proof=proof, code=given)
        if not retry and proof.attempts >= proof.max_attempts:  # used up by checks that got no answer
            reason = "no attempt left: earlier checks got no answer"
            return _finish(ctx, uow, proof=proof, actor=actor, ok=False, count=False, reason=reason)
        verdict = otp.check_code(ctx, uow, proof=proof, number=number, code=given, retry=retry)
        done, doubted = otp.cleared(proof), otp.in_doubt(proof)
        if verdict == OtpVerdict.APPROVED:
            return _finish(ctx, uow, proof=done, actor=actor, ok=True, count=not retry)
        return _finish(
            ctx,
            uow,
            proof=done,
            actor=actor,
            ok=False,
            final=verdict != OtpVerdict.WRONG,
            count=not retry,
            reason=otp.failure(verdict, doubted=doubted),
        )


def respond_push(
    ctx: AppContext, *, actor: Actor, tenant_id: str, proof_id: str, approve: bool, number: int | None
) -> Proof:
    """The person answers a push in their portal session: approve with the number, or deny."""
    require_person(actor, tenant_id=tenant_id)
    with ctx.uow() as uow:
        proof = _pending(
            ctx, uow, tenant_id=tenant_id, proof_id=proof_id, method=ProofMethod.PUSH_NUMBER_MATCH
        )
        request = live_request(ctx, uow, tenant_id=tenant_id, request_id=proof.request_id, actor=actor)
        if request.person_id != actor.id:
            raise NotFound(f"proof {proof_id} not found", code="not_found.proof")
        if not approve:
            return _finish(
                ctx,
                uow,
                proof=proof,
                actor=actor,
                ok=False,
                final=True,
                reason="the person denied the push: they did not ask for this",
            )
        expected = proof.secret_hash
        given = ctx.secrets.mac(str(number), context=f"push:{request.id}")
        if not hmac.compare_digest(expected, given):
            return _finish(ctx, uow, proof=proof, actor=actor, ok=False, reason="number did not match")
        return _finish(ctx, uow, proof=proof, actor=actor, ok=True)


Owner = Callable[[str], bool]  # may the vendor account that signed a report settle this tenant's proof?


def _channel_outcome(
    ctx: AppContext,
    *,
    ref: str,
    method: ProofMethod,
    ok: bool,
    failure: str,
    missing: NotFound,
    owner: Owner | None = None,
) -> Proof:
    """A provider reports the outcome of a proof it ran (a call, an identity check). A proof of a
    tenant ``owner`` refuses is ``missing``, word for word: no oracle of another tenant's proofs."""
    with ctx.uow() as uow:
        found = uow.proofs.find_by_channel_ref(ref)
        if found is None or (owner is not None and not owner(found.tenant_id)):
            raise missing
        proof = _pending(ctx, uow, tenant_id=found.tenant_id, proof_id=found.id, method=method)
        return _finish(ctx, uow, proof=proof, actor=SYSTEM, ok=ok, final=not ok, reason="" if ok else failure)


def callback_result(ctx: AppContext, *, call_id: str, confirmed: bool, owner: Owner | None = None) -> Proof:
    """The telephony provider reports the keypad answer of an automated call-back; ``owner`` says
    which tenants' calls the signing account may settle (the webhook routes, by whose secret)."""
    return _channel_outcome(
        ctx,
        owner=owner,
        ref=f"call:{call_id}",
        method=ProofMethod.CALLBACK_AUTOMATED,
        ok=confirmed,
        failure="the person did not confirm on the registered phone",
        missing=NotFound(f"call {call_id} not found", code="not_found.call"),
    )


def attest_callback(
    ctx: AppContext, *, actor: Actor, tenant_id: str, proof_id: str, reached: bool, note: str = ""
) -> Proof:
    """The agent dialled the registered number shown and attests whether the person confirmed."""
    require_operator(actor, tenant_id=tenant_id, roles=REQUESTERS)
    with ctx.uow() as uow:
        proof = _pending(ctx, uow, tenant_id=tenant_id, proof_id=proof_id, method=ProofMethod.CALLBACK_AGENT)
        return _finish(
            ctx,
            uow,
            proof=replace(proof, challenge={**proof.challenge, "note": note[:500]}),
            actor=actor,
            ok=reached,
            final=not reached,
            reason="" if reached else "the person was not reached on the registered number",
        )


def confirm_as_manager(
    ctx: AppContext, *, actor: Actor, tenant_id: str, proof_id: str, confirm: bool
) -> Proof:
    require_person(actor, tenant_id=tenant_id)
    with ctx.uow() as uow:
        proof = _pending(
            ctx, uow, tenant_id=tenant_id, proof_id=proof_id, method=ProofMethod.MANAGER_CONFIRMATION
        )
        if proof.challenge.get("manager_id") != actor.id:
            raise NotFound(f"proof {proof_id} not found", code="not_found.proof")
        return _finish(
            ctx,
            uow,
            proof=proof,
            actor=actor,
            ok=confirm,
            final=not confirm,
            reason="" if confirm else "the manager did not confirm",
        )


def idv_result(ctx: AppContext, *, session_id: str, verified: bool, owner: Owner | None = None) -> Proof:
    """The identity-verification service reports its verdict (``owner``: as in ``callback_result``)."""
    return _channel_outcome(
        ctx,
        owner=owner,
        ref=f"idv:{session_id}",
        method=ProofMethod.EXTERNAL_IDV,
        ok=verified,
        failure="external identity verification failed",
        missing=NotFound(f"verification session {session_id} not found", code="not_found.idv_session"),
    )


def record_knowledge(
    ctx: AppContext, *, actor: Actor, tenant_id: str, request_id: str, topic: str, matched: bool
) -> Proof:
    """Keep, for the file, that the caller answered a knowledge question. It never counts: such
    answers are found by OSINT. The answer itself is not stored."""
    require_operator(actor, tenant_id=tenant_id, roles=REQUESTERS)
    with ctx.uow() as uow:
        request = live_request(ctx, uow, tenant_id=tenant_id, request_id=request_id, actor=actor)
        now = ctx.clock.now()
        proof = replace(
            _new_proof(
                ctx,
                request=request,
                method=ProofMethod.KNOWLEDGE,
                ttl_expires=now,
                challenge={"topic": topic[:80], "note": "never counts as proof"},
            ),
            status=ProofStatus.SUCCEEDED if matched else ProofStatus.FAILED,
            completed_at=now,
            attested_by=actor.id,
            attempts=1,
        )
        uow.proofs.add(proof)
        emit(
            ctx,
            uow,
            type=EventType.PROOF_RECORDED,
            actor=actor,
            tenant_id=tenant_id,
            request_id=request.id,
            person_id=request.person_id,
            proof_id=proof.id,
            method=ProofMethod.KNOWLEDGE.value,
            topic=topic[:80],
            matched=matched,
            counts=False,
        )
        settle(ctx, uow, request=request, actor=actor)
        uow.commit()
    return proof


def pending_for_person(ctx: AppContext, *, actor: Actor, tenant_id: str) -> list[Proof]:
    """The pushes and manager confirmations waiting for this person in the portal — without the
    number to read out: the person must hear it from the agent, or number matching proves nothing."""
    require_person(actor, tenant_id=tenant_id)
    now = ctx.clock.now()
    with ctx.reads() as uow:
        waiting = uow.proofs.pending_for_person(tenant_id=tenant_id, person_id=actor.id)
    return [
        replace(p, challenge={k: v for k, v in p.challenge.items() if k != "number_to_read_out"})
        for p in waiting
        if p.expires_at > now
    ]
