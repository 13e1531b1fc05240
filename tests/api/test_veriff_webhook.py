"""``POST /api/v1/webhooks/idv/veriff`` end to end: a proof started through the API creates a session
at (a respx fixture of) Veriff's ``POST /v1/sessions``, and Veriff's signed decision settles it.
Signatures are real HMAC-SHA256 over the raw body: valid, tampered, replayed (idempotent), and a
second, contrary verdict refused. The fixture follows Veriff's published reference
(``tests/veriff_station.py``)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace

import httpx
import pytest
import respx
from fastapi.testclient import TestClient

from deskguard.adapters.channels.veriff import VeriffIdentityVerification
from deskguard.api.app import create_app
from http_client import WEBHOOK_KEY, Api
from veriff_station import (
    API_KEY,
    SESSIONS,
    SHARED_SECRET,
    Station,
    decision,
    person_url,
    session_token,
    signature,
)

T = "/api/v1/tenants/t_a"
HOOK = "/api/v1/webhooks/idv/veriff"


@pytest.fixture
def veriff_api(api: Api, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[Api, Station]]:
    monkeypatch.setenv("VERIFF_KEY", API_KEY)
    monkeypatch.setenv("VERIFF_SECRET", SHARED_SECRET)
    veriff = VeriffIdentityVerification(api_key="env://VERIFF_KEY", shared_secret="env://VERIFF_SECRET")
    ctx = replace(api.world.ctx, channels=replace(api.world.ctx.channels, idv=veriff))
    station = Station()
    with (
        respx.mock(assert_all_called=False) as mock,
        TestClient(create_app(ctx, webhook_key=WEBHOOK_KEY)) as c,
    ):
        mock.post(SESSIONS).side_effect = station
        mock.route(host="testserver").pass_through()
        yield Api(c.app, c, api.world, api.tokens), station  # type: ignore[arg-type]


def _idv_proof(api: Api) -> tuple[str, str]:
    opened = api.post(f"{T}/requests", "agent", {"kind": "reset_password", "person_id": "plain"})
    assert opened.status_code == 201, opened.text
    proof = api.post(f"{T}/requests/{opened.json()['id']}/proofs", "agent", {"method": "external_idv"})
    assert proof.status_code == 201, proof.text
    return opened.json()["id"], proof.json()["challenge"]["session_id"]


def _deliver(api: Api, body: bytes, sig: str | None = None) -> httpx.Response:
    return api.client.post(HOOK, content=body, headers={"X-HMAC-SIGNATURE": sig or signature(body)})


def _state(api: Api, request_id: str) -> str:
    return api.get(f"{T}/requests/{request_id}", "agent").json()["state"]


def test_an_approval_settles_the_proof_and_a_redelivery_changes_nothing(veriff_api) -> None:
    api, station = veriff_api
    request_id, sid = _idv_proof(api)
    assert [s for s, _ in station.sessions()] == [sid]
    assert station.created[0]["vendorData"] == f"t_a:{request_id}"
    body = decision(sid, "approved", 9001)
    first = _deliver(api, body)
    assert first.status_code == 200, first.text
    assert first.json()["recorded"] is True and first.json()["proof"]["status"] == "succeeded"
    state = _state(api, request_id)
    assert state != "pending_verification"
    events = len(api.get(f"{T}/events", "admin").json())
    replayed = _deliver(api, body)  # Veriff redelivers; an attacker replays: the same answer
    assert replayed.status_code == 200 and replayed.json() == {
        "session_id": sid,
        "status": "approved",
        "recorded": False,
        "proof": None,
    }
    assert _state(api, request_id) == state and len(api.get(f"{T}/events", "admin").json()) == events


def test_a_tampered_body_is_refused_and_records_nothing(veriff_api) -> None:
    api, _station = veriff_api
    request_id, sid = _idv_proof(api)
    declined = decision(sid, "declined", 9102, reason="Physical document not used")
    forged = declined.replace(b'"declined"', b'"approved"').replace(b"9102", b"9001")
    r = _deliver(api, forged, signature(declined))
    assert r.status_code == 401 and "X-HMAC-SIGNATURE" in r.text
    r = _deliver(api, declined, signature(declined, "not-the-shared-secret"))
    assert r.status_code == 401
    assert _state(api, request_id) == "pending_verification"


def test_a_decline_stands_against_a_later_approval(veriff_api) -> None:
    api, _station = veriff_api
    request_id, sid = _idv_proof(api)
    r = _deliver(api, decision(sid, "declined", 9102, reason="Physical document not used"))
    assert r.status_code == 200 and r.json()["recorded"] is True, r.text
    assert _state(api, request_id) == "pending_verification"  # one failed proof; others may follow
    r = _deliver(api, decision(sid, "approved", 9001))
    assert r.status_code == 422 and r.json()["code"] == "proof_rejected.failed"
    assert _deliver(api, decision(sid, "declined", 9102)).json()["recorded"] is False


def test_not_yet_statuses_are_acknowledged_and_the_proof_stays_pending(veriff_api) -> None:
    api, _station = veriff_api
    request_id, sid = _idv_proof(api)
    for status, code in [("review", 9121), ("resubmission_requested", 9103)]:
        r = _deliver(api, decision(sid, status, code))
        assert r.status_code == 200 and r.json()["recorded"] is False
    assert _state(api, request_id) == "pending_verification"


def test_an_unknown_session_is_404_and_a_bad_body_names_the_field(veriff_api) -> None:
    api, _station = veriff_api
    r = _deliver(api, decision("no-such-session", "approved", 9001))
    assert r.status_code == 404 and r.json()["code"] == "not_found.idv_session"
    r = _deliver(api, b'{"verification": {"id": "s", "status": "maybe"}}')
    assert r.status_code == 422 and "verification.status" in r.text


def test_a_session_that_timed_out_leaves_no_proof_and_the_request_pending(veriff_api) -> None:
    api, station = veriff_api
    station.timing_out = True
    opened = api.post(f"{T}/requests", "agent", {"kind": "reset_password", "person_id": "plain"}).json()
    r = api.post(f"{T}/requests/{opened['id']}/proofs", "agent", {"method": "external_idv"})
    assert r.status_code == 504 and r.json()["code"].startswith("connector"), r.text
    assert len(station.requests) == 1  # creating a session is not repeated
    assert _state(api, opened["id"]) == "pending_verification"
    assert api.get(f"{T}/requests/{opened['id']}", "agent").json().get("proofs", []) == []


def test_the_route_is_404_when_veriff_is_not_configured(api: Api) -> None:
    body = decision("sess-1", "approved", 9001)
    r = api.client.post(HOOK, content=body, headers={"X-HMAC-SIGNATURE": signature(body)})
    assert r.status_code == 404


def test_veriffs_person_link_reaches_the_person_never_the_agent(veriff_api) -> None:
    api, station = veriff_api
    opened = api.post(f"{T}/requests", "agent", {"kind": "reset_password", "person_id": "plain"})
    started = api.post(f"{T}/requests/{opened.json()['id']}/proofs", "agent", {"method": "external_idv"})
    sid = started.json()["challenge"]["session_id"]
    url = person_url(sid)
    assert station.created[0]["id"] == sid
    for answer in (
        started,
        api.get(f"{T}/requests/{opened.json()['id']}", "agent"),
        api.get(f"{T}/events", "admin"),
    ):
        assert url not in answer.text and session_token(sid) not in answer.text
    assert [c["url"] for c in api.get("/api/v1/portal/identity-checks", "plain").json()] == [url]
    (mail,) = api.world.response_notifier.sent
    assert mail.to == "plain@home.example" and url in mail.text
    assert _deliver(api, decision(sid, "approved", 9001)).json()["recorded"] is True
    assert api.get("/api/v1/portal/identity-checks", "plain").json() == []
