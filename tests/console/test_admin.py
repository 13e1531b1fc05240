"""The administrator's pages: policy (lint, cases, explain), rule modes, runbooks, accounts, connectors."""

from __future__ import annotations

import json

import pytest
from console_kit import Console
from markupsafe import escape

from deskguard.app.detection import ingest
from deskguard.domain.connectors import PORT_KINDS
from deskguard.domain.events import Actor, ActorKind
from deskguard.domain.ports import RecordQuery
from deskguard.sim.demo import DEMO_PASSWORD

pytestmark = pytest.mark.db
ADRIEN, ALICE, OLGA, OSCAR = (
    "adrien.admin@desk.example",
    "alice.agent@desk.example",
    "olga@farshore.example",
    "oscar@farshore.example",
)
ADMIN = "/t/tnt_acme/admin"


def _explain(browser, token: str, **fields: object):  # noqa: ANN001, ANN202 - a TestClient
    form = {
        "csrf": token,
        "action": "reset_mfa",
        "provider_id": "prv_internal",
        "when": "2026-12-01T10:00",
        "channel": "phone",
        "risk_score": "0",
        "has_push_device": "true",
        "has_totp": "true",
        "has_ticket": "true",
        **fields,
    }
    return browser.post(ADMIN + "/explain", data=form)


def test_only_an_admin_of_the_tenant_reaches_the_admin_pages(console: Console) -> None:
    agent = console.sign_in(ALICE)
    for path in ("", "/rules", "/runbooks", "/people", "/connectors"):
        assert agent.get(ADMIN + path).status_code == 403, path
    olga = console.sign_in(OLGA)  # a supervisor of Globex only
    assert olga.get("/t/tnt_globex/admin").status_code == 403
    assert olga.get("/t/tnt_acme/admin").status_code == 404  # another tenant: not found (DESIGN)
    admin = console.sign_in(ADRIEN)
    for path in ("", "/rules", "/runbooks", "/people", "/connectors"):
        page = admin.get(ADMIN + path)
        assert page.status_code == 200, (path, page.text[:300])


def test_the_policy_page_shows_the_loaded_file_its_lint_and_its_cases(console: Console) -> None:
    page = console.sign_in(ADRIEN).get(ADMIN).text
    policy = console.runtime.ctx.policy
    assert f"Assurance policy {policy.name}, version {policy.version}" in page
    assert "No problem found in the file." in page
    assert f"{len(policy.document.cases)} passed, 0 failed" in page
    assert policy.document.cases[0].name in page


def test_explain_gives_the_decision_and_the_rules_that_matched(console: Console) -> None:
    admin = console.sign_in(ADRIEN)
    token = Console.csrf(admin.get(ADMIN).text)
    plain = _explain(admin, token)
    assert plain.status_code == 200 and "Rules evaluated" in plain.text
    assert "not yet allowed" in plain.text and "action:reset_mfa" in plain.text
    # The same request from an outsourced provider, for a privileged person at risk: a stricter answer.
    risky = _explain(
        admin,
        token,
        provider_id="prv_outsourced",
        privileged="true",
        risk_score="90",
        when="2026-12-05T23:30",
    )
    assert risky.status_code == 200
    matched_plain = plain.text.count('class="matched"')
    matched_risky = risky.text.count('class="matched"')
    assert matched_risky > matched_plain, "more rules match the riskier request"
    assert 'value="prv_outsourced" selected' in risky.text  # the form keeps what was asked


def test_explain_refuses_bad_input_with_the_field_named(console: Console) -> None:
    admin = console.sign_in(ADRIEN)
    token = Console.csrf(admin.get(ADMIN).text)
    assert "action" in _explain(admin, token, action="format_disk").text
    unknown = _explain(admin, token, provider_id="prv_nowhere")
    assert unknown.status_code == 404 and "provider prv_nowhere" in unknown.text
    assert _explain(admin, token, risk_score="250").status_code == 422
    assert _explain(admin, token, when="yesterday").status_code == 422
    assert _explain(admin, "").status_code == 403  # no CSRF token


def test_a_rule_set_to_off_or_monitor_changes_what_the_detector_raises(console: Console) -> None:
    ctx = console.runtime.ctx
    admin = console.sign_in(ADRIEN)
    page = admin.get(ADMIN + "/rules").text
    rule_id = "Okta.Support.ResetBySupport"  # content/rules/okta/support_reset.yml: one event raises it
    assert rule_id in page
    token = Console.csrf(page)
    refused = admin.post(ADMIN + "/rules", data={"rule_id": rule_id, "mode": "off"})
    assert refused.status_code == 403  # no CSRF token
    assert (
        admin.post(ADMIN + "/rules", data={"csrf": token, "rule_id": rule_id, "mode": "loud"}).status_code
        == 422
    )
    assert (
        admin.post(
            ADMIN + "/rules", data={"csrf": token, "rule_id": "No.Such.Rule", "mode": "off"}
        ).status_code
        == 404
    )
    analyst = Actor(kind=ActorKind.OPERATOR, id="op_anna", role="analyst", tenant_ids=frozenset({"tnt_acme"}))

    def raised(n: int) -> list[str]:
        record = _okta_factor_reset(n)
        result = ingest(
            ctx, actor=analyst, tenant_id="tnt_acme", source="okta", body=json.dumps(record).encode()
        )
        return [f"{a.rule_id}:{a.mode}" for a in result.alerts if a.rule_id == rule_id]

    assert raised(1) == [f"{rule_id}:alert"]
    done = admin.post(ADMIN + "/rules", data={"csrf": token, "rule_id": rule_id, "mode": "monitor"})
    assert done.status_code == 200 and f"{rule_id} is now: monitor." in done.text
    assert raised(2) == [f"{rule_id}:monitor"]
    admin.post(ADMIN + "/rules", data={"csrf": token, "rule_id": rule_id, "mode": "off"})
    assert raised(3) == []
    admin.post(ADMIN + "/rules", data={"csrf": token, "rule_id": rule_id, "mode": "on"})
    assert raised(4) == [f"{rule_id}:alert"]
    with ctx.reads() as uow:
        kinds = [
            r.record.type
            for r in uow.ledger.search(
                tenant_id="tnt_acme", query=RecordQuery(type="detection.rule_mode_changed")
            )
        ]
    assert kinds.count("detection.rule_mode_changed") == 3


def _okta_factor_reset(n: int) -> dict:
    """A factor reset by Okta's own system account, no client: the rule's positive case, per person."""
    return {
        "uuid": f"a6b7c8d9-0000-4000-8000-00000000200{n}",
        "published": f"2026-12-01T09:0{n}:00.000Z",
        "eventType": "user.mfa.factor.reset_all",
        "displayMessage": "Reset all factors for user",
        "actor": {"id": "0oa1system", "type": "SystemPrincipal", "alternateId": "system@okta.com"},
        "client": {"ipAddress": None, "userAgent": None, "geographicalContext": None},
        "outcome": {"result": "SUCCESS"},
        "transaction": {"type": "JOB", "id": "unknown"},
        "target": [{"id": f"00u{n}", "type": "User", "alternateId": f"person{n}@acme.example"}],
    }


def test_runbooks_list_their_triggers_and_steps(console: Console) -> None:
    page = console.sign_in(ADRIEN).get(ADMIN + "/runbooks").text
    runbooks = console.runtime.ctx.detector.runbooks
    assert runbooks, "the demo loads the shipped runbooks"
    for runbook in runbooks:
        assert escape(runbook.title) in page
        assert all(escape(step.describe()) in page for step in runbook.steps)


def test_a_locked_operator_cannot_sign_in_until_unlocked(console: Console) -> None:
    oscar = console.sign_in(OSCAR)
    assert oscar.get("/home").status_code == 303
    admin = console.sign_in(ADRIEN)
    people = admin.get(ADMIN + "/people").text
    assert "FarShore Support Ltd" in people and "Acme Industries" in people
    with console.runtime.ctx.reads() as uow:
        account = uow.console_accounts.get_by_login(OSCAR)
    url = f"{ADMIN}/accounts/{account.id}/lock"
    assert admin.post(url, data={"locked": "true"}).status_code == 403  # no CSRF token
    token = Console.csrf(people)
    locked = admin.post(url, data={"csrf": token, "locked": "true"})
    assert locked.status_code == 200 and f"The account {OSCAR} is locked" in locked.text
    assert oscar.get("/home").headers["location"].startswith("/login")  # signed out everywhere
    refused = console.browser().post("/login", data={"login": OSCAR, "password": DEMO_PASSWORD})
    assert refused.status_code == 401
    unlocked = admin.post(url, data={"csrf": token, "locked": "false"})
    assert f"The account {OSCAR} is unlocked." in unlocked.text
    console.sign_in(OSCAR)


def test_connectors_are_listed_and_tested_now(console: Console) -> None:
    admin = console.sign_in(ADRIEN)
    page = admin.get(ADMIN + "/connectors").text
    for name in PORT_KINDS:
        assert f"<code>{name}</code>" in page
    token = Console.csrf(page)
    probe = console.runtime.ctx.connectors.probe(tenant_id="tnt_acme", name="idp")
    tested = admin.post(f"{ADMIN}/connectors/idp/test", data={"csrf": token})
    assert tested.status_code == 200
    expected = (
        "idp has no health check."
        if probe.health is None
        else "idp answers"
        if probe.health.ok
        else f"idp is failing: {probe.health.detail}"
    )
    assert expected in tested.text
    assert admin.post(f"{ADMIN}/connectors/nothing/test", data={"csrf": token}).status_code == 404
    assert admin.post(f"{ADMIN}/connectors/idp/test", data={}).status_code == 403
