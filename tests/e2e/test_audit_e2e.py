"""The auditor in a real browser: browse the ledger, open a record, see its inclusion proof verified
by the page's own WebCrypto computation, download the export and check it with the offline verifier."""

from __future__ import annotations

from pathlib import Path

import pytest
from browser_kit import Journey, LiveDemo
from playwright.sync_api import expect
from typer.testing import CliRunner

from deskguard.app.rule_modes import set_rule_mode
from deskguard.cli.main import app as cli
from deskguard.domain.events import Actor, ActorKind

pytestmark = pytest.mark.e2e
AUDE = "aude.auditor@audit.example"
RULE = "Okta.Support.ResetBySupport"
ADRIEN = Actor(kind=ActorKind.OPERATOR, id="op_adrien", role="admin", tenant_ids=frozenset({"tnt_acme"}))


def evidence(live_demo: LiveDemo, *modes: str) -> None:
    """Records to audit (the demo seed writes none): Adrien changes a rule's mode, once per mode."""
    for mode in modes:
        set_rule_mode(live_demo.runtime.ctx, actor=ADRIEN, tenant_id="tnt_acme", rule_id=RULE, mode=mode)


def test_aude_checks_a_record_in_the_page_and_downloads_the_export(
    live_demo: LiveDemo,
    page,  # noqa: ANN001
    tmp_path: Path,
) -> None:
    problems: list[str] = []
    page.on("console", lambda message: problems.append(message.text) if message.type == "error" else None)
    page.on("pageerror", lambda error: problems.append(str(error)))
    for mode in ("monitor", "off", "on"):  # evidence to audit: the demo seed writes none
        set_rule_mode(
            live_demo.runtime.ctx,
            actor=ADRIEN,
            tenant_id="tnt_acme",
            rule_id="Okta.Support.ResetBySupport",
            mode=mode,
        )
    journey = Journey("audit")
    live_demo.sign_in(page, AUDE)
    page.get_by_role("link", name="Evidence ledger").first.click()
    expect(page.get_by_role("heading", name="Evidence ledger", exact=True)).to_be_visible()
    page.get_by_label("Event type (e.g. request.executed)").fill("detection.rule_mode_changed")
    page.get_by_label("Event type (e.g. request.executed)").press("Enter")
    rows = page.locator("tbody tr")
    expect(rows).to_have_count(3)
    journey.shot(page, "ledger")

    page.get_by_role("link", name="Open record 1, detection.rule_mode_changed").click()
    expect(page.get_by_role("heading", name="Record 1")).to_be_visible()
    journey.shot(page, "record")
    sign = page.get_by_role("button", name="Sign a checkpoint now")
    if sign.count():  # no checkpoint covers the record yet in a fresh demo
        sign.click()
    verdict = page.locator("#proof-verdict")
    expect(verdict).to_have_attribute("data-state", "verified")
    expect(verdict).to_have_text("Verified: this record is in the signed log, unchanged.")
    page.get_by_text("Show the audit path and the checkpoint").click()
    journey.shot(page, "verified")

    page.get_by_role("link", name="Back to the ledger").click()
    with page.expect_download() as download_info:
        page.get_by_role("button", name="Download the export").click()
    download = download_info.value
    assert download.suggested_filename.startswith("deskguard-audit-tnt_acme-")
    saved = tmp_path / download.suggested_filename
    download.save_as(saved)
    journey.shot(page, "downloaded")
    checked = CliRunner().invoke(cli, ["audit", "verify", str(saved)])
    assert checked.exit_code == 0, checked.output
    assert problems == []


def test_a_tampered_proof_is_not_verified_by_the_page(live_demo: LiveDemo, page) -> None:  # noqa: ANN001
    """The page computes, it does not repeat the server: change one hash of the path, and it says no."""
    set_rule_mode(
        live_demo.runtime.ctx,
        actor=ADRIEN,
        tenant_id="tnt_acme",
        rule_id="Okta.Support.ResetBySupport",
        mode="off",
    )
    set_rule_mode(
        live_demo.runtime.ctx,
        actor=ADRIEN,
        tenant_id="tnt_acme",
        rule_id="Okta.Support.ResetBySupport",
        mode="on",
    )
    live_demo.sign_in(page, AUDE)
    page.goto(live_demo.url + "/t/tnt_acme/audit?type=detection.rule_mode_changed")
    page.get_by_role("link", name="Open record 0, detection.rule_mode_changed").click()
    page.get_by_role("button", name="Sign a checkpoint now").click()
    expect(page.locator("#proof-verdict")).to_have_attribute("data-state", "verified")

    def tamper(route) -> None:  # noqa: ANN001 - a Playwright Route
        html = route.fetch().text()
        start = html.index('"proof": ["') + len('"proof": ["')
        flipped = "0" if html[start] != "0" else "1"
        route.fulfill(body=html[:start] + flipped + html[start + 1 :], content_type="text/html")

    page.route("**/audit/records/*", tamper)
    page.reload()
    expect(page.locator("#proof-verdict")).to_have_attribute("data-state", "failed")
    Journey("audit-tampered").shot(page, "not-verified")
