"""The vishing exercises in a real browser: Bruno plans a campaign for the quarter, records two calls
(one followed, one failed: "accepted a knowledge answer"), sends the feedback; Alice reads hers; Bruno
reads the trends with their chart. No console error, no CSP violation."""

from __future__ import annotations

from datetime import timedelta

import pytest
from browser_kit import Journey, LiveDemo
from playwright.sync_api import expect

from deskguard.domain.exercises import Quarter

pytestmark = pytest.mark.e2e
BRUNO, ALICE = "bruno.supervisor@desk.example", "alice.agent@desk.example"


def _watch(page) -> list[str]:  # noqa: ANN001 - a Playwright Page
    problems: list[str] = []
    page.on("console", lambda message: problems.append(message.text) if message.type == "error" else None)
    page.on("pageerror", lambda error: problems.append(str(error)))
    return problems


def _record(page, agent: str, outcome: str, failure: str = "") -> None:  # noqa: ANN001
    page.get_by_label("Agent", exact=True).select_option(label=agent)
    page.get_by_label("Tester script").select_option(label="New hire locked out on their first week")
    page.get_by_label(outcome, exact=True).check()
    if failure:
        page.get_by_label(failure).check()
        page.get_by_label("Notes").fill("The caller's birth date and manager's name were taken as proof.")
    page.get_by_role("button", name="Record the call").click()
    expect(page.get_by_role("status")).to_have_text("The call is recorded.")


def test_bruno_runs_a_quarterly_exercise_alice_reads_her_feedback(live_demo: LiveDemo, browser) -> None:  # noqa: ANN001
    quarter = Quarter.of(live_demo.clock.now())
    supervisor = browser.new_context()
    page = supervisor.new_page()
    problems = _watch(page)
    journey = Journey("exercises-quarter")
    live_demo.sign_in(page, BRUNO)
    page.get_by_role("link", name="Vishing exercises").click()
    expect(page.get_by_role("heading", name="Plan a campaign")).to_be_visible()
    journey.shot(page, "campaigns")
    page.get_by_label("Name").fill(f"{quarter} helpdesk vishing exercise")
    expect(page.get_by_label("Quarter")).to_have_value(str(quarter))
    page.get_by_label("Window starts (UTC)").fill(quarter.start().strftime("%Y-%m-%dT%H:%M"))
    page.get_by_label("Window ends (UTC)").fill(
        (quarter.end() - timedelta(minutes=1)).strftime("%Y-%m-%dT%H:%M")
    )
    page.get_by_label("FarShore Support Ltd").check()
    page.get_by_label("Alice (agent)").check()
    page.get_by_label("CFO abroad, lost phone, board in an hour").check()
    page.get_by_label("New hire locked out on their first week").check()
    journey.shot(page, "plan")
    page.get_by_role("button", name="Plan the campaign").click()
    expect(page.get_by_role("status")).to_have_text("The campaign is planned.")
    journey.shot(page, "planned")
    _record(page, "Oscar (outsourced agent)", "Procedure followed")
    _record(page, "Alice (agent)", "Procedure not followed", "Accepted a knowledge answer as proof")
    expect(page.get_by_role("table")).to_contain_text("Accepted a knowledge answer as proof")
    journey.shot(page, "recorded")
    page.get_by_role("button", name="Send the 2 pending feedback e-mails").click()
    expect(page.get_by_role("status")).to_have_text("The feedback was sent.")
    journey.shot(page, "feedback-sent")
    assert {m.to for m in live_demo.runtime.response_notifier.sent if "exercise" in m.subject} == {
        ALICE,
        "oscar@farshore.example",
    }

    agent = browser.new_context()
    alice = agent.new_page()
    alice_problems = _watch(alice)
    live_demo.sign_in(alice, ALICE)
    alice.goto(live_demo.url + "/account")
    alice.get_by_role("link", name="My vishing exercise feedback").click()
    expect(alice.get_by_role("heading", name="My exercise feedback")).to_be_visible()
    expect(
        alice.get_by_role("listitem").filter(has_text="Accepted a knowledge answer as proof")
    ).to_be_visible()
    expect(alice.get_by_role("heading", name="What to say next time")).to_be_visible()
    expect(alice.locator("main")).not_to_contain_text("Oscar")
    journey.shot(alice, "alice-feedback")
    assert alice_problems == []
    alice.goto(page.url)  # the campaign page is a supervisor's (the browser logs the 403 it got)
    expect(alice.get_by_role("heading", name="Not allowed")).to_be_visible()

    page.get_by_role("link", name="All campaigns").click()
    page.get_by_role("link", name="Trends per quarter, desk and agent").click()
    expect(page.get_by_role("heading", name="Outcomes per quarter and desk")).to_be_visible()
    expect(page.locator("#chart-outcomes")).to_be_visible()
    row = page.get_by_role("row").filter(has_text="Every desk")
    expect(row).to_contain_text("50")
    expect(row).to_contain_text("Accepted a knowledge answer as proof (1)")
    page.wait_for_function("() => window.Chart && Chart.getChart('chart-outcomes') !== undefined")
    journey.shot(page, "trends")
    assert problems == []
    supervisor.close()
    agent.close()
