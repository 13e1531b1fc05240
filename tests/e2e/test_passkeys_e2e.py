"""Passkeys in Chromium: register one on /account, sign out, sign in with the password and the passkey.

The authenticator is Chromium's own virtual authenticator (DevTools ``WebAuthn`` domain: CTAP2,
internal transport, resident keys, user verification), so the browser's real WebAuthn code runs.
WebAuthn refuses an IP address as relying party: the console is reached as ``localhost``.
"""

from __future__ import annotations

import pytest
from browser_kit import DEMO_PASSWORD, Journey, LiveDemo
from playwright.sync_api import expect

pytestmark = pytest.mark.e2e
ALICE = "alice.agent@desk.example"


def test_an_agent_registers_a_passkey_and_signs_in_with_it(live_demo: LiveDemo, context, page) -> None:  # noqa: ANN001
    problems: list[str] = []
    page.on("console", lambda message: problems.append(message.text) if message.type == "error" else None)
    page.on("pageerror", lambda error: problems.append(str(error)))
    cdp = context.new_cdp_session(page)
    cdp.send("WebAuthn.enable")
    options = {
        "protocol": "ctap2",
        "transport": "internal",
        "hasResidentKey": True,
        "hasUserVerification": True,
        "isUserVerified": True,
    }
    authenticator = cdp.send("WebAuthn.addVirtualAuthenticator", {"options": options})["authenticatorId"]
    journey = Journey("passkeys-register-and-sign-in")
    live_demo.url = live_demo.url.replace("127.0.0.1", "localhost")
    live_demo.sign_in(page, ALICE)
    page.goto(live_demo.url + "/account")
    expect(page.get_by_role("heading", name="Passkeys")).to_be_visible()
    journey.shot(page, "account")
    page.get_by_label("Name of the new passkey (which device it is on)").fill("virtual authenticator")
    page.get_by_role("button", name="Add a passkey").click()
    expect(page.get_by_role("status").filter(has_text="Passkey added")).to_be_visible()
    expect(page.get_by_role("cell", name="virtual authenticator")).to_be_visible()
    journey.shot(page, "registered")
    assert len(cdp.send("WebAuthn.getCredentials", {"authenticatorId": authenticator})["credentials"]) == 1
    page.locator("header").get_by_role("button", name="Sign out", exact=True).click()
    expect(page.get_by_role("heading", name="Signed out")).to_be_visible()
    page.goto(live_demo.url + "/login")
    page.get_by_label("E-mail address").fill(ALICE)
    page.get_by_label("Password").fill(DEMO_PASSWORD)
    page.get_by_label("Password").press("Enter")
    expect(page.get_by_role("button", name="Use a passkey")).to_be_visible()
    journey.shot(page, "second-step")
    page.get_by_role("button", name="Use a passkey").focus()
    page.keyboard.press("Enter")
    page.wait_for_url(lambda url: "/login" not in url)
    page.goto(live_demo.url + "/account")
    expect(page.get_by_role("heading", name="My console account")).to_be_visible()
    journey.shot(page, "signed-in-with-passkey")
    assert problems == [], problems
