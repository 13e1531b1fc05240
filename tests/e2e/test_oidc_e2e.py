"""Signing in with a company account in Chromium, against the local OpenID provider (tests/oidc_provider.py).

The console is served on 127.0.0.1 and the provider on ``localhost``: two sites, so the provider's
redirect back to the callback is a cross-site navigation, on which the browser does not send the
SameSite=Strict session cookie. The callback therefore answers with a page that moves on to the
console by itself; this test proves in a real browser that the person lands signed in.
"""

from __future__ import annotations

import pytest
from browser_kit import Journey, LiveDemo
from playwright.sync_api import expect

from oidc_provider import OidcProvider

pytestmark = pytest.mark.e2e
ALICE = "alice.agent@desk.example"


def test_an_agent_signs_in_with_the_company_account(
    live_demo_oidc: tuple[LiveDemo, OidcProvider], page
) -> None:  # noqa: ANN001
    live, provider = live_demo_oidc
    problems: list[str] = []
    page.on("console", lambda message: problems.append(message.text) if message.type == "error" else None)
    page.on("pageerror", lambda error: problems.append(str(error)))
    sent: dict[str, str] = {}
    page.on("request", lambda r: sent.__setitem__(r.url.split("?")[0], r.all_headers().get("cookie", "")))
    journey = Journey("oidc-sign-in")
    page.goto(live.url + "/login")
    journey.shot(page, "login")
    page.get_by_role("link", name="Sign in with your company account").click()
    expect(page.get_by_role("heading", name="Company sign-in")).to_be_visible()
    journey.shot(page, "provider")
    page.get_by_role("link", name=f"Continue as {ALICE}").click()
    page.wait_for_url(lambda url: "/login" not in url)
    assert provider.requests.count("POST /token") == 1  # the console really exchanged the code
    cookie = next(c for c in page.context.cookies() if c["name"] == "__Host-dg_session")
    assert cookie["httpOnly"] and cookie["secure"] and cookie["sameSite"] == "Strict"
    journey.shot(page, "signed-in")
    page.goto(live.url + "/account")
    expect(page.get_by_role("heading", name="My console account")).to_be_visible()
    expect(page.get_by_text(ALICE).first).to_be_visible()
    journey.shot(page, "account")
    # Why the hop is needed: signed in, go round the provider again; the cross-site callback comes
    # without the Strict cookie, the console's own next request with it.
    live.clock.advance(seconds=5)
    page.goto(live.url + "/login")
    page.get_by_role("link", name="Sign in with your company account").click()
    page.get_by_role("link", name=f"Continue as {ALICE}").click()
    page.wait_for_url(lambda url: "/login" not in url)
    assert "dg_session" not in sent[live.url + "/login/oidc/callback"]
    assert "__Host-dg_session=" in sent[live.url + "/home"]
    assert problems == []
