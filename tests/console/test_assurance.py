"""Provider assurance pages: who reads and who assesses, CSRF, the multipart upload, the report formats."""

from __future__ import annotations

import csv
import io
from hashlib import sha256

import pytest
from console_kit import Console

from deskguard.domain.events import EventType

pytestmark = pytest.mark.db
ADRIEN, AUDE, BRUNO, ALICE, OLGA = (
    "adrien.admin@desk.example",
    "aude.auditor@audit.example",
    "bruno.supervisor@desk.example",
    "alice.agent@desk.example",
    "olga@farshore.example",
)
PAGE = "/t/tnt_acme/providers/prv_outsourced"
ISO = PAGE + "/items/iso27001_certificate"
PDF = b"%PDF-1.4\n% FarShore ISO/IEC 27001:2022 certificate\n" + b"0" * 90_000 + b"\n%%EOF\n"


def test_admins_auditors_and_supervisors_read_only_their_tenants_providers(console: Console) -> None:
    assert console.sign_in(ALICE).get("/t/tnt_acme/providers").status_code == 403
    assert console.sign_in(OLGA).get("/t/tnt_acme/providers").status_code == 404  # Globex only
    bruno = console.sign_in(BRUNO)
    listed = bruno.get("/t/tnt_acme/providers")
    assert listed.status_code == 200 and "FarShore Support Ltd" in listed.text
    assert "Internal service desk" not in listed.text  # not outsourced
    assert 'href="/t/tnt_acme/providers"' in listed.text  # in the menu
    page = bruno.get(PAGE).text
    assert "ISO 27001 certificate" in page and "Social-engineering test frequency" in page
    assert 'name="status"' not in page  # read only
    assert bruno.get("/t/tnt_acme/providers/prv_internal").status_code == 404
    refused = bruno.post(ISO, data={"csrf": console.csrf(page), "status": "met"})
    assert refused.status_code == 403


def test_a_change_without_the_csrf_token_is_refused(console: Console) -> None:
    adrien = console.sign_in(ADRIEN)
    adrien.get(PAGE)
    assert adrien.post(ISO, data={"status": "met"}).status_code == 403
    with console.runtime.ctx.reads() as uow:
        assert uow.assurance.assessments(tenant_id="tnt_acme", provider_id="prv_outsourced") == {}


def test_adrien_assesses_attaches_and_aude_reads_the_report(console: Console) -> None:
    adrien = console.sign_in(ADRIEN)
    token = console.csrf(adrien.get(PAGE).text)
    done = adrien.post(
        ISO, data={"csrf": token, "status": "met", "review_due": "2027-11-30", "note": "cert 42"}
    )
    assert done.status_code == 200 and "Assessment of “ISO 27001 certificate” saved." in done.text
    attached = adrien.post(
        ISO + "/evidence", data={"csrf": token}, files={"file": ("iso27001.pdf", PDF, "application/pdf")}
    )
    assert attached.status_code == 200, attached.text
    assert sha256(PDF).hexdigest() in attached.text
    bad = adrien.post(
        ISO + "/evidence", data={"csrf": token}, files={"file": ("iso.pdf", b"GIF89a", "application/pdf")}
    )
    assert bad.status_code == 422 and "is not a application/pdf file" in bad.text
    no_file = adrien.post(ISO + "/evidence", data={"csrf": token})
    assert no_file.status_code == 422 and "choose a file" in no_file.text
    past = adrien.post(ISO, data={"csrf": token, "status": "met", "review_due": "2020-01-01"})
    assert past.status_code == 422 and "is in the past" in past.text
    se = PAGE + "/items/social_engineering_tests"
    assert adrien.post(se, data={"csrf": token, "status": "partial"}).status_code == 200
    with console.runtime.ctx.reads() as uow:
        found = uow.assurance.assessments(tenant_id="tnt_acme", provider_id="prv_outsourced")
        assert found["social_engineering_tests"].review_due.isoformat() == "2027-03-01"  # quarterly cadence
        types = [e.type for e in uow.outbox.list(tenant_id="tnt_acme", after_seq=0, limit=5000)]
    assert (
        types.count(EventType.ASSURANCE_ASSESSED) == 2
        and types.count(EventType.ASSURANCE_EVIDENCE_ATTACHED) == 1
    )

    aude = console.sign_in(AUDE)
    report = aude.get(PAGE + "/report")
    assert report.status_code == 200 and "Provider assurance report: FarShore Support Ltd" in report.text
    assert "iso27001.pdf" in report.text and "no exercise yet" in report.text
    pdf = aude.get(PAGE + "/report.pdf")
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF-")
    assert pdf.headers["content-type"] == "application/pdf"
    rows = list(csv.reader(io.StringIO(aude.get(PAGE + "/report.csv").text)))
    iso = next(r for r in rows if len(r) > 3 and r[3] == "iso27001_certificate")
    assert iso[5:9] == ["met", "op_adrien", "2026-12-01T09:00:31+00:00", "2027-11-30"]
    assert f"sha256:{sha256(PDF).hexdigest()}" in iso[10]
    assert next(r for r in rows if len(r) > 3 and r[3] == "social_engineering_tests")[5] == "partial"
    assert ["tnt_acme", "prv_outsourced", "2026-12", "verification_failures", "0"] in rows
    with console.runtime.ctx.reads() as uow:
        evidence_id = uow.assurance.evidence(tenant_id="tnt_acme", provider_id="prv_outsourced")[0].id
    file = aude.get(f"{PAGE}/evidence/{evidence_id}")
    assert file.content == PDF and file.headers["x-content-sha256"] == sha256(PDF).hexdigest()
    assert aude.get(PAGE + "/report.docx").status_code == 404


def test_a_review_past_its_date_shows_overdue_in_french(console: Console) -> None:
    adrien = console.sign_in(ADRIEN)
    token = console.csrf(adrien.get(PAGE).text)
    adrien.post(ISO, data={"csrf": token, "status": "partial", "review_due": "2026-12-10"})
    console.clock.advance(days=10)
    aude = console.sign_in(AUDE)
    aude.cookies.set("dg_lang", "fr")
    page = aude.get(PAGE, headers={"accept-language": "fr"}).text
    assert "Certificat ISO 27001" in page and "revue en retard depuis le 2026-12-10" in page
    assert "1 revue(s) en retard" in page


def test_the_providers_exercise_results_stand_beside_its_checklist(console: Console) -> None:
    from datetime import UTC, datetime

    from deskguard.app.auth import resolve_subject
    from deskguard.app.exercises import plan_campaign, record_call

    ctx = console.runtime.ctx
    with ctx.reads() as uow:
        bruno = resolve_subject(uow, subject_kind="operator", subject_id="op_bruno", tenant_id=None)
    campaign = plan_campaign(
        ctx,
        actor=bruno,
        tenant_id="tnt_acme",
        name="Q4 vishing",
        quarter="2026-Q4",
        provider_ids=["prv_outsourced"],
        script_ids=["cfo_lost_phone"],
        starts_at=datetime(2026, 12, 1, tzinfo=UTC),
        ends_at=datetime(2026, 12, 20, tzinfo=UTC),
    )
    for outcome in ("refused", "escalated"):
        record_call(
            ctx,
            actor=bruno,
            tenant_id="tnt_acme",
            campaign_id=campaign.id,
            operator_id="op_oscar",
            script_id="cfo_lost_phone",
            called_at=datetime(2026, 12, 1, 8, 0, tzinfo=UTC),
            outcome=outcome,
        )
    page = console.sign_in(AUDE).get(PAGE).text
    assert "no exercise yet" not in page
    row = page[page.index('<th scope="row">2026-Q4</th>') :].split("</tr>")[0]
    assert [cell.split("</td>")[0] for cell in row.split("<td>")[1:]] == ["2", "0", "1", "1", "0"]
