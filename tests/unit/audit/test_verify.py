"""The log verifier against a malicious log: edits, reorders, truncation, forks, forged checkpoints."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from deskguard.audit.checkpoint import Checkpoint, Keyring, TrustedKey
from deskguard.audit.merkle import MemoryNodes, leaf_hash, root_hash
from deskguard.audit.note import Signer, Verifier, generate_signer, sign_note
from deskguard.audit.verify import LogRecord, verify_log

ORIGIN = "deskguard.test/tenants/t"
T0 = datetime(2026, 12, 1, tzinfo=UTC)
SIGNER_TEXT, VERIFIER_TEXT = generate_signer(ORIGIN)
KEYRING = Keyring(ORIGIN, (TrustedKey(Verifier.from_text(VERIFIER_TEXT), not_before=T0),))


def log(n: int) -> list[bytes]:
    return [f'{{"i":{i},"what":"record {i}"}}'.encode() for i in range(n)]


def checkpoint(records: list[bytes], *, signer: str = SIGNER_TEXT, origin: str = ORIGIN) -> str:
    nodes = MemoryNodes()
    for r in records:
        nodes.append(r)
    body = Checkpoint(origin=origin, size=len(records), root=root_hash(nodes, size=len(records))).body()
    return sign_note(body, Signer.from_text(signer))


def rows(records: list[bytes], *, with_hashes: bool = False) -> list[LogRecord]:
    return [LogRecord(i, r, leaf_hash(r) if with_hashes else None) for i, r in enumerate(records)]


def test_an_intact_log_verifies_against_every_checkpoint() -> None:
    records = log(20)
    report = verify_log(
        records=rows(records), checkpoints=[checkpoint(records[:7]), checkpoint(records)], keyring=KEYRING
    )
    assert report.ok and report.size == 20 and report.checkpoints_verified == 2


def test_an_edited_record_is_named_when_the_store_keeps_leaf_hashes() -> None:
    records = log(10)
    stored = rows(records, with_hashes=True)
    stored[4] = LogRecord(4, b'{"i":4,"what":"record X"}', stored[4].stored_leaf_hash)
    report = verify_log(records=stored, checkpoints=[checkpoint(records)], keyring=KEYRING)
    assert not report.ok and report.first_bad_index == 4 and "edited" in report.reason


def test_an_edit_without_leaf_hashes_is_bounded_by_the_checkpoints() -> None:
    records = log(10)
    tampered = list(records)
    tampered[6] = b'{"i":6,"what":"forged"}'
    report = verify_log(
        records=rows(tampered), checkpoints=[checkpoint(records[:5]), checkpoint(records)], keyring=KEYRING
    )
    assert not report.ok and report.checkpoints_verified == 1 and report.first_bad_index == 5


@pytest.mark.parametrize("damage", ["reorder", "gap", "truncate"])
def test_reordered_missing_or_truncated_records_fail(damage: str) -> None:
    records = log(8)
    given = rows(records)
    if damage == "reorder":
        given[2], given[3] = given[3], given[2]
    elif damage == "gap":
        del given[3]
    else:
        given = given[:5]
    report = verify_log(records=given, checkpoints=[checkpoint(records)], keyring=KEYRING)
    assert not report.ok


def test_two_views_of_one_log_are_a_fork() -> None:
    records = log(6)
    other = [*records[:3], b'{"i":3,"what":"the other view"}', *records[4:]]
    report = verify_log(
        records=rows(records), checkpoints=[checkpoint(records), checkpoint(other)], keyring=KEYRING
    )
    assert not report.ok and "forked" in report.reason


def test_a_checkpoint_signed_by_another_key_or_for_another_log_is_refused() -> None:
    records = log(4)
    stranger, _ = generate_signer(ORIGIN)
    forged = verify_log(
        records=rows(records), checkpoints=[checkpoint(records, signer=stranger)], keyring=KEYRING
    )
    assert not forged.ok and "does not verify" in forged.reason
    other_log, _ = generate_signer("deskguard.test/tenants/u")
    foreign = verify_log(
        records=rows(records),
        checkpoints=[checkpoint(records, signer=other_log, origin="deskguard.test/tenants/u")],
        keyring=KEYRING,
    )
    assert not foreign.ok
