"""A little history for the demo, so that every role finds something on their first visit.

Written once, at the first seed, through the real use cases, exactly as the people would have done it:

- Alice reset the MFA of the fifth person of Acme on a phone ticket: the person approved the push with
  the number Alice read out and confirmed the automated call-back, and Bruno approved. This gives the
  auditor ledger records and the dashboard a month with one verified sensitive action.
- Monday's synthetic identity-provider logs are ingested for Acme (``sim.day``: the vishing attack on
  Jeanne Martin amid a benign day). This gives the analyst a queue with Jeanne's case on top.
"""

from __future__ import annotations

import orjson

from deskguard.app import approvals, directory, execution, verification
from deskguard.app.auth import resolve_subject
from deskguard.app.context import AppContext
from deskguard.app.detection import ingest
from deskguard.app.requests import RequestDraft, open_request
from deskguard.domain.events import Actor
from deskguard.domain.requests import ProofMethod, RequestState
from deskguard.sim.day import build_day

TENANT = "tnt_acme"
PERSON = "per_acme_004"


def _actor(ctx: AppContext, kind: str, subject: str) -> Actor:
    with ctx.reads() as uow:
        tenant = TENANT if kind == "person" else None
        return resolve_subject(uow, subject_kind=kind, subject_id=subject, tenant_id=tenant)


def _verified_reset(ctx: AppContext) -> None:
    alice, bruno = _actor(ctx, "operator", "op_alice"), _actor(ctx, "operator", "op_bruno")
    person = _actor(ctx, "person", PERSON)
    ticket = directory.open_ticket(
        ctx,
        actor=alice,
        tenant_id=TENANT,
        external_ref="INC-20877",
        channel="phone",
        claimed_identity="the person, new phone",
        caller_number="+33612345678",
    )
    request = open_request(
        ctx,
        actor=alice,
        tenant_id=TENANT,
        draft=RequestDraft(
            kind="reset_mfa", person_id=PERSON, ticket_id=ticket.id, justification="new phone, old one wiped"
        ),
    )
    push = verification.start_proof(
        ctx, actor=alice, tenant_id=TENANT, request_id=request.id, method=ProofMethod.PUSH_NUMBER_MATCH.value
    )
    verification.respond_push(
        ctx,
        actor=person,
        tenant_id=TENANT,
        proof_id=push.id,
        approve=True,
        number=int(push.challenge["number_to_read_out"]),
    )
    call = verification.start_proof(
        ctx, actor=alice, tenant_id=TENANT, request_id=request.id, method=ProofMethod.CALLBACK_AUTOMATED.value
    )
    verification.callback_result(ctx, call_id=str(call.challenge["call_id"]), confirmed=True)
    decided = approvals.decide_approval(
        ctx,
        actor=bruno,
        tenant_id=TENANT,
        request_id=request.id,
        verdict="approve",
        comment="push and call-back confirmed",
    )
    if decided.state != RequestState.READY:
        raise RuntimeError(
            f"the demo's verified reset is {decided.state.value}, not ready: the policy changed"
        )
    execution.execute_request(ctx, actor=alice, tenant_id=TENANT, request_id=request.id)


def _monday(ctx: AppContext) -> None:
    anna = _actor(ctx, "operator", "op_anna")
    for name, records in sorted(build_day().items()):
        body = b"\n".join(orjson.dumps(record) for record in records)
        source = "okta" if name.startswith("okta") else None  # the others are recognised by their shape
        ingest(ctx, actor=anna, tenant_id=TENANT, source=source, body=body)


def seed_history(ctx: AppContext) -> None:
    _verified_reset(ctx)
    _monday(ctx)
