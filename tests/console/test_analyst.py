"""The analyst's pages: the queue after the Okta day, a case's timeline, verdicts, closing, and the
approval of a waiting runbook step (the suspension of a privileged person), with role and tenant checks."""

from __future__ import annotations

import pytest
from console_kit import Console

from deskguard.sim.day import build_day

pytestmark = pytest.mark.db
ANNA, ALICE, OLGA = "anna.analyst@desk.example", "alice.agent@desk.example", "olga@farshore.example"
ACME = "/t/tnt_acme"
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


def _top_case(browser, path: str = f"{ACME}/cases") -> str:  # noqa: ANN001
    page = browser.get(path)
    assert page.status_code == 200, page.text
    start = page.text.index(f'href="{ACME}/cases/case_') + len('href="')
    return page.text[start : page.text.index('"', start)]


def test_the_queue_ranks_jeannes_case_first_with_its_reasons_and_refreshes_by_htmx(console: Console) -> None:
    console.ingest(build_day()["okta-system-log.ndjson"], "okta")
    anna = console.sign_in(ANNA)
    page = anna.get(f"{ACME}/cases")
    assert page.status_code == 200
    assert 'hx-trigger="every 5s"' in page.text and "<html" in page.text
    assert page.text.index("jeanne.martin@acme.example") < page.text.index("</table>")
    assert "priority 80 = critical severity (100) × medium confidence (0.8)" in page.text
    fragment = anna.get(f"{ACME}/cases", headers={"HX-Request": "true"})
    assert fragment.status_code == 200 and "<html" not in fragment.text and "jeanne.martin" in fragment.text


def test_the_case_page_shows_the_timeline_and_every_explanation(console: Console) -> None:
    for name in ("okta-system-log.ndjson", "entra-azure-monitor.json"):
        console.ingest(build_day()[name])
    anna = console.sign_in(ANNA)
    case = anna.get(_top_case(anna))
    assert case.status_code == 200
    text = case.text
    assert "Case: jeanne.martin@acme.example" in text
    assert "Okta password reset, MFA reset and a new factor for one person within the hour (critical)" in text
    assert "Entra ID privileged directory role granted (high)" in text  # an identity-provider event
    assert "k.dupont.adm@acme.example removed the factors of jeanne.martin@acme.example" in text
    assert text.index("09:06:00") < text.index("09:35:00")  # in time order


def test_a_verdict_is_recorded_and_retrains_then_closing_closes(console: Console) -> None:
    console.ingest(build_day()["okta-system-log.ndjson"], "okta")
    anna = console.sign_in(ANNA)
    url = _top_case(anna)
    page = anna.get(url).text
    start = page.index(f'action="{url}/alerts/') + len('action="')
    action = page[start : page.index('"', start)]
    refused = anna.post(action, data={"verdict": "true_positive"})
    assert refused.status_code == 403  # no CSRF token
    done = anna.post(
        action, data={"verdict": "true_positive", "comment": "INC-1", "csrf": Console.csrf(page)}
    )
    assert done.status_code == 303 and done.headers["location"] == f"{url}?done=verdict"
    after = anna.get(done.headers["location"]).text
    assert "Verdict recorded" in after and "Verdict: true positive (by op_anna): INC-1" in after
    with console.runtime.ctx.reads() as uow:
        events = [e.type.value for e in uow.outbox.list(tenant_id="tnt_acme", limit=5000)]
    assert events.count("alert.verdict") == 1
    closed = anna.post(f"{url}/close", data={"comment": "handled", "csrf": Console.csrf(after)})
    assert closed.status_code == 303
    assert "Case closed." in anna.get(closed.headers["location"]).text
    again = anna.post(f"{url}/close", data={"comment": "twice", "csrf": Console.csrf(after)})
    assert again.status_code == 409 and "already closed" in again.text


def test_the_waiting_suspension_is_approved_from_the_case_page(console: Console) -> None:
    console.ingest(
        [
            _okta("c1", "user.account.reset_password", "08:30:00", "k.dupont.adm@acme.example"),
            _okta("c2", "user.mfa.factor.reset_all", "08:32:00", "k.dupont.adm@acme.example"),
            _okta("c3", "user.mfa.factor.activate", "08:40:00", CLAIRE),
        ],
        "okta",
    )
    anna = console.sign_in(ANNA)
    url = _top_case(anna)
    page = anna.get(url).text
    assert "suspend_account" in page and "awaiting_approval" in page
    start = page.index(f'action="{url}/steps/') + len('action="')
    action = page[start : page.index('"', start)]
    assert action.endswith("/approve")
    empty = anna.post(action, data={"comment": " ", "csrf": Console.csrf(page)})
    assert empty.status_code == 422 and "comment must say why" in empty.text
    done = anna.post(action, data={"comment": "confirmed with the CFO's office", "csrf": Console.csrf(page)})
    assert done.status_code == 303, done.text
    after = anna.get(done.headers["location"]).text
    assert "Step approved and run." in after
    assert "decided by op_anna: confirmed with the CFO&#39;s office" in after
    assert '<strong>suspend_account</strong> <span class="badge">done</span>' in after
    assert "account suspended by fake" in after  # the demo's identity provider (adapters/idp/fake.py)


def test_an_agent_cannot_reach_the_queue_and_another_tenant_is_not_found(console: Console) -> None:
    console.ingest(build_day()["okta-system-log.ndjson"], "okta")
    alice = console.sign_in(ALICE)
    assert alice.get(f"{ACME}/cases").status_code == 403
    olga = console.sign_in(OLGA)  # a Globex supervisor
    assert olga.get(f"{ACME}/cases").status_code in (403, 404)
    anna = console.sign_in(ANNA)
    url = _top_case(anna)
    assert olga.get(url).status_code in (403, 404)
    assert alice.get(url).status_code == 403
