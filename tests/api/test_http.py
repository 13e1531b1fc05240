"""The HTTP API: authentication, problem+json errors, limits, OpenAPI, health — on both databases."""

from __future__ import annotations

from http_client import WEBHOOK_KEY, Api, served_routes


def test_health_and_readiness(api: Api) -> None:
    assert api.client.get("/healthz").json() == {"status": "ok"}
    ready = api.client.get("/readyz")
    assert ready.status_code == 200
    assert ready.json()["checks"] == {"database": True, "schema": True, "idp": True}


def test_no_or_bad_token_is_401_problem_json(api: Api) -> None:
    for headers in ({}, {"Authorization": "Bearer dg_op_nope"}, {"Authorization": "Basic abc"}):
        r = api.client.get("/api/v1/me", headers=headers)
        assert r.status_code == 401
        assert r.headers["content-type"].startswith("application/problem+json")
        assert r.headers["www-authenticate"] == "Bearer"
        assert r.json()["code"] == "unauthenticated"


def test_tokens_are_stored_hashed(api: Api) -> None:
    with api.world.ctx.uow() as uow:
        assert uow.tokens.find(api.tokens["agent"]) is None  # the clear token is not a key


def test_me_says_who_and_which_tenants(api: Api) -> None:
    me = api.get("/api/v1/me", "outsourced").json()
    assert (
        me["id"] == "outsourced"
        and me["provider_kind"] == "outsourced"
        and me["tenant_ids"] == ["t_a", "t_b"]
    )


def test_validation_errors_name_the_field(api: Api) -> None:
    r = api.post(
        "/api/v1/tenants/t_a/requests",
        "agent",
        {"kind": "change_phone", "person_id": "plain", "params": {"new_number": "06 12"}},
    )
    assert r.status_code == 422 and r.json()["field"] == "params.new_number"
    r = api.post("/api/v1/tenants/t_a/requests", "agent", {"kind": "reset_mfa"})
    assert r.status_code == 422 and r.json()["field"] == "person_id"
    r = api.post("/api/v1/tenants/t_a/requests", "agent", {"kind": "teleport", "person_id": "plain"})
    assert r.status_code == 404 and r.json()["code"] == "unknown_action"
    r = api.post(
        "/api/v1/tenants/t_a/requests",
        "agent",
        {"kind": "unlock_account", "person_id": "plain", "surprise": 1},
    )
    assert r.status_code == 422 and r.json()["field"] == "surprise"


def test_oversized_bodies_are_refused_before_reading(api: Api) -> None:
    r = api.post(
        "/api/v1/tenants/t_a/requests",
        "agent",
        {"kind": "unlock_account", "person_id": "plain", "justification": "x" * 20_000},
    )
    assert r.status_code == 413 and r.json()["code"] == "payload_too_large"

    def chunks():
        for _ in range(40):
            yield b"x" * 1024

    r = api.client.post(
        "/api/v1/tenants/t_a/requests",
        content=chunks(),
        headers={**api.as_("agent"), "content-type": "application/json"},
    )
    assert r.status_code == 413
    with api.world.ctx.uow() as uow:
        assert list(uow.outbox.list(tenant_id="t_a")) == []


def test_an_invalid_transition_is_409_with_a_stable_code(api: Api) -> None:
    rid = api.post(
        "/api/v1/tenants/t_a/requests", "agent", {"kind": "unlock_account", "person_id": "plain"}
    ).json()["id"]
    r = api.post(f"/api/v1/tenants/t_a/requests/{rid}/execute", "agent")
    assert r.status_code == 409
    assert r.json()["code"] == "invalid_transition.pending_verification_to_executing"


def test_preview_changes_nothing(api: Api) -> None:
    body = {
        "kind": "reset_mfa",
        "person_id": "vip",
        "proofs": ["callback_automated", "push_number_match"],
        "approvals": ["supervisor"],
    }
    decision = api.post("/api/v1/tenants/t_a/decisions/preview", "agent", body).json()
    assert decision["allowed"] is True and decision["trace"]
    assert (
        api.post("/api/v1/tenants/t_a/decisions/preview", "agent", {**body, "proofs": ["knowledge"]}).json()[
            "allowed"
        ]
        is False
    )
    with api.world.ctx.uow() as uow:
        assert list(uow.outbox.list(tenant_id="t_a")) == []


def test_openapi_documents_every_route(api: Api) -> None:
    spec = api.client.get("/openapi.json").json()
    documented = set(spec["paths"])
    served = {path for _, path in served_routes(api.app)}
    assert len(served) >= 25
    assert served <= documented
    assert "/api/v1/tenants/{tenant_id}/decisions/preview" in documented


def test_webhooks_need_a_valid_signature(api: Api) -> None:
    from deskguard.api.routes.webhooks import sign

    body = b'{"call_id": "call_nope", "confirmed": true}'
    assert api.client.post("/api/v1/webhooks/telephony", content=body).status_code == 401
    bad = api.client.post(
        "/api/v1/webhooks/telephony", content=body, headers={"x-deskguard-signature": sign(b"wrong", body)}
    )
    assert bad.status_code == 401
    ok = api.client.post(
        "/api/v1/webhooks/telephony", content=body, headers={"x-deskguard-signature": sign(WEBHOOK_KEY, body)}
    )
    assert ok.status_code == 404 and ok.json()["code"] == "not_found.call"


def test_the_preview_matches_its_documented_schema(api: Api) -> None:
    from deskguard.api.schemas import DecisionOut

    body = api.post(
        "/api/v1/tenants/t_a/decisions/preview", "agent", {"kind": "reset_mfa", "person_id": "vip"}
    )
    assert body.status_code == 200
    DecisionOut.model_validate(body.json())  # the fast path returns exactly what OpenAPI promises
    spec = api.client.get("/openapi.json").json()
    ref = spec["paths"]["/api/v1/tenants/{tenant_id}/decisions/preview"]["post"]["responses"]["200"]
    assert "DecisionOut" in str(ref)
