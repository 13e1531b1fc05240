"""The vishing exercises in the console: plan, record, send feedback, trends with the chart's data,
the quarterly report in HTML and CSV, an agent's own feedback; roles, tenants and CSRF."""

from __future__ import annotations

import csv
import io
import json
import re

import pytest
from console_kit import Console

pytestmark = pytest.mark.db
BRUNO, ALICE, OSCAR, OLGA, AUDE = (
    "bruno.supervisor@desk.example",
    "alice.agent@desk.example",
    "oscar@farshore.example",
    "olga@farshore.example",
    "aude.auditor@audit.example",
)
ACME = "/t/tnt_acme"
PLAN = {
    "name": "Q4 vishing exercise",
    "quarter": "2026-Q4",
    "starts_at": "2026-10-01T00:00",
    "ends_at": "2026-12-31T23:00",
    "provider_ids": ["prv_outsourced"],
    "operator_ids": ["op_alice"],
    "script_ids": ["cfo_lost_phone", "new_hire_locked_out"],
}


def _plan(console: Console, browser) -> str:  # noqa: ANN001
    page = browser.get(f"{ACME}/exercises")
    assert page.status_code == 200, page.text
    done = browser.post(f"{ACME}/exercises", data={**PLAN, "csrf": console.csrf(page.text)})
    assert done.status_code == 303, done.text
    return done.headers["location"].split("/c/")[1].split("?")[0]


def _record(console: Console, browser, cid: str, operator: str, outcome: str, *failures: str) -> None:  # noqa: ANN001
    page = browser.get(f"{ACME}/exercises/c/{cid}")
    form = {"operator_id": operator, "script_id": "cfo_lost_phone", "called_at": "2026-11-20T14:30"}
    form |= {
        "outcome": outcome,
        "failures": list(failures),
        "notes": "read the birth date",
        "csrf": console.csrf(page.text),
    }
    done = browser.post(f"{ACME}/exercises/c/{cid}/calls", data=form)
    assert done.status_code == 303, done.text


def test_a_supervisor_plans_records_sends_feedback_and_reads_trends_and_report(console: Console) -> None:
    bruno = console.sign_in(BRUNO)
    cid = _plan(console, bruno)
    _record(console, bruno, cid, "op_alice", "failed", "accepted_knowledge_answer")
    _record(console, bruno, cid, "op_oscar", "followed")
    page = bruno.get(f"{ACME}/exercises/c/{cid}?done=recorded")
    assert "The call is recorded." in page.text and "Accepted a knowledge answer as proof" in page.text
    assert "<script>" not in page.text and "style=" not in page.text
    sent = bruno.post(f"{ACME}/exercises/c/{cid}/feedback", data={"csrf": console.csrf(page.text)})
    assert sent.status_code == 303
    mails = {m.to: m for m in console.runtime.response_notifier.sent if "exercise" in m.subject}
    assert set(mails) == {ALICE, OSCAR} and all(m.channel == "email" for m in mails.values())
    trends = bruno.get(f"{ACME}/exercises/trends?quarter=2026-Q4")
    text = trends.text
    start = text.index('id="chart-data">') + len('id="chart-data">')
    data = json.loads(text[start : text.index("</script>", start)])
    assert data["labels"][0] == "2026-Q4 · every desk"
    assert [s["values"][0] for s in data["series"]] == [50.0, 0.0, 0.0, 50.0]
    assert '<script src="/static/exercises.js" defer></script>' in text
    rows = list(csv.reader(io.StringIO(bruno.get(f"{ACME}/exercises/report/2026-Q4.csv").text)))
    assert rows[0][:5] == ["quarter", "scope", "key", "name", "calls"]
    assert rows[1][:9] == ["2026-Q4", "all", "", "", "2", "50.0", "0.0", "0.0", "50.0"]
    assert rows[1][9] == "accepted_knowledge_answer=1"
    report = bruno.get(f"{ACME}/exercises/report/2026-Q4")
    assert report.status_code == 200 and "Vishing exercises report 2026-Q4" in report.text
    assert bruno.get(f"{ACME}/exercises/report/2026-Q4.pdf").status_code == 404


def test_an_agent_reads_only_their_own_feedback_and_reaches_no_supervisor_page(console: Console) -> None:
    bruno = console.sign_in(BRUNO)
    cid = _plan(console, bruno)
    _record(console, bruno, cid, "op_alice", "failed", "accepted_knowledge_answer")
    _record(console, bruno, cid, "op_oscar", "escalated")
    page = bruno.get(f"{ACME}/exercises/c/{cid}")
    for call_id in re.findall(r"/exercises/calls/([^/]+)/feedback", page.text):
        assert (
            bruno.post(
                f"{ACME}/exercises/calls/{call_id}/feedback", data={"csrf": console.csrf(page.text)}
            ).status_code
            == 303
        )
    alice = console.sign_in(ALICE)
    assert alice.get(f"{ACME}/exercises").status_code == 403
    assert alice.get(f"{ACME}/exercises/c/{cid}").status_code == 403
    assert alice.get(f"{ACME}/exercises/trends").status_code == 403
    assert "/my-feedback" in alice.get("/account").text
    mine = alice.get("/my-feedback")
    assert mine.status_code == 200
    assert "Accepted a knowledge answer as proof" in mine.text and "What to say next time" in mine.text
    assert "Escalated" not in mine.text  # Oscar's call is not Alice's
    page = alice.get("/my-feedback")
    csrf = console.csrf(page.text)
    assert (
        alice.post(
            f"{ACME}/exercises/c/{cid}/calls",
            data={
                "csrf": csrf,
                "operator_id": "op_alice",
                "script_id": "cfo_lost_phone",
                "called_at": "2026-11-20T14:30",
                "outcome": "followed",
            },
        ).status_code
        == 403
    )


def test_tenants_csrf_auditors_and_clear_errors(console: Console) -> None:
    olga = console.sign_in(OLGA)  # outsourced supervisor, Globex only
    assert olga.get(f"{ACME}/exercises").status_code in (403, 404)
    bruno = console.sign_in(BRUNO)
    page = bruno.get(f"{ACME}/exercises")
    assert bruno.post(f"{ACME}/exercises", data=PLAN).status_code == 403  # no CSRF token
    bad = bruno.post(f"{ACME}/exercises", data={**PLAN, "starts_at": "soon", "csrf": console.csrf(page.text)})
    assert bad.status_code == 422 and "starts_at" in bad.text
    bad = bruno.post(
        f"{ACME}/exercises", data={**PLAN, "quarter": "2026-Q3", "csrf": console.csrf(page.text)}
    )
    assert bad.status_code == 422 and "2026-Q3" in bad.text
    cid = _plan(console, bruno)
    aude = console.sign_in(AUDE)
    listed = aude.get(f"{ACME}/exercises")
    assert (
        listed.status_code == 200
        and "Q4 vishing exercise" in listed.text
        and "Plan the campaign" not in listed.text
    )
    assert "Record the call" not in aude.get(f"{ACME}/exercises/c/{cid}").text
