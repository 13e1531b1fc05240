"""The auditor's pages: the ledger with filters and pages, a record with its proof, the export."""

from __future__ import annotations

import json
import re
import zipfile
from io import BytesIO
from pathlib import Path

import pytest
from console_kit import Console
from typer.testing import CliRunner

from deskguard.app.rule_modes import set_rule_mode
from deskguard.audit.merkle import leaf_hash, verify_inclusion
from deskguard.audit.note import strict_b64decode
from deskguard.cli.main import app as cli
from deskguard.domain.events import Actor, ActorKind
from deskguard.domain.ports import RecordQuery

pytestmark = pytest.mark.db
AUDE, ADRIEN, ALICE, OLGA = (
    "aude.auditor@audit.example",
    "adrien.admin@desk.example",
    "alice.agent@desk.example",
    "olga@farshore.example",
)
LEDGER = "/t/tnt_acme/audit"
RECORD_LINK = re.compile(r'href="/t/tnt_acme/audit/records/([^"]+)"')
ADMIN_ACTOR = Actor(kind=ActorKind.OPERATOR, id="op_adrien", role="admin", tenant_ids=frozenset({"tnt_acme"}))
DATA = re.compile(r'<script type="application/json" id="proof-data">(.*?)</script>', re.S)


def test_only_auditors_and_admins_of_the_tenant_read_the_ledger(console: Console) -> None:
    assert console.sign_in(ALICE).get(LEDGER).status_code == 403
    olga = console.sign_in(OLGA)
    assert olga.get("/t/tnt_globex/audit").status_code == 403
    assert olga.get(LEDGER).status_code == 404  # another tenant: not found
    assert console.sign_in(ADRIEN).get(LEDGER).status_code == 200
    assert console.sign_in(AUDE).get(LEDGER).status_code == 200


def activity(console: Console, count: int) -> None:
    """Evidence to browse: the demo seed writes none, so an admin changes rule modes ``count`` times
    (each change is recorded in the tenant's ledger with its domain event)."""
    for n in range(count):
        set_rule_mode(
            console.runtime.ctx,
            actor=ADMIN_ACTOR,
            tenant_id="tnt_acme",
            rule_id="Okta.Support.ResetBySupport",
            mode=("monitor", "on")[n % 2],
        )


def test_the_ledger_filters_and_pages(console: Console) -> None:
    activity(console, 55)
    aude = console.sign_in(AUDE)
    first = aude.get(LEDGER).text
    ids = RECORD_LINK.findall(first)
    assert len(ids) == 50 and "Next page" in first  # the demo seed writes more than one page
    after = re.search(r'href="/t/tnt_acme/audit\?after=(\d+)"', first.replace("&amp;", "&"))
    assert after, "a next-page link"
    second = aude.get(LEDGER, params={"after": after.group(1)}).text
    assert not set(RECORD_LINK.findall(second)) & set(ids)
    with console.runtime.ctx.reads() as uow:
        some = uow.ledger.search(tenant_id="tnt_acme", query=RecordQuery(limit=1))[0].record.type
    filtered = aude.get(LEDGER, params={"type": some}).text
    assert RECORD_LINK.findall(filtered) and set(re.findall(r"<td><code>([^<]+)</code></td>", filtered)) == {
        some
    }
    assert aude.get(LEDGER, params={"since": "last week"}).status_code == 422
    assert "No record matches." in aude.get(LEDGER, params={"type": "no.such.type"}).text


def test_a_record_page_carries_what_the_browser_needs_to_check_its_proof(console: Console) -> None:
    activity(console, 5)
    aude = console.sign_in(AUDE)
    event_id = RECORD_LINK.findall(aude.get(LEDGER).text)[3]
    page = aude.get(f"{LEDGER}/records/{event_id}")
    assert page.status_code == 200
    if "No signed checkpoint covers this record yet." in page.text:
        token = Console.csrf(page.text)
        assert aude.post(f"{LEDGER}/records/{event_id}/checkpoint").status_code == 403  # no CSRF
        signed = aude.post(f"{LEDGER}/records/{event_id}/checkpoint", data={"csrf": token})
        assert signed.status_code == 303
        page = aude.get(f"{LEDGER}/records/{event_id}")
    assert '<script src="/static/audit.js" defer></script>' in page.text
    found = DATA.search(page.text)
    assert found, "the proof's data block"
    data = json.loads(found.group(1))
    # What audit.js computes, here in Python with the server's own algorithm: it must verify.
    leaf = leaf_hash(data["canonical"].encode())
    assert leaf.hex() == data["leaf_hash"]
    body = data["checkpoint"].split("\n")
    assert body[1] == str(data["tree_size"])
    verify_inclusion(
        leaf_hash=leaf,
        index=data["index"],
        size=data["tree_size"],
        proof=[bytes.fromhex(h) for h in data["proof"]],
        root=strict_b64decode(body[2]),
    )
    other_tenant = console.sign_in(ADRIEN).get(f"/t/tnt_globex/audit/records/{event_id}")
    assert other_tenant.status_code == 404  # a record of Acme is not found under Globex


def test_the_export_downloads_a_zip_the_offline_verifier_accepts(console: Console, tmp_path: Path) -> None:
    activity(console, 3)
    aude = console.sign_in(AUDE)
    token = Console.csrf(aude.get(LEDGER).text)
    assert aude.post(f"{LEDGER}/export").status_code == 403  # no CSRF token
    download = aude.post(f"{LEDGER}/export", data={"csrf": token})
    assert download.status_code == 200 and download.headers["content-type"] == "application/zip"
    assert download.headers["content-disposition"].startswith(
        'attachment; filename="deskguard-audit-tnt_acme-'
    )
    names = zipfile.ZipFile(BytesIO(download.content)).namelist()
    assert sorted(n.rsplit("/", 1)[1] for n in names) == [
        "checkpoints.jsonl",
        "keys.json",
        "manifest.json",
        "records.jsonl",
    ]
    path = tmp_path / "export.zip"
    path.write_bytes(download.content)
    verified = CliRunner().invoke(cli, ["audit", "verify", str(path)])
    assert verified.exit_code == 0, verified.output
    # One byte changed in one record: the verifier says so.
    archive = zipfile.ZipFile(BytesIO(download.content))
    tampered = tmp_path / "tampered.zip"
    with zipfile.ZipFile(tampered, "w") as out:
        for name in archive.namelist():
            text = archive.read(name).decode()
            if name.endswith("records.jsonl"):
                text = text.replace('"tenant_id":"tnt_acme"', '"tenant_id":"tnt_acmf"', 1)
            out.writestr(name, text)
    assert CliRunner().invoke(cli, ["audit", "verify", str(tampered)]).exit_code == 1
    garbage = tmp_path / "garbage.zip"
    garbage.write_bytes(b"not a zip")
    refused = CliRunner().invoke(cli, ["audit", "verify", str(garbage)])
    assert refused.exit_code == 2 and "not a zip archive" in refused.output
