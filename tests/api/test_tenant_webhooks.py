"""Inbound webhooks of a tenant's own vendor accounts, on the real wiring (``bootstrap.build``, real
storage: SQLite and PostgreSQL): t_a and t_b each configure their own Twilio, Slack app and Veriff
integration through the connectors API, beside the deployment's own accounts (``DESKGUARD_*``).

Each tenant's URL is checked with that tenant's secret and settles that tenant's objects only: a
body signed with the deployment's or the other tenant's secret, a tenant without the connector and
an unknown tenant all get the same 404; a correctly signed report naming the other tenant's call,
session or request is refused as unknown. The vendors' far ends are respx fixtures in the shape of
their references (``twilio_kit``, ``veriff_station``, ``slack_kit``)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import httpx
import pytest
import respx
from fastapi.testclient import TestClient
from slack_kit import RESPONSE_URL, buttons_of, click_body, signed_headers

from deskguard.adapters.channels.slack import USERS_INFO
from deskguard.adapters.system import SeededRandomness
from deskguard.api.app import create_app
from deskguard.app import requests, verification
from deskguard.app.auth import issue_token
from deskguard.app.requests import RequestDraft
from deskguard.bootstrap import Runtime, build, slack_interactions
from deskguard.domain.requests import ActionRequest, RequestState
from deskguard.settings import load_settings
from http_client import WEBHOOK_KEY
from twilio_kit import CALLS, Calls, PlacedCall, sign
from veriff_station import SESSIONS, Station, decision
from veriff_station import signature as veriff_signature
from world import World, build_world

BASE = "https://desk.example.com"
SID = {"dep": "AC" + "d" * 32, "t_a": "AC" + "a" * 32, "t_b": "AC" + "b" * 32}
TWILIO_TOKEN = {"dep": "twilio-token-deployment", "t_a": "twilio-token-a", "t_b": "twilio-token-b"}
SLACK_SECRET = {"dep": "slack-signing-deployment", "t_a": "slack-signing-a", "t_b": "slack-signing-b"}
VERIFF_KEY = {"dep": "veriff-key-deployment", "t_a": "veriff-key-a", "t_b": "veriff-key-b"}
VERIFF_SECRET = {"dep": "veriff-secret-deployment", "t_a": "veriff-secret-a", "t_b": "veriff-secret-b"}
FORM = {"content-type": "application/x-www-form-urlencoded"}
NO_SUCH_WEBHOOK = {"code": "not_found.route", "detail": "no such webhook"}


def _env(prefix: str, who: str) -> str:
    return f"DG_TEST_{prefix}_{who.upper()}"


@dataclass
class Desk:
    runtime: Runtime
    world: World
    client: TestClient
    calls: Calls
    station: Station
    hooks: respx.Route  # the clicked message's response_url
    users_info: respx.Route
    tokens: dict[str, str]

    def api(self, method: str, path: str, who: str, body: object = None) -> httpx.Response:
        headers = {"Authorization": f"Bearer {self.tokens[who]}"}
        return self.client.request(method, path, json=body, headers=headers)

    def configure(self, tenant: str, name: str, kind: str, settings: dict[str, Any]) -> None:
        r = self.api(
            "PUT",
            f"/api/v1/tenants/{tenant}/connectors/{name}",
            "admin",
            {"kind": kind, "settings": settings},
        )
        assert r.status_code == 200, r.text

    def twilio_settings(self, tenant: str) -> dict[str, str]:
        return {
            "account_sid": SID[tenant],
            "auth_token": f"env://{_env('TWILIO', tenant)}",
            "from_number": "+15005550006",
            "callback_base_url": BASE,
        }

    def own_twilio(self, tenant: str) -> None:
        self.configure(tenant, "telephony", "twilio", self.twilio_settings(tenant))

    def own_slack(self, tenant: str, operator_map: dict[str, str]) -> None:
        settings = {
            "bot_token": f"env://{_env('SLACK_BOT', tenant)}",
            "signing_secret": f"env://{_env('SLACK', tenant)}",
            "approvals_channel": "#helpdesk-approvals",
            "operator_map": operator_map,
        }
        self.configure(tenant, "notify.slack", "slack", settings)

    def own_veriff(self, tenant: str) -> None:
        settings = {
            "api_key": f"env://{_env('VERIFF_KEY', tenant)}",
            "shared_secret": f"env://{_env('VERIFF', tenant)}",
        }
        self.configure(tenant, "idv", "veriff", settings)

    def opened(self, tenant: str, person: str, kind: str = "reset_mfa") -> str:
        r = self.api(
            "POST", f"/api/v1/tenants/{tenant}/requests", "agent", {"kind": kind, "person_id": person}
        )
        assert r.status_code == 201, r.text
        return str(r.json()["id"])

    def proof(self, tenant: str, request_id: str, method: str) -> dict[str, Any]:
        r = self.api(
            "POST", f"/api/v1/tenants/{tenant}/requests/{request_id}/proofs", "agent", {"method": method}
        )
        assert r.status_code == 201, r.text
        return dict(r.json())

    def call_back(self, tenant: str, person: str) -> tuple[str, str, PlacedCall]:
        """A request of ``tenant`` and its automated call-back, as Twilio was asked to place it."""
        request_id = self.opened(tenant, person)
        proof = self.proof(tenant, request_id, "callback_automated")
        placed = self.calls.placed[-1]
        assert placed.sid == proof["challenge"]["call_id"]
        return request_id, proof["id"], placed

    def proof_status(self, tenant: str, request_id: str, proof_id: str) -> str:
        r = self.api("GET", f"/api/v1/tenants/{tenant}/requests/{request_id}", "agent")
        assert r.status_code == 200, r.text
        [found] = [p for p in r.json()["proofs"] if p["id"] == proof_id]
        return str(found["status"])

    def twilio_post(self, path: str, params: dict[str, str], *, signed_by: str) -> httpx.Response:
        headers = {**FORM, "x-twilio-signature": sign(BASE + path, params, TWILIO_TOKEN[signed_by])}
        return self.client.post(path, content=urlencode(params), headers=headers)

    def waiting(self, tenant: str, person: str) -> ActionRequest:
        """An MFA reset proven by push and call-back: waiting for one supervisor's approval."""
        ctx, w = self.runtime.ctx, self.world
        request = requests.open_request(
            ctx,
            actor=w.operator("agent"),
            tenant_id=tenant,
            draft=RequestDraft(kind="reset_mfa", person_id=person),
        )
        for method in ("push_number_match", "callback_automated"):
            proof = verification.start_proof(
                ctx, actor=w.operator("agent"), tenant_id=tenant, request_id=request.id, method=method
            )
            if method == "push_number_match":
                verification.respond_push(
                    ctx,
                    actor=w.person(person, tenant),
                    tenant_id=tenant,
                    proof_id=proof.id,
                    approve=True,
                    number=proof.challenge["number_to_read_out"],
                )
            else:
                verification.callback_result(ctx, call_id=proof.challenge["call_id"], confirmed=True)
        found = self.request(tenant, request.id)
        assert found.state == RequestState.PENDING_APPROVAL
        return found

    def request(self, tenant: str, request_id: str) -> ActionRequest:
        with self.runtime.ctx.reads() as uow:
            found = uow.requests.get(tenant_id=tenant, request_id=request_id)
        assert found is not None
        return found

    def click(
        self,
        request: ActionRequest,
        *,
        url_tenant: str | None,
        secret_of: str,
        user: str,
        stamp: float | None = None,
    ) -> httpx.Response:
        blocks = buttons_of(
            tenant_id=request.tenant_id, request_id=request.id, params_hash=request.params_hash
        )
        body = click_body(blocks, user=user)
        now = self.runtime.ctx.clock.now().timestamp() if stamp is None else stamp
        headers = signed_headers(body, now=now, secret=SLACK_SECRET[secret_of])
        path = "/api/v1/webhooks/slack/interactions"
        if url_tenant is not None:
            path = f"/api/v1/webhooks/slack/{url_tenant}/interactions"
        return self.client.post(path, content=body, headers=headers)

    def answers(self) -> list[dict[str, Any]]:
        return [json.loads(call.request.content) for call in self.hooks.calls]

    def veriff_post(self, url_tenant: str | None, body: bytes, *, signed_by: str) -> httpx.Response:
        path = (
            "/api/v1/webhooks/idv/veriff"
            if url_tenant is None
            else f"/api/v1/webhooks/idv/{url_tenant}/veriff"
        )
        sig = veriff_signature(body, VERIFF_SECRET[signed_by])
        return self.client.post(path, content=body, headers={"X-HMAC-SIGNATURE": sig})


def _users_info(request: httpx.Request) -> httpx.Response:
    """``users.info`` of t_a's workspace only (its bot token): U0A2 is sup2 there."""
    if request.headers["authorization"] != "Bearer xoxb-tenant-a":
        return httpx.Response(200, json={"ok": False, "error": "invalid_auth"})
    if request.url.params["user"] != "U0A2":
        return httpx.Response(200, json={"ok": False, "error": "user_not_found"})
    profile = {"email": "sup2@desk.example"}
    return httpx.Response(200, json={"ok": True, "user": {"id": "U0A2", "profile": profile}})


@pytest.fixture
def desk(db_url: str, uow_factory: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Desk]:
    for who in ("dep", "t_a", "t_b"):
        monkeypatch.setenv(_env("TWILIO", who), TWILIO_TOKEN[who])
        monkeypatch.setenv(_env("SLACK", who), SLACK_SECRET[who])
        monkeypatch.setenv(_env("SLACK_BOT", who), f"xoxb-tenant-{who.removeprefix('t_')}")
        monkeypatch.setenv(_env("VERIFF_KEY", who), VERIFF_KEY[who])
        monkeypatch.setenv(_env("VERIFF", who), VERIFF_SECRET[who])
    world = build_world(uow_factory)  # seeds t_a, t_b, the operators and the persons
    settings = load_settings(
        database_url=db_url,
        demo=True,
        witness_dir=tmp_path / "witness",
        telephony_vendor="twilio",
        twilio_account_sid=SID["dep"],
        twilio_auth_token=f"env://{_env('TWILIO', 'dep')}",
        twilio_from_number="+15005550006",
        telephony_callback_base_url=BASE,
        slack_signing_secret=f"env://{_env('SLACK', 'dep')}",
        slack_operator_map="U0DSUP=sup",
        veriff_api_key=f"env://{_env('VERIFF_KEY', 'dep')}",
        veriff_shared_secret=f"env://{_env('VERIFF', 'dep')}",
    )
    runtime = build(settings, clock=world.clock, randomness=SeededRandomness(7))
    tokens: dict[str, str] = {}
    with runtime.ctx.uow() as uow:
        for oid in ("admin", "agent"):
            tokens[oid] = issue_token(runtime.ctx, uow, subject_kind="operator", subject_id=oid, label="test")
        uow.commit()
    calls = Calls({SID[who]: TWILIO_TOKEN[who] for who in SID})
    station = Station(keys=tuple(VERIFF_KEY.values()))
    app = create_app(runtime.ctx, webhook_key=WEBHOOK_KEY)
    app.state.slack = slack_interactions(settings)
    with respx.mock(assert_all_called=False) as mock:
        mock.post(url__regex=CALLS.pattern).side_effect = calls
        mock.post(SESSIONS).side_effect = station
        hooks = mock.post(RESPONSE_URL).mock(return_value=httpx.Response(200, text="ok"))
        users_info = mock.get(USERS_INFO).mock(side_effect=_users_info)
        mock.route(host="testserver").pass_through()
        with TestClient(app) as client:
            yield Desk(runtime, world, client, calls, station, hooks, users_info, tokens)
    runtime.engine.dispose()


# --- Twilio ----------------------------------------------------------------------------------------
def test_a_tenants_own_twilio_calls_back_its_own_urls_and_its_signature_settles_the_proof(desk: Desk) -> None:
    desk.own_twilio("t_a")
    desk.own_twilio("t_b")
    request_id, proof_id, placed = desk.call_back("t_a", "plain")
    assert placed.account_sid == SID["t_a"]  # the tenant's account placed it
    assert placed.status_callback == f"{BASE}/api/v1/webhooks/twilio/t_a/status"
    assert placed.gather_action.startswith(f"{BASE}/api/v1/webhooks/twilio/t_a/gather?ref=")
    answer = {"CallSid": placed.sid, "Digits": placed.code}
    for signer in ("dep", "t_b"):  # the deployment's token, the other tenant's token: one 404
        r = desk.twilio_post(placed.gather_path, answer, signed_by=signer)
        assert r.status_code == 404 and r.json() | NO_SUCH_WEBHOOK == r.json()
    # t_b's account signs the same answer on its own URL: verified, but the call is not t_b's
    b_path = placed.gather_path.replace("/twilio/t_a/", "/twilio/t_b/")
    r = desk.twilio_post(b_path, answer, signed_by="t_b")
    assert r.status_code == 404 and r.json()["code"] == "not_found.call"
    # the deployment's own URL and token: t_a has its own account, so the call is not the deployment's
    dep_path = placed.gather_path.replace("/twilio/t_a/", "/twilio/")
    r = desk.twilio_post(dep_path, answer, signed_by="dep")
    assert r.status_code == 404 and r.json()["code"] == "not_found.call"
    assert desk.proof_status("t_a", request_id, proof_id) == "pending"
    r = desk.twilio_post(placed.gather_path, answer, signed_by="t_a")
    assert r.status_code == 200 and "Your request is confirmed" in r.text
    assert desk.proof_status("t_a", request_id, proof_id) == "succeeded"


def test_a_signed_status_callback_on_the_tenants_url_settles_a_failed_call(desk: Desk) -> None:
    desk.own_twilio("t_a")
    request_id, proof_id, placed = desk.call_back("t_a", "plain")
    busy = {"CallSid": placed.sid, "CallStatus": "busy"}
    path = "/api/v1/webhooks/twilio/t_a/status"
    assert desk.twilio_post(path, busy, signed_by="dep").status_code == 404
    assert desk.twilio_post(path, {**busy, "CallStatus": "completed"}, signed_by="t_a").status_code == 204
    assert desk.proof_status("t_a", request_id, proof_id) == "pending"  # "completed" says nothing
    r = desk.twilio_post(path, busy, signed_by="t_a")  # recorded, and reported as the failure it is
    assert r.status_code == 422 and r.json()["code"] == "proof_rejected.failed"
    assert desk.proof_status("t_a", request_id, proof_id) == "failed"


def test_unknown_tenants_and_tenants_without_the_connector_get_the_same_404(desk: Desk) -> None:
    desk.own_twilio("t_a")
    unreadable = {**desk.twilio_settings("t_a"), "auth_token": "env://DG_TEST_NOT_SET"}
    desk.configure("t_b", "telephony", "twilio", unreadable)  # stored, but its token cannot be read
    params = {"CallSid": "CA" + "0" * 32, "CallStatus": "busy"}
    answers = [
        desk.twilio_post(f"/api/v1/webhooks/twilio/{tenant}/status", params, signed_by=signer)
        for tenant, signer in (("t_nobody", "t_a"), ("t_b", "t_b"), ("t_a", "t_b"))
    ]
    answers.append(desk.veriff_post("t_a", b"{}", signed_by="t_a"))  # t_a has no Veriff integration
    assert [r.status_code for r in answers] == [404] * 4
    bodies = [{k: v for k, v in r.json().items() if k != "instance"} for r in answers]
    assert all(body == bodies[0] for body in bodies) and bodies[0] | NO_SUCH_WEBHOOK == bodies[0]


def test_the_deployment_account_still_serves_tenants_without_their_own(desk: Desk) -> None:
    desk.own_twilio("t_a")
    request_id, proof_id, placed = desk.call_back("t_b", "other")
    assert placed.account_sid == SID["dep"]
    assert placed.status_callback == f"{BASE}/api/v1/webhooks/twilio/status"
    answer = {"CallSid": placed.sid, "Digits": placed.code}
    assert desk.twilio_post(placed.gather_path, answer, signed_by="t_a").status_code == 401
    r = desk.twilio_post(placed.gather_path, answer, signed_by="dep")
    assert r.status_code == 200 and desk.proof_status("t_b", request_id, proof_id) == "succeeded"


# --- Slack -----------------------------------------------------------------------------------------
def test_a_click_signed_by_the_tenants_slack_app_approves_its_request(desk: Desk) -> None:
    desk.own_slack("t_a", {"U0ASUP": "sup"})
    desk.own_slack("t_b", {"U0BSUP": "sup"})
    request = desk.waiting("t_a", "plain")
    for url_tenant, secret_of in (("t_a", "t_b"), ("t_a", "dep"), ("t_b", "t_a"), ("t_nobody", "t_a")):
        r = desk.click(request, url_tenant=url_tenant, secret_of=secret_of, user="U0ASUP")
        assert r.status_code == 404 and r.json() | NO_SUCH_WEBHOOK == r.json(), (url_tenant, secret_of)
    assert desk.answers() == [] and desk.request("t_a", request.id).state == RequestState.PENDING_APPROVAL
    r = desk.click(request, url_tenant="t_a", secret_of="t_a", user="U0ASUP")
    assert r.status_code == 200
    assert desk.request("t_a", request.id).state == RequestState.READY
    [update] = desk.answers()
    assert update["replace_original"] is True and update["text"].startswith(
        "Approved by sup (sup@desk.example)"
    )


def test_a_click_naming_another_tenants_request_is_an_unknown_request(desk: Desk) -> None:
    desk.own_slack("t_a", {"U0ASUP": "sup"})
    desk.own_slack("t_b", {"U0BSUP": "sup"})
    request = desk.waiting("t_a", "plain")
    # t_b's own app, correctly signed, on its own URL, carrying t_a's reference
    assert desk.click(request, url_tenant="t_b", secret_of="t_b", user="U0BSUP").status_code == 200
    # the deployment's app: t_a has its own, so the deployment's clicks do not decide t_a's requests
    assert desk.click(request, url_tenant=None, secret_of="dep", user="U0ASUP").status_code == 200
    assert desk.request("t_a", request.id).state == RequestState.PENDING_APPROVAL
    notes = desk.answers()
    assert [n["text"].split(":")[0] for n in notes] == ["Not applied (not_found.request)"] * 2
    assert all(n["response_type"] == "ephemeral" for n in notes)


def test_the_tenants_bot_token_and_operator_map_identify_the_clicker(desk: Desk) -> None:
    desk.own_slack("t_a", {"U0ASUP": "sup"})
    desk.own_slack("t_b", {"U0BSUP": "sup"})
    request = desk.waiting("t_a", "plain")
    desk.click(request, url_tenant="t_a", secret_of="t_a", user="U0BSUP")  # t_b's map does not apply in t_a
    assert desk.answers()[-1]["text"].startswith("Not applied (unauthenticated.slack_user)")
    assert desk.users_info.calls.last.request.headers["authorization"] == "Bearer xoxb-tenant-a"
    desk.click(request, url_tenant="t_a", secret_of="t_a", user="U0A2")  # e-mail in t_a's workspace
    assert desk.request("t_a", request.id).state == RequestState.READY
    assert desk.answers()[-1]["text"].startswith("Approved by sup2 (sup2@desk.example)")


def test_the_timestamp_window_holds_on_the_tenants_url(desk: Desk) -> None:
    desk.own_slack("t_a", {"U0ASUP": "sup"})
    request = desk.waiting("t_a", "plain")
    now = desk.runtime.ctx.clock.now().timestamp()
    r = desk.click(request, url_tenant="t_a", secret_of="t_a", user="U0ASUP", stamp=now - 301)
    assert r.status_code == 404 and desk.request("t_a", request.id).state == RequestState.PENDING_APPROVAL
    r = desk.click(request, url_tenant="t_a", secret_of="t_a", user="U0ASUP", stamp=now - 299)
    assert r.status_code == 200 and desk.request("t_a", request.id).state == RequestState.READY


def test_a_tenant_slack_without_a_signing_secret_keeps_the_deployments_app(desk: Desk) -> None:
    desk.configure("t_a", "notify.slack", "slack", {"bot_token": f"env://{_env('SLACK_BOT', 't_a')}"})
    request = desk.waiting("t_a", "plain")
    assert desk.click(request, url_tenant="t_a", secret_of="t_a", user="U0ASUP").status_code == 404
    # the clicks reach the deployment's Slack app: its signing secret, its operator map
    assert desk.click(request, url_tenant=None, secret_of="dep", user="U0ASUP").status_code == 200
    assert desk.answers()[-1]["text"].startswith("Not applied (unauthenticated.slack_user)")
    r = desk.click(request, url_tenant=None, secret_of="dep", user="U0DSUP")
    assert r.status_code == 200 and desk.request("t_a", request.id).state == RequestState.READY


def test_a_bad_operator_map_is_refused_naming_the_field(desk: Desk) -> None:
    body = {"kind": "slack", "settings": {"bot_token": "env://X", "operator_map": {"not-a-user": "sup"}}}
    r = desk.api("PUT", "/api/v1/tenants/t_a/connectors/notify.slack", "admin", body)
    assert r.status_code == 422 and r.json()["field"].startswith("settings.operator_map")


# --- Veriff ----------------------------------------------------------------------------------------
def test_a_verdict_signed_by_the_tenants_integration_settles_its_session_once(desk: Desk) -> None:
    desk.own_veriff("t_a")
    desk.own_veriff("t_b")
    request_id = desk.opened("t_a", "plain", kind="reset_password")
    proof = desk.proof("t_a", request_id, "external_idv")
    assert desk.station.requests[-1].headers["x-auth-client"] == VERIFF_KEY["t_a"]
    body = decision(proof["challenge"]["session_id"], "approved", 9001)
    for url_tenant, signer in (("t_a", "t_b"), ("t_a", "dep"), ("t_nobody", "t_a")):
        r = desk.veriff_post(url_tenant, body, signed_by=signer)
        assert r.status_code == 404 and r.json() | NO_SUCH_WEBHOOK == r.json(), (url_tenant, signer)
    for url_tenant, signer in (("t_b", "t_b"), (None, "dep")):  # verified, but not their session
        r = desk.veriff_post(url_tenant, body, signed_by=signer)
        assert r.status_code == 404 and r.json()["code"] == "not_found.idv_session", (url_tenant, signer)
    assert desk.proof_status("t_a", request_id, proof["id"]) == "pending"
    first = desk.veriff_post("t_a", body, signed_by="t_a")
    assert first.status_code == 200 and first.json()["recorded"] is True
    again = desk.veriff_post("t_a", body, signed_by="t_a")  # Veriff redelivers: nothing changes
    assert again.status_code == 200 and again.json()["recorded"] is False
    assert desk.proof_status("t_a", request_id, proof["id"]) == "succeeded"


def test_the_deployment_integration_still_serves_tenants_without_their_own(desk: Desk) -> None:
    desk.own_veriff("t_a")
    request_id = desk.opened("t_b", "other", kind="reset_password")
    proof = desk.proof("t_b", request_id, "external_idv")
    assert desk.station.requests[-1].headers["x-auth-client"] == VERIFF_KEY["dep"]
    body = decision(proof["challenge"]["session_id"], "declined", 9102, reason="document expired")
    assert desk.veriff_post(None, body, signed_by="t_a").status_code == 401
    assert desk.veriff_post(None, body, signed_by="dep").status_code == 200
    assert desk.proof_status("t_b", request_id, proof["id"]) == "failed"
