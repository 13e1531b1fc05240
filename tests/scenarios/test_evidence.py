"""Evidence a client can check on their own: helpdesk actions, a signed checkpoint, an exported
bundle verified offline, then one byte edited in the database — and verification fails there.

This is issue 3's "done when", played on the demo organisation over HTTP and the CLI, on SQLite and
PostgreSQL.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from demo_desk import ALICE, Desk, T
from sqlalchemy import text
from typer.testing import CliRunner

from deskguard.audit.merkle import leaf_hash
from deskguard.cli.main import app

runner = CliRunner()


def _cli(desk: Desk, *args: str):
    env = {
        "DESKGUARD_DATABASE_URL": desk.runtime.settings.database_url,
        "DESKGUARD_DEMO": "true",
        "DESKGUARD_WITNESS_DIR": str(desk.runtime.settings.witness_dir),
    }
    return runner.invoke(app, ["audit", *args], env=env)


def _actions(desk: Desk) -> str:
    ticket = desk.post(
        f"{T}/tickets",
        ALICE,
        {"external_ref": "INC-4711", "channel": "phone", "caller_number": "+447700900123"},
        status=201,
    )
    opened = desk.post(
        f"{T}/requests",
        ALICE,
        {"kind": "unlock_account", "person_id": "per_acme_004", "ticket_id": ticket["id"]},
        status=201,
    )
    desk.post(
        f"{T}/requests/{opened['id']}/knowledge",
        ALICE,
        {"topic": "date of birth", "matched": True},
        status=201,
    )
    desk.post(f"{T}/requests/{opened['id']}/cancel", ALICE, {"reason": "caller hung up"})
    return opened["id"]


def test_export_verify_offline_then_a_tampered_byte_is_found(desk: Desk, tmp_path: Path) -> None:
    request_id = _actions(desk)
    signed = _cli(desk, "checkpoint")
    assert signed.exit_code == 0, signed.output
    assert "tnt_acme: checkpoint at size" in signed.output
    witness = desk.runtime.settings.witness_dir / "tnt_acme.checkpoints.jsonl"
    assert witness.exists()  # published outside the database

    intact = _cli(desk, "verify")
    assert intact.exit_code == 0, intact.output
    assert "intact" in intact.output

    bundle = tmp_path / "bundle"
    exported = _cli(desk, "export", "--tenant", "tnt_acme", str(bundle))
    assert exported.exit_code == 0, exported.output
    records = (bundle / "records.jsonl").read_text().splitlines()
    assert any(request_id in line for line in records)
    assert all("+447700900123" not in line for line in records)  # identifying values are keyed hashes
    assert any("hmac-sha256:" in line for line in records)
    offline = runner.invoke(app, ["audit", "verify", str(bundle)], env={})  # no database, no settings
    assert offline.exit_code == 0, offline.output

    # The proof of one record verifies against the signed checkpoint.
    event = json.loads(records[1])["id"]
    proved = _cli(desk, "prove", event)
    assert proved.exit_code == 0 and '"index": 1' in proved.output

    # One byte of one record, edited in the database.
    with desk.runtime.engine.begin() as connection:
        connection.execute(
            text(
                "UPDATE audit_records SET record = REPLACE(record, 'INC-4711', 'INC-4712') "
                "WHERE tenant_id = 'tnt_acme' AND idx = 0"
            )
        )
    broken = _cli(desk, "verify", "--tenant", "tnt_acme")
    assert broken.exit_code == 1
    assert "BROKEN at index 0" in broken.output and "edited" in broken.output


def test_a_rewrite_that_also_fixes_the_hashes_is_caught_by_the_checkpoint(desk: Desk) -> None:
    _actions(desk)
    assert _cli(desk, "checkpoint").exit_code == 0
    with desk.runtime.engine.begin() as connection:  # the attacker recomputes the leaf hash as well
        idx, original = connection.execute(
            text("SELECT idx, record FROM audit_records WHERE tenant_id='tnt_acme' AND record LIKE :p"),
            {"p": "%date of birth%"},
        ).one()
        forged = original.replace("date of birth", "passport no.")
        assert forged != original
        connection.execute(
            text("UPDATE audit_records SET record=:r, leaf_hash=:h WHERE tenant_id='tnt_acme' AND idx=:i"),
            {"r": forged, "h": leaf_hash(forged.encode()), "i": idx},
        )
    broken = _cli(desk, "verify", "--tenant", "tnt_acme")
    assert broken.exit_code == 1 and "differs from the signed checkpoint" in broken.output


@pytest.mark.parametrize("damage", ["edit", "drop_last", "reorder"])
def test_a_damaged_bundle_fails_offline(desk: Desk, tmp_path: Path, damage: str) -> None:
    _actions(desk)
    bundle = tmp_path / "bundle"
    assert _cli(desk, "export", "--tenant", "tnt_acme", str(bundle)).exit_code == 0
    path = bundle / "records.jsonl"
    lines = path.read_text().splitlines()
    if damage == "edit":
        lines[1] = lines[1].replace("request", "requesT", 1)
    elif damage == "drop_last":
        lines = lines[:-1]
    else:
        lines[0], lines[1] = lines[1], lines[0]
    path.write_text("\n".join(lines) + "\n")
    result = runner.invoke(app, ["audit", "verify", str(bundle)], env={})
    assert result.exit_code == 1, result.output
    assert "BROKEN" in result.output


def test_a_rotated_key_keeps_old_checkpoints_verifiable(desk: Desk, tmp_path: Path) -> None:
    _actions(desk)
    assert _cli(desk, "checkpoint").exit_code == 0
    rotated = _cli(desk, "rotate-key", "--tenant", "tnt_acme")
    assert rotated.exit_code == 0 and "retired key" in rotated.output
    desk.post(f"{T}/tickets", ALICE, {"external_ref": "INC-4800", "channel": "chat"}, status=201)
    assert _cli(desk, "checkpoint").exit_code == 0
    keys = json.loads(_bundle_keys(desk, tmp_path))
    assert len(keys) == 2 and keys[0]["not_after"] is not None and keys[1]["not_after"] is None
    assert _cli(desk, "verify").exit_code == 0  # checkpoints of both keys verify
    assert runner.invoke(app, ["audit", "verify", str(tmp_path / "b")], env={}).exit_code == 0


def _bundle_keys(desk: Desk, tmp_path: Path) -> str:
    assert _cli(desk, "export", "--tenant", "tnt_acme", str(tmp_path / "b")).exit_code == 0
    return (tmp_path / "b" / "keys.json").read_text()


def test_pruned_records_keep_the_log_verifiable(desk: Desk, tmp_path: Path) -> None:
    from datetime import timedelta

    from deskguard.app.ledger import prune

    _actions(desk)
    assert _cli(desk, "checkpoint").exit_code == 0
    desk.runtime.ctx.clock.advance(days=400)  # type: ignore[attr-defined]
    desk.post(f"{T}/tickets", ALICE, {"external_ref": "INC-9000", "channel": "email"}, status=201)
    pruned = prune(desk.runtime.ctx, tenant_id="tnt_acme", older_than=timedelta(days=365))
    assert pruned >= 5
    report = _cli(desk, "verify", "--tenant", "tnt_acme")
    assert report.exit_code == 0 and f"({pruned} pruned)" in report.output
    assert _cli(desk, "export", "--tenant", "tnt_acme", str(tmp_path / "b")).exit_code == 0
    lines = (tmp_path / "b" / "records.jsonl").read_text().splitlines()
    assert sum(line.startswith('{"deskguard.pruned":') for line in lines) == pruned
    assert "INC-9000" in lines[-2] or "INC-9000" in lines[-1]  # the recent record is kept whole
    assert runner.invoke(app, ["audit", "verify", str(tmp_path / "b")], env={}).exit_code == 0
    with desk.runtime.engine.begin() as connection:  # rewriting a pruned record's hash is still caught
        connection.execute(
            text("UPDATE audit_records SET leaf_hash=:h WHERE tenant_id='tnt_acme' AND idx=1"),
            {"h": b"\x00" * 32},
        )
    assert _cli(desk, "verify", "--tenant", "tnt_acme").exit_code == 1


def test_a_time_range_export_carries_a_proof_per_record(desk: Desk, tmp_path: Path) -> None:
    _actions(desk)
    desk.runtime.ctx.clock.advance(hours=2)  # type: ignore[attr-defined]
    desk.post(f"{T}/tickets", ALICE, {"external_ref": "INC-LATER", "channel": "chat"}, status=201)
    assert _cli(desk, "checkpoint").exit_code == 0
    since = desk.runtime.ctx.clock.now().isoformat()
    part = tmp_path / "part"
    assert _cli(desk, "export", "--tenant", "tnt_acme", "--from", since, str(part)).exit_code == 0
    lines = (part / "records.jsonl").read_text().splitlines()
    assert len(lines) == 1 and "INC-LATER" in lines[0]
    assert len((part / "proofs.jsonl").read_text().splitlines()) == 1
    assert runner.invoke(app, ["audit", "verify", str(part)], env={}).exit_code == 0
    (part / "records.jsonl").write_text(lines[0].replace("INC-LATER", "INC-EARLY") + "\n")
    forged = runner.invoke(app, ["audit", "verify", str(part)], env={})
    assert forged.exit_code == 1 and "not in the signed log" in forged.output
