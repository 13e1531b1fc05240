"""Signing in and out in a real browser, by keyboard, with the security the console promises."""

from __future__ import annotations

import pytest
from browser_kit import Journey, LiveDemo
from playwright.sync_api import expect

pytestmark = pytest.mark.e2e
ALICE = "alice.agent@desk.example"


def test_an_agent_signs_in_by_keyboard_and_signs_out_everywhere(live_demo: LiveDemo, page) -> None:  # noqa: ANN001
    journey = Journey("sign-in")
    page.goto(live_demo.url + "/login")
    journey.shot(page, "login")
    live_demo.sign_in(page, ALICE)
    cookie = next(c for c in page.context.cookies() if c["name"] == "__Host-dg_session")
    assert cookie["httpOnly"] and cookie["secure"] and cookie["sameSite"] == "Strict"
    page.goto(live_demo.url + "/account")
    expect(page.get_by_role("heading", name="My console account")).to_be_visible()
    journey.shot(page, "account")
    page.locator("main").get_by_role("button", name="Sign out everywhere").click()
    expect(page.get_by_role("heading", name="Signed out")).to_be_visible()
    page.goto(live_demo.url + "/account")
    assert "/login" in page.url


def test_the_console_speaks_french_to_a_french_browser(live_demo: LiveDemo, browser) -> None:  # noqa: ANN001
    french = browser.new_context(locale="fr-FR")
    page = french.new_page()
    page.goto(live_demo.url + "/login")
    expect(page.get_by_label("Mot de passe")).to_be_visible()
    page.get_by_role("button", name="EN").click()
    expect(page.get_by_label("Password")).to_be_visible()
    french.close()


def test_no_csp_violation_and_no_script_error_on_the_sign_in_pages(live_demo: LiveDemo, page) -> None:  # noqa: ANN001
    problems: list[str] = []
    page.on("console", lambda message: problems.append(message.text) if message.type == "error" else None)
    page.on("pageerror", lambda error: problems.append(str(error)))
    live_demo.sign_in(page, ALICE)
    page.goto(live_demo.url + "/account")
    assert problems == []
