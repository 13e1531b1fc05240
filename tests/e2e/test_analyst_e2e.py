"""The analyst's and the auditor's journeys in a real browser: Anna opens the queue after the demo's
synthetic day is ingested, opens the top case (a privileged person's takeover chain), reads its timeline,
records a verdict and approves the waiting suspension; Aude opens the dashboard, downloads the PDF
report."""

from __future__ import annotations

from pathlib import Path

import orjson
import pytest
from browser_kit import Journey, LiveDemo
from playwright.sync_api import expect

from deskguard.app.auth import resolve_subject
from deskguard.app.detection import ingest
from deskguard.sim.day import build_day

pytestmark = pytest.mark.e2e
ANNA, AUDE = "anna.analyst@desk.example", "aude.auditor@audit.example"
CLAIRE = "claire.dubois0@acme.example"  # privileged in the demo directory


def _okta(uuid: str, event_type: str, at: str, actor: str) -> dict:
    return {
        "uuid": uuid,
        "published": f"2026-12-01T{at}.000Z",
        "eventType": event_type,
        "actor": {"id": "00u" + uuid, "type": "User", "alternateId": actor},
        "target": [{"id": "00uclaire", "type": "User", "alternateId": CLAIRE}],
        "outcome": {"result": "SUCCESS"},
    }


def _ingest_day(live_demo: LiveDemo) -> None:
    ctx = live_demo.runtime.ctx
    with ctx.reads() as uow:
        anna = resolve_subject(uow, subject_kind="operator", subject_id="op_anna", tenant_id=None)
    day = build_day()
    chain = [
        _okta("c1", "user.account.reset_password", "08:30:00", "k.dupont.adm@acme.example"),
        _okta("c2", "user.mfa.factor.reset_all", "08:32:00", "k.dupont.adm@acme.example"),
        _okta("c3", "user.mfa.factor.activate", "08:40:00", CLAIRE),
    ]
    for source, records in (
        ("okta", day["okta-system-log.ndjson"]),
        (None, day["entra-azure-monitor.json"]),
        ("okta", chain),
    ):
        body = b"\n".join(orjson.dumps(r) for r in records)
        ingest(ctx, actor=anna, tenant_id="tnt_acme", source=source, body=body)


def _watch(page) -> list[str]:  # noqa: ANN001
    problems: list[str] = []
    page.on("console", lambda message: problems.append(message.text) if message.type == "error" else None)
    page.on("pageerror", lambda error: problems.append(str(error)))
    return problems


def test_anna_triages_the_top_case_and_approves_the_suspension(live_demo: LiveDemo, page) -> None:  # noqa: ANN001
    _ingest_day(live_demo)
    problems = _watch(page)
    journey = Journey("analyst-triage")
    live_demo.sign_in(page, ANNA)
    page.get_by_role("link", name="Alert queue").click()
    expect(page.get_by_role("heading", name="Alert queue")).to_be_visible()
    queue = page.locator("#queue table")
    expect(queue).to_contain_text("jeanne.martin@acme.example")
    journey.shot(page, "queue")
    page.locator("#queue").get_by_role("link").first.click()  # the top case: the privileged person's
    expect(page.get_by_role("heading", name=f"Case: {CLAIRE}")).to_be_visible()
    expect(page.locator("table.timeline")).to_contain_text("Okta password reset, MFA reset and a new factor")
    journey.shot(page, "case-timeline")
    page.get_by_label("Verdict on:").first.select_option("true_positive")
    page.get_by_label("Comment").first.fill("INC-20931: confirmed with the person")
    page.get_by_role("button", name="Record the verdict").first.click()
    expect(page.get_by_role("status")).to_contain_text("Verdict recorded")
    expect(page.locator("main")).to_contain_text("Verdict: true positive (by op_anna)")
    journey.shot(page, "verdict")
    expect(page.locator("ul.steps")).to_contain_text("awaiting_approval")
    page.get_by_label("Why (kept on the record)").fill("Okta chain confirmed with the CFO's office")
    page.get_by_label("Why (kept on the record)").press("Enter")  # the form's first button: approve
    expect(page.get_by_role("status")).to_contain_text("Step approved and run.")
    expect(page.locator("ul.steps")).to_contain_text("decided by op_anna")
    journey.shot(page, "suspension-approved")
    assert problems == []


def test_aude_opens_the_dashboard_and_downloads_the_pdf_report(live_demo: LiveDemo, page) -> None:  # noqa: ANN001
    _ingest_day(live_demo)
    problems = _watch(page)
    journey = Journey("dashboard-report")
    live_demo.sign_in(page, AUDE)
    page.get_by_role("link", name="Dashboard").click()
    page.get_by_label("Month").fill("2026-11")
    page.get_by_role("button", name="Show").click()
    expect(page.get_by_role("heading", name="Dashboard · 2026-11")).to_be_visible()
    page.wait_for_function(
        "document.getElementById('chart-severity').width > 0 && window.Chart !== undefined"
    )
    expect(page.get_by_role("table", name="Alerts by severity")).to_contain_text("critical")
    journey.shot(page, "dashboard")
    with page.expect_download() as download:
        page.get_by_role("link", name="Download the report (PDF)").first.click()
    path = download.value.path()
    assert download.value.suggested_filename == "deskguard-tnt_acme-2026-11.pdf"
    assert Path(path).read_bytes().startswith(b"%PDF-")
    page.get_by_role("link", name="Monthly report").click()
    expect(page.get_by_role("heading", name="Monthly report 2026-11")).to_be_visible()
    journey.shot(page, "report")
    assert problems == []
