"""The evidence ledger's use cases: records from events, signed checkpoints, verification, export.

Every domain event becomes one ledger record in the same transaction (``record_for`` is called by
``app.outbox.emit``). A record is the event envelope canonicalised with RFC 8785, in which values
that identify people or places (phone numbers, e-mail addresses, client addresses, free text about
the caller) are replaced by keyed HMACs: searchable by whoever holds the key, unreadable to anyone
handed the bundle. Secrets never reach an event in the first place.

Checkpoints are C2SP signed notes over each tenant's log, signed with a per-tenant Ed25519 key that
is generated on first use and stored sealed under the master key; retired keys stay verifiable.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from deskguard.app.access import require_operator
from deskguard.app.context import AppContext
from deskguard.audit.bundle import FORMAT as BUNDLE_FORMAT_NAME
from deskguard.audit.bundle import pruned_marker
from deskguard.audit.checkpoint import Checkpoint, Keyring, TrustedKey
from deskguard.audit.jcs import canonicalize
from deskguard.audit.merkle import inclusion_proof, root_hash
from deskguard.audit.note import Signer, Verifier, generate_signer, sign_note
from deskguard.audit.verify import LogRecord, Report, verify_log
from deskguard.domain.errors import NotFound, ValidationFailed
from deskguard.domain.events import Actor, DomainEvent
from deskguard.domain.model import OperatorRole
from deskguard.domain.ports import (
    AuditRecord,
    RecordQuery,
    StoredCheckpoint,
    StoredKey,
    StoredRecord,
    UnitOfWork,
)

#: keys whose string values are identifying and are kept only as keyed HMACs in the ledger
IDENTIFYING = frozenset(
    {
        "client_ip",
        "user_agent",
        "caller_number",
        "registered_number",
        "new_number",
        "new_email",
        "claimed_identity",
        "note",
    }
)


def _mask(ctx: AppContext, value: Any, *, key: str) -> Any:
    if isinstance(value, str) and value:
        return "hmac-sha256:" + ctx.secrets.mac(value, context=f"audit:{key}")
    return value


def _scrub(ctx: AppContext, value: Any) -> Any:
    if isinstance(value, dict):
        return {k: (_mask(ctx, v, key=k) if k in IDENTIFYING else _scrub(ctx, v)) for k, v in value.items()}
    if isinstance(value, list):
        return [_scrub(ctx, v) for v in value]
    return value


def record_for(ctx: AppContext, event: DomainEvent) -> AuditRecord:
    """The ledger record of one event (called inside the event's transaction)."""
    return AuditRecord(
        tenant_id=event.tenant_id,
        event_id=event.id,
        type=event.type.value,
        occurred_at=event.occurred_at,
        actor_id=event.actor.id,
        person_id=event.person_id,
        request_id=event.request_id,
        ticket_id=event.data.get("ticket_id"),  # ticket.opened and request.opened name it
        canonical=canonicalize(_scrub(ctx, event.envelope())),
    )


def origin_of(ctx: AppContext, tenant_id: str) -> str:
    return f"{ctx.ledger_origin}/tenants/{tenant_id}"


def _keyring(ctx: AppContext, keys: list[StoredKey], *, tenant_id: str) -> Keyring:
    return Keyring(
        origin_of(ctx, tenant_id),
        tuple(
            TrustedKey(Verifier.from_text(k.verifier), not_before=k.not_before, not_after=k.not_after)
            for k in keys
        ),
    )


def _signer(ctx: AppContext, uow: UnitOfWork, *, tenant_id: str) -> Signer:
    """The tenant's active signing key, created (and stored sealed) on first use."""
    active = [k for k in uow.ledger.keys(tenant_id=tenant_id) if k.not_after is None]
    context = f"audit-key:{tenant_id}"
    if active:
        return Signer.from_text(ctx.secrets.open(active[-1].sealed_signer, context=context).decode())
    signer_text, verifier_text = generate_signer(origin_of(ctx, tenant_id))
    verifier = Verifier.from_text(verifier_text)
    uow.ledger.add_key(
        StoredKey(
            tenant_id=tenant_id,
            key_id=f"{verifier.key_id:08x}",
            verifier=verifier_text,
            sealed_signer=ctx.secrets.seal(signer_text.encode(), context=context),
            not_before=ctx.clock.now(),
        )
    )
    return Signer.from_text(signer_text)


def sign_checkpoint(ctx: AppContext, *, tenant_id: str) -> StoredCheckpoint | None:
    """Sign the tenant's log at its current size (nothing new since the last checkpoint: no-op).

    The signed note is then handed to the witness (published outside the database), so that a
    rewritten log is caught by anyone holding an earlier checkpoint."""
    with ctx.uow() as uow:
        size = uow.ledger.size(tenant_id=tenant_id)
        existing = uow.ledger.checkpoints(tenant_id=tenant_id)
        if size == 0 or (existing and existing[-1].size == size):
            return existing[-1] if existing else None
        root = root_hash(uow.ledger.nodes(tenant_id=tenant_id), size=size)
        note = sign_note(
            Checkpoint(origin=origin_of(ctx, tenant_id), size=size, root=root).body(),
            _signer(ctx, uow, tenant_id=tenant_id),
        )
        checkpoint = StoredCheckpoint(
            tenant_id=tenant_id, size=size, root=root, note=note, signed_at=ctx.clock.now()
        )
        uow.ledger.add_checkpoint(checkpoint)
        uow.commit()
    if ctx.witness is not None:
        ctx.witness.publish(tenant_id=tenant_id, note=note)
    return checkpoint


def sign_due_checkpoints(
    ctx: AppContext, *, every_records: int, every_seconds: float
) -> list[StoredCheckpoint]:
    """Sign each tenant whose log grew by ``every_records`` since its last checkpoint, or grew at all
    and whose last checkpoint is older than ``every_seconds``."""
    now = ctx.clock.now()
    due: list[str] = []
    with ctx.reads() as uow:
        for tenant_id in uow.ledger.tenants():
            size = uow.ledger.size(tenant_id=tenant_id)
            last = (uow.ledger.checkpoints(tenant_id=tenant_id) or [None])[-1]
            grown = size - (last.size if last else 0)
            old = last is None or (now - last.signed_at).total_seconds() >= every_seconds
            if grown >= every_records or (grown > 0 and old):
                due.append(tenant_id)
    return [cp for t in due if (cp := sign_checkpoint(ctx, tenant_id=t)) is not None]


def verify_tenant(ctx: AppContext, *, tenant_id: str, extra_checkpoints: tuple[str, ...] = ()) -> Report:
    """Recompute the tenant's whole log from its records and check it against every checkpoint
    deskguard knows (its own, and those held elsewhere, e.g. the witness file). Records stream page
    by page inside one read transaction: memory stays flat whatever the size of the log."""
    with ctx.reads() as uow:
        keyring = _keyring(ctx, list(uow.ledger.keys(tenant_id=tenant_id)), tenant_id=tenant_id)
        notes = [c.note for c in uow.ledger.checkpoints(tenant_id=tenant_id)] + list(extra_checkpoints)
        return verify_log(records=_iter_records(uow, tenant_id=tenant_id), checkpoints=notes, keyring=keyring)


def _iter_records(uow: UnitOfWork, *, tenant_id: str, page: int = 5000) -> Iterator[LogRecord]:
    start = 0
    while batch := uow.ledger.records(tenant_id=tenant_id, start=start, limit=page):
        for r in batch:
            yield LogRecord(
                index=r.index,
                canonical=None if r.pruned_at else r.record.canonical,
                stored_leaf_hash=r.leaf_hash,
            )
        start = batch[-1].index + 1
        if len(batch) < page:
            return


def rotate_key(ctx: AppContext, *, tenant_id: str) -> str | None:
    """Retire the tenant's signing key now; the next checkpoint is signed with a new one. Old
    checkpoints stay verifiable (the retired verifier stays in the keyring). Returns the retired id."""
    with ctx.uow() as uow:
        active = [k for k in uow.ledger.keys(tenant_id=tenant_id) if k.not_after is None]
        for key in active:
            uow.ledger.retire_key(tenant_id=tenant_id, key_id=key.key_id, at=ctx.clock.now())
        uow.commit()
    return active[-1].key_id if active else None


AUDIT_READERS = (OperatorRole.AUDITOR, OperatorRole.ADMIN, OperatorRole.ANALYST)


def search_records(
    ctx: AppContext, *, actor: Actor, tenant_id: str, query: RecordQuery
) -> list[dict[str, Any]]:
    """The auditor's search over one tenant's records, in log order, ``after`` an index (pagination)."""
    require_operator(actor, tenant_id=tenant_id, roles=AUDIT_READERS)
    with ctx.reads() as uow:
        found = uow.ledger.search(tenant_id=tenant_id, query=query)
    return [
        {"index": r.index, "leaf_hash": r.leaf_hash.hex(), "record": json.loads(r.record.canonical)}
        for r in found
    ]


def tenant_checkpoints(ctx: AppContext, *, actor: Actor, tenant_id: str) -> dict[str, Any]:
    """The tenant's signed checkpoints and every key that ever signed them: what a client pins."""
    require_operator(actor, tenant_id=tenant_id, roles=AUDIT_READERS)
    with ctx.reads() as uow:
        found = uow.ledger.checkpoints(tenant_id=tenant_id)
        keys = uow.ledger.keys(tenant_id=tenant_id)
    return {
        "origin": origin_of(ctx, tenant_id),
        "checkpoints": [
            {"size": c.size, "root": c.root.hex(), "signed_at": c.signed_at.isoformat(), "note": c.note}
            for c in found
        ],
        "keys": [
            {
                "verifier": k.verifier,
                "not_before": k.not_before.isoformat(),
                "not_after": k.not_after.isoformat() if k.not_after else None,
            }
            for k in keys
        ],
    }


@dataclass(frozen=True, slots=True)
class Bundle:
    """What a client is handed: records, checkpoints, keys; written out by the CLI."""

    files: dict[str, str]


def bundle_line(record: LogRecord) -> str:
    """A record as a bundle line: its canonical bytes, or, once pruned, the marker with its hash."""
    if record.canonical is None:
        return pruned_marker(record.stored_leaf_hash or b"")
    return record.canonical.decode()


def prune(ctx: AppContext, *, tenant_id: str, older_than: timedelta) -> int:
    """Retention: drop the content of the tenant's records older than ``older_than``. Their leaf and
    subtree hashes stay, so the log still verifies end to end, and whoever kept a pruned record (an
    earlier bundle) can still prove it was logged at its index; the record itself is gone."""
    if older_than <= timedelta(0):
        raise ValidationFailed("older_than must be positive", field="older_than")
    now = ctx.clock.now()
    with ctx.uow() as uow:
        count = uow.ledger.prune(tenant_id=tenant_id, before=now - older_than, at=now)
        uow.commit()
    return count


def export_bundle(
    ctx: AppContext, *, tenant_id: str, since: datetime | None = None, until: datetime | None = None
) -> Bundle:
    """Everything a client needs to verify the tenant's log offline (signs a fresh checkpoint first).

    With ``since``/``until`` the bundle holds only the records that occurred in that range, each
    with its inclusion proof against the latest signed checkpoint: the client cannot recompute the
    whole log from it, but can check that every record handed over is in the signed log, unchanged.
    """
    sign_checkpoint(ctx, tenant_id=tenant_id)
    partial = since is not None or until is not None
    with ctx.reads() as uow:
        checkpoints = list(uow.ledger.checkpoints(tenant_id=tenant_id))
        keys = list(uow.ledger.keys(tenant_id=tenant_id))
        if partial:
            found = _records_between(uow, tenant_id=tenant_id, since=since, until=until)
            size = checkpoints[-1].size if checkpoints else 0
            reader = uow.ledger.nodes(tenant_id=tenant_id)
            proofs = [
                {
                    "index": r.index,
                    "proof": [h.hex() for h in inclusion_proof(reader, index=r.index, size=size)],
                }
                for r in found
            ]
            records = [
                LogRecord(
                    index=r.index,
                    canonical=None if r.pruned_at else r.record.canonical,
                    stored_leaf_hash=r.leaf_hash,
                )
                for r in found
            ]
        else:
            records = list(_iter_records(uow, tenant_id=tenant_id))
    manifest = {
        "format": BUNDLE_FORMAT_NAME,
        "tenant_id": tenant_id,
        "origin": origin_of(ctx, tenant_id),
        "records": len(records),
        "checkpoints": len(checkpoints),
        "exported_at": ctx.clock.now().isoformat(),
        **(
            {
                "partial": {
                    "since": since.isoformat() if since else None,
                    "until": until.isoformat() if until else None,
                    "tree_size": checkpoints[-1].size if checkpoints else 0,
                }
            }
            if partial
            else {}
        ),
    }
    files = {
        "manifest.json": json.dumps(manifest, indent=2) + "\n",
        "records.jsonl": "".join(bundle_line(r) + "\n" for r in records),
        "checkpoints.jsonl": "".join(json.dumps(c.note) + "\n" for c in checkpoints),
        "keys.json": json.dumps(
            [
                {
                    "verifier": k.verifier,
                    "not_before": k.not_before.isoformat(),
                    "not_after": k.not_after.isoformat() if k.not_after else None,
                }
                for k in keys
            ],
            indent=2,
        )
        + "\n",
    }
    if partial:
        files["proofs.jsonl"] = "".join(json.dumps(p, separators=(",", ":")) + "\n" for p in proofs)
    return Bundle(files=files)


def _records_between(
    uow: UnitOfWork, *, tenant_id: str, since: datetime | None, until: datetime | None, page: int = 5000
) -> list[StoredRecord]:
    out: list[StoredRecord] = []
    after = -1
    while batch := uow.ledger.search(
        tenant_id=tenant_id, query=RecordQuery(since=since, until=until, after=after, limit=page)
    ):
        out.extend(batch)
        after = batch[-1].index
        if len(batch) < page:
            break
    return out


def prove_for(ctx: AppContext, *, actor: Actor, tenant_id: str, event_id: str) -> dict[str, Any]:
    """``prove`` for an auditor, analyst or admin of the tenant (the API)."""
    require_operator(actor, tenant_id=tenant_id, roles=AUDIT_READERS)
    return prove(ctx, event_id=event_id, tenant_id=tenant_id)


def prove(ctx: AppContext, *, event_id: str, tenant_id: str | None = None) -> dict[str, Any]:
    """The inclusion proof of one record against the tenant's latest checkpoint (``tenant_id``, when
    given, must be the record's: another tenant's record is not found)."""
    with ctx.reads() as uow:
        stored = uow.ledger.find(event_id=event_id)
        if stored is None or (tenant_id is not None and stored.record.tenant_id != tenant_id):
            raise NotFound(f"record {event_id} not found", code="not_found.record")
        tenant_id = stored.record.tenant_id
        checkpoints = uow.ledger.checkpoints(tenant_id=tenant_id)
        if not checkpoints or checkpoints[-1].size <= stored.index:
            raise NotFound(
                f"record {event_id} is not covered by a checkpoint yet; sign one first",
                code="not_found.checkpoint",
            )
        latest = checkpoints[-1]
        proof = inclusion_proof(uow.ledger.nodes(tenant_id=tenant_id), index=stored.index, size=latest.size)
    return {
        "event_id": event_id,
        "tenant_id": tenant_id,
        "index": stored.index,
        "tree_size": latest.size,
        "leaf_hash": stored.leaf_hash.hex(),
        "proof": [p.hex() for p in proof],
        "checkpoint": latest.note,
    }


def record_with_proof(ctx: AppContext, *, actor: Actor, tenant_id: str, event_id: str) -> dict[str, Any]:
    """One record for the auditor's page: its canonical text (the bytes its leaf hash covers) and its
    inclusion proof against the latest checkpoint (``proof`` None while no checkpoint covers it)."""
    require_operator(actor, tenant_id=tenant_id, roles=AUDIT_READERS)
    with ctx.reads() as uow:
        stored = uow.ledger.find(event_id=event_id)
    if stored is None or stored.record.tenant_id != tenant_id:
        raise NotFound(f"record {event_id} not found", code="not_found.record")
    try:
        proof: dict[str, Any] | None = prove(ctx, event_id=event_id, tenant_id=tenant_id)
    except NotFound as exc:
        if exc.code != "not_found.checkpoint":
            raise
        proof = None
    canonical = stored.record.canonical.decode() if stored.record.canonical and not stored.pruned_at else ""
    return {
        "index": stored.index,
        "event_id": event_id,
        "type": stored.record.type,
        "occurred_at": stored.record.occurred_at.isoformat(),
        "canonical": canonical,
        "record": json.loads(canonical) if canonical else None,
        "leaf_hash": stored.leaf_hash.hex(),
        "proof": proof,
    }


def export_for(ctx: AppContext, *, actor: Actor, tenant_id: str) -> Bundle:
    """``export_bundle`` (the whole log) for an auditor or admin of the tenant: the console's download."""
    require_operator(actor, tenant_id=tenant_id, roles=AUDIT_READERS)
    return export_bundle(ctx, tenant_id=tenant_id)


def checkpoint_now(ctx: AppContext, *, actor: Actor, tenant_id: str) -> StoredCheckpoint | None:
    """An auditor or admin asks for a checkpoint covering every record so far (the console's button
    on a record no checkpoint covers yet); the latest when it already covers them, None for an empty log."""
    require_operator(actor, tenant_id=tenant_id, roles=AUDIT_READERS)
    return sign_checkpoint(ctx, tenant_id=tenant_id)
