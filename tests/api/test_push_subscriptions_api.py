"""``/api/v1/portal/push-subscriptions``: a person registers and removes their device's Web Push
subscription; the change is in the ledger; bad keys are named; one person cannot remove another's."""

from __future__ import annotations

from push_service import Device, b64u

ENDPOINT = "https://fcm.googleapis.com/fcm/send/abc123"


def _body(endpoint: str = ENDPOINT) -> dict:
    device = Device("d")
    return {"endpoint": endpoint, "keys": {"p256dh": device.p256dh, "auth": b64u(device.auth)}}


def test_register_then_remove(api) -> None:
    created = api.post("/api/v1/portal/push-subscriptions", "plain", _body())
    assert created.status_code == 201, created.text
    with api.world.ctx.uow() as uow:
        assert [s.endpoint for s in uow.push_subscriptions.list(tenant_id="t_a", person_id="plain")] == [
            ENDPOINT
        ]
        types = [r.record.type for r in uow.ledger.records(tenant_id="t_a", start=0, limit=10_000)]
    assert "push.device_subscribed" in types
    other = api.client.request(
        "DELETE", "/api/v1/portal/push-subscriptions", json={"endpoint": ENDPOINT}, headers=api.as_("vip")
    )
    assert other.status_code == 404
    gone = api.client.request(
        "DELETE", "/api/v1/portal/push-subscriptions", json={"endpoint": ENDPOINT}, headers=api.as_("plain")
    )
    assert gone.status_code == 204
    with api.world.ctx.uow() as uow:
        assert uow.push_subscriptions.list(tenant_id="t_a", person_id="plain") == []


def test_bad_subscriptions_are_refused_naming_the_field(api) -> None:
    plain_http = api.post("/api/v1/portal/push-subscriptions", "plain", _body("http://push.example/x"))
    assert plain_http.status_code == 422 and "endpoint" in plain_http.text
    bad = _body()
    bad["keys"]["auth"] = "A" * 24
    refused = api.post("/api/v1/portal/push-subscriptions", "plain", bad)
    assert refused.status_code == 422 and "keys.auth" in refused.text


def test_operators_have_no_portal_subscriptions(api) -> None:
    operator = next(iter(api.world.operators))
    assert api.post("/api/v1/portal/push-subscriptions", operator, _body()).status_code == 404
