"""The administrator in a real browser: explain a hypothetical request, put a rule in monitor mode,
lock an outsourced agent's console account (who then cannot sign in)."""

from __future__ import annotations

import pytest
from browser_kit import Journey, LiveDemo
from playwright.sync_api import expect

from deskguard.sim.demo import DEMO_PASSWORD

pytestmark = pytest.mark.e2e
ADRIEN, OSCAR = "adrien.admin@desk.example", "oscar@farshore.example"
RULE = "Okta.Support.ResetBySupport"


def _watch(page) -> list[str]:  # noqa: ANN001 - a Playwright Page
    problems: list[str] = []
    page.on("console", lambda message: problems.append(message.text) if message.type == "error" else None)
    page.on("pageerror", lambda error: problems.append(str(error)))
    return problems


def test_adrien_explains_a_request_and_puts_a_rule_in_monitor_mode(live_demo: LiveDemo, page) -> None:  # noqa: ANN001
    problems = _watch(page)
    journey = Journey("admin-policy")
    live_demo.sign_in(page, ADRIEN)
    page.get_by_role("link", name="Administration").first.click()
    expect(page.get_by_role("heading", name="Explain a hypothetical request")).to_be_visible()
    expect(page.get_by_text("No problem found in the file.")).to_be_visible()
    journey.shot(page, "policy")
    page.get_by_label("Action").select_option("reset_mfa")
    page.get_by_label("Operator's provider").select_option(label="FarShore Support Ltd (outsourced)")
    page.get_by_label("Channel of the request").select_option("phone")
    page.get_by_label("Person's risk score (0-100)").fill("80")
    page.get_by_label("Privileged access").check()
    page.get_by_role("button", name="Explain the decision").click()
    result = page.locator("#explain-result")
    expect(result.get_by_role("heading", name="Decision")).to_be_visible()
    expect(result.get_by_role("table")).to_contain_text("action:reset_mfa")
    journey.shot(page, "explained")

    page.get_by_role("navigation", name="Administration sections").get_by_role(
        "link", name="Detection rules"
    ).click()
    title = page.locator("tr", has_text=RULE).locator("strong").inner_text()
    mode = page.get_by_label(f"Mode of {title}", exact=True)
    mode.select_option("monitor")
    journey.shot(page, "rule-chosen")
    mode.press("Tab")
    page.keyboard.press("Enter")  # the row's Apply button, by keyboard
    expect(page.get_by_role("status").filter(has_text=f"{RULE} is now: monitor.")).to_be_visible()
    expect(mode).to_have_value("monitor")
    journey.shot(page, "rule-monitor")
    with live_demo.runtime.ctx.reads() as uow:
        assert uow.rule_modes.list(tenant_id="tnt_acme")[RULE].mode == "monitor"
    assert problems == []


def test_adrien_locks_oscar_who_then_cannot_sign_in(live_demo: LiveDemo, page, browser) -> None:  # noqa: ANN001
    problems = _watch(page)
    journey = Journey("admin-lock")
    oscar_context = browser.new_context(locale="en-GB")
    oscar = oscar_context.new_page()
    live_demo.sign_in(oscar, OSCAR)  # Oscar is at work

    live_demo.sign_in(page, ADRIEN)
    page.goto(live_demo.url + "/t/tnt_acme/admin/people")
    row = page.locator("tr", has_text=OSCAR)
    expect(row).to_contain_text("active")
    journey.shot(page, "operators")
    page.once("dialog", lambda dialog: dialog.accept())  # "Lock the console account of …?"
    row.get_by_role("button", name="Lock").click()
    expect(page.get_by_role("status").filter(has_text=f"The account {OSCAR} is locked")).to_be_visible()
    expect(page.locator("tr", has_text=OSCAR)).to_contain_text("locked")
    journey.shot(page, "locked")

    oscar.goto(live_demo.url + "/account")
    assert "/login" in oscar.url  # his session ended with the lock
    oscar.get_by_label("E-mail address").fill(OSCAR)
    oscar.get_by_label("Password").fill(DEMO_PASSWORD)
    oscar.get_by_label("Password").press("Enter")
    expect(oscar.get_by_role("alert")).to_contain_text("Wrong e-mail, password or code")
    journey.shot(oscar, "oscar-refused")
    oscar_context.close()
    assert problems == []
