"""The Scattered Spider call, in the browser: the agent's whole journey, and Claire's push on her side.

A caller claims to be Claire Dubois, the CFO: lost phone, board in an hour, please reset her MFA. Alice
(agent) finds Claire, asks for the MFA reset and sees what it takes before opening anything. The caller's
perfect answers to security questions count for nothing. Alice starts the push and reads the number out;
the real Claire, signed in to her portal in a second browser, types it and approves. The automated
call-back to the registered number (never the caller's) is confirmed by the telephony provider's signed
webhook. Bruno approves (4-eyes) in a third browser. Alice executes and sees it done, and no secret.
"""

from __future__ import annotations

import json
import re

import httpx
import pytest
from browser_kit import Journey, LiveDemo
from playwright.sync_api import Page, expect

from deskguard.api.routes.webhooks import sign

pytestmark = pytest.mark.e2e
ALICE, BRUNO, CLAIRE = (
    "alice.agent@desk.example",
    "bruno.supervisor@desk.example",
    "claire.dubois0@acme.example",
)
CALLER_NUMBER = "+447700900123"


def _watch(page: Page, problems: list[str]) -> None:
    page.on("console", lambda m: problems.append(f"{page.url}: {m.text}") if m.type == "error" else None)
    page.on("pageerror", lambda error: problems.append(f"{page.url}: {error}"))


def _telephony_webhook(live_demo: LiveDemo, call_id: str) -> None:
    body = json.dumps({"call_id": call_id, "confirmed": True}).encode()
    answer = httpx.post(
        live_demo.url + "/api/v1/webhooks/telephony",
        content=body,
        headers={
            "x-deskguard-signature": sign(live_demo.runtime.settings.webhook_key(), body),
            "content-type": "application/json",
        },
    )
    assert answer.status_code == 200, answer.text


def _approve_as_supervisor(live_demo: LiveDemo, browser, journey: Journey) -> None:  # noqa: ANN001
    """Bruno approves from his inbox in a third browser."""
    bruno_context = browser.new_context(locale="en-GB", viewport={"width": 1366, "height": 800})
    bruno = bruno_context.new_page()
    problems: list[str] = []
    _watch(bruno, problems)
    live_demo.sign_in(bruno, BRUNO)
    bruno.goto(live_demo.url + "/t/tnt_acme/approvals")
    item = bruno.locator("article, section, li, tr").filter(has_text="Claire Dubois").first
    expect(item).to_be_visible()
    journey.shot(bruno, "supervisor-inbox")
    comment = item.get_by_label(re.compile("comment", re.IGNORECASE))
    comment.fill("call-back and push OK")
    item.get_by_role("button", name=re.compile("^Approve", re.IGNORECASE)).click()
    expect(bruno.get_by_text(re.compile("approved", re.IGNORECASE)).first).to_be_visible()
    journey.shot(bruno, "supervisor-approved")
    assert problems == []
    bruno_context.close()


def test_the_scattered_spider_call_in_the_browser(live_demo: LiveDemo, browser, page: Page) -> None:  # noqa: ANN001
    journey, problems = Journey("agent-scattered-spider"), []
    _watch(page, problems)

    # 1. Alice finds Claire: results come as she types.
    live_demo.sign_in(page, ALICE)
    expect(page).to_have_url(re.compile("/t/tnt_acme/agent$"))
    page.get_by_label("Name, e-mail, employee id or phone").fill("Claire")
    page.get_by_role("link", name=re.compile("Claire Dubois")).first.click()
    expect(page.get_by_role("heading", name=re.compile("Claire Dubois"))).to_be_visible()
    expect(page.get_by_text("privileged").first).to_be_visible()
    journey.shot(page, "identity-card")

    # 2. The MFA reset, with the call's ticket: what would it take? (nothing is opened yet)
    page.get_by_label("Action", exact=True).select_option("reset_mfa")
    page.get_by_role("button", name="Choose").click()
    page.get_by_label("Ticket reference").fill("INC-20931")
    page.get_by_label("Who the caller says they are").fill("Claire Dubois, CFO")
    page.get_by_label("Caller number").fill(CALLER_NUMBER)
    page.get_by_label("Justification").fill("lost phone, board in an hour")
    page.get_by_role("button", name="What would it take?").click()
    decision = page.locator("#decision")
    expect(decision).to_contain_text("security questions never count")
    expect(decision).to_contain_text("If the caller pushes back")
    journey.shot(page, "decision-preview")
    page.get_by_role("button", name="Open the request").click()
    expect(page).to_have_url(re.compile(r"/t/tnt_acme/requests/req_"))
    expect(page.get_by_text("waiting for proofs of identity").first).to_be_visible()
    journey.shot(page, "request-opened")

    # 3. The caller answers the security questions perfectly: recorded, counts for nothing.
    page.get_by_label("Knowledge question asked (recorded, never counts)").fill("date of birth")
    page.get_by_label("Answer matched").select_option("yes")
    page.get_by_role("button", name="Record the answer").click()
    expect(page.get_by_text("waiting for proofs of identity").first).to_be_visible()

    # 4. Push with number matching: Alice reads the number; Claire types it in her own portal.
    page.get_by_label("Start a proof").select_option("push_number_match")
    page.get_by_role("button", name="Start", exact=True).click()
    number = page.get_by_label("Number to read out").inner_text().strip()
    assert re.fullmatch(r"\d{2}", number), number
    journey.shot(page, "push-number")

    claire_context = browser.new_context(locale="en-GB", viewport={"width": 414, "height": 860})
    claire = claire_context.new_page()
    _watch(claire, problems)
    live_demo.sign_in(claire, CLAIRE)
    claire.goto(live_demo.url + "/portal")
    expect(claire.get_by_text("The helpdesk is asking you to confirm it is you.")).to_be_visible()
    journey.shot(claire, "employee-push")
    claire.get_by_label("The number the agent reads out to you").fill(number)
    claire.get_by_role("button", name="Approve").click()
    expect(claire.get_by_text("Approved. You can tell the agent.")).to_be_visible()
    journey.shot(claire, "employee-approved")
    claire_context.close()

    # Alice's page follows by itself (it polls): the push has succeeded.
    expect(
        page.locator("li, tr, section").filter(has_text="push with number matching").first
    ).to_contain_text("succeeded", timeout=10_000)

    # 5. Automated call-back to the registered number, shown as text, never as an editable field.
    page.get_by_label("Start a proof").select_option("callback_automated")
    page.get_by_role("button", name="Start", exact=True).click()
    registered = live_demo.runtime.telephony.calls[-1]
    assert registered.to_number != CALLER_NUMBER
    expect(page.get_by_text(registered.to_number).first).to_be_visible()
    assert page.locator(f'input[value="{registered.to_number}"]').count() == 0
    journey.shot(page, "callback-registered-number")
    _telephony_webhook(live_demo, registered.call_id)
    expect(page.get_by_text("waiting for approval").first).to_be_visible(timeout=10_000)
    journey.shot(page, "waiting-for-approval")

    # 6. Alice has no approve button; Bruno approves from his inbox.
    assert page.get_by_role("button", name=re.compile("^Approve")).count() == 0
    _approve_as_supervisor(live_demo, browser, journey)

    # 7. Alice executes: done, in words; no secret on her screen.
    expect(page.get_by_role("button", name="Execute now")).to_be_visible(timeout=10_000)
    page.get_by_role("button", name="Execute now").click()
    expect(page.get_by_role("heading", name="Done")).to_be_visible()
    expect(page.get_by_text("You never see a secret an action produces")).to_be_visible()
    journey.shot(page, "done")
    assert problems == []
    assert len(journey.shots) >= 10
