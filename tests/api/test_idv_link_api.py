"""The identity-check link over the API: an agent starts ``external_idv`` and no agent-facing answer
(the proof, the request, the events, the audit records) carries the person's link; the person's
portal API returns it to them, and to nobody else; the e-mail went to their registered address."""

from __future__ import annotations

import pytest

from http_client import Api
from idv_kit import rows_holding

pytestmark = pytest.mark.db
T = "/api/v1/tenants/t_a"
CHECKS = "/api/v1/portal/identity-checks"


def _start(api: Api) -> tuple[str, dict]:
    opened = api.post(f"{T}/requests", "agent", {"kind": "reset_password", "person_id": "plain"})
    assert opened.status_code == 201, opened.text
    started = api.post(f"{T}/requests/{opened.json()['id']}/proofs", "agent", {"method": "external_idv"})
    assert started.status_code == 201, started.text
    return opened.json()["id"], started


def test_no_agent_facing_answer_carries_the_link_the_person_gets_it(api: Api) -> None:
    request_id, started = _start(api)
    (check,) = api.get(CHECKS, "plain").json()
    url = check["url"]
    assert url.startswith("/demo/idv/") and check["request_id"] == request_id
    assert check["opened_by"] == "agent" and check["kind"] == "reset_password"
    proof = started.json()
    assert proof["challenge"]["email_to"] == "p•••@home.example" and proof["challenge"]["email"] == "sent"
    token = url.partition("?t=")[2]
    for answer in (
        started,
        api.get(f"{T}/requests/{request_id}", "agent"),
        api.get(f"{T}/requests/{request_id}", "sup"),
        api.get(f"{T}/events", "admin"),
        api.get(f"{T}/audit/records", "admin"),
    ):
        assert answer.status_code in (200, 201), answer.text
        assert token not in answer.text and url not in answer.text
    (mail,) = api.world.response_notifier.sent
    assert mail.to == "plain@home.example" and url in mail.text
    assert rows_holding(api.world.ctx.uow.engine, token) == []  # type: ignore[attr-defined]


def test_the_portal_api_serves_the_link_to_the_target_only(api: Api) -> None:
    _start(api)
    assert api.get(CHECKS, "vip").json() == [] and api.get(CHECKS, "other").json() == []
    for operator in ("agent", "sup", "admin"):
        refused = api.get(CHECKS, operator)
        assert refused.status_code == 404 and "url" not in refused.text
    assert api.client.get(CHECKS).status_code == 401


def test_the_verdict_removes_the_check_from_the_portal(api: Api) -> None:
    from deskguard.api.routes.webhooks import sign
    from http_client import WEBHOOK_KEY

    _, started = _start(api)
    sid = started.json()["challenge"]["session_id"]
    body = f'{{"session_id": "{sid}", "verified": true}}'.encode()
    settled = api.client.post(
        "/api/v1/webhooks/idv", content=body, headers={"x-deskguard-signature": sign(WEBHOOK_KEY, body)}
    )
    assert settled.status_code == 200, settled.text
    assert api.get(CHECKS, "plain").json() == []
