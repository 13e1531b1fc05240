"""``WebPushChannel`` against a real local push service: what a browser decrypts, VAPID, and the
push service's answers (RFC 8030: 201, 404/410 gone, 429 with Retry-After, 5xx)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from py_vapid import Vapid02

from deskguard.adapters.channels.webpush import WAITING_TEXT, WebPushChannel, WebPushSettings, load_vapid
from deskguard.adapters.connectors.retry import Backoff
from deskguard.domain.errors import ConfigurationError
from deskguard.domain.ports import UnitOfWorkFactory
from deskguard.domain.ports_push import PushSubscription
from push_service import PushService, b64u, push_service


@pytest.fixture
def service() -> Iterator[PushService]:
    with push_service() as s:
        yield s


@pytest.fixture
def channel(
    uow_factory: UnitOfWorkFactory, tmp_path, service: PushService
) -> tuple[WebPushChannel, list[float]]:
    vapid = Vapid02()
    vapid.generate_keys()
    (tmp_path / "vapid.pem").write_bytes(vapid.private_pem())
    slept: list[float] = []
    settings = WebPushSettings(
        vapid_private_key=f"file://{tmp_path}/vapid.pem", subject="mailto:soc@example.org"
    )
    push = WebPushChannel(
        settings,
        uow=uow_factory,
        now=lambda: datetime.now(UTC),
        backoff=Backoff(base_s=0.01),
        sleep=slept.append,
    )
    return push, slept


def _subscribe(uow_factory: UnitOfWorkFactory, service: PushService, name: str, person: str = "alice") -> str:
    device, endpoint = service.device(name)
    with uow_factory() as uow:
        uow.push_subscriptions.add(
            PushSubscription(
                id=f"psub_{name}",
                tenant_id="t_a",
                person_id=person,
                endpoint=endpoint,
                p256dh=device.p256dh,
                auth=b64u(device.auth),
                created_at=datetime.now(UTC),
            )
        )
        uow.commit()
    return endpoint


def _stored(uow_factory: UnitOfWorkFactory, person: str = "alice") -> list[str]:
    with uow_factory() as uow:
        return [s.endpoint for s in uow.push_subscriptions.list(tenant_id="t_a", person_id=person)]


def test_each_device_decrypts_only_the_waiting_notice(uow_factory, service, channel) -> None:
    push, _ = channel
    _subscribe(uow_factory, service, "phone")
    _subscribe(uow_factory, service, "laptop")
    assert push.deliver(tenant_id="t_a", person_id="alice", proof_id="prf_9") == 2
    assert sorted(r.device for r in service.received) == ["laptop", "phone"]
    for r in service.received:
        assert r.payload == {"type": "verification_waiting", "proof_id": "prf_9", "text": WAITING_TEXT}
        assert r.claims["aud"] == service.origin and r.claims["sub"] == "mailto:soc@example.org"
        assert r.vapid_key == push.public_key
        assert r.headers["ttl"] == "180" and r.headers["urgency"] == "high"
    assert service.rejected == []


def test_a_gone_subscription_is_removed(uow_factory, service, channel) -> None:
    push, _ = channel
    gone = _subscribe(uow_factory, service, "old-phone")
    kept = _subscribe(uow_factory, service, "new-phone")
    service.answer(410)  # the first device's push service: unsubscribed
    assert push.deliver(tenant_id="t_a", person_id="alice", proof_id="prf_1") == 1
    assert _stored(uow_factory) == [kept] and gone not in _stored(uow_factory)


def test_429_and_5xx_are_retried_with_back_off(uow_factory, service, channel) -> None:
    push, slept = channel
    _subscribe(uow_factory, service, "phone")
    service.answer((429, {"retry-after": "3"}), 503)
    assert push.deliver(tenant_id="t_a", person_id="alice", proof_id="prf_2") == 1
    assert service.attempts == 3 and len(service.received) == 1
    assert slept[0] >= 3.0 and len(slept) == 2


def test_a_push_service_that_keeps_failing_leaves_the_subscription(uow_factory, service, channel) -> None:
    push, _ = channel
    endpoint = _subscribe(uow_factory, service, "phone")
    service.answer(500, 500, 500)
    assert push.deliver(tenant_id="t_a", person_id="alice", proof_id="prf_3") == 0
    assert _stored(uow_factory) == [endpoint]


def test_notify_returns_at_once_and_delivers_in_the_background(uow_factory, service, channel) -> None:
    push, _ = channel
    _subscribe(uow_factory, service, "phone")
    push.notify(tenant_id="t_a", person_id="alice", device_factor_id="f", proof_id="prf_4")
    push.drain()
    assert [r.payload["proof_id"] for r in service.received] == ["prf_4"]


def test_a_bad_vapid_key_names_the_setting(tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("DG_TEST_VAPID", "not-a-key")
    with pytest.raises(ConfigurationError, match="webpush_vapid_private_key"):
        load_vapid("env://DG_TEST_VAPID")
    with pytest.raises(ValueError, match="webpush_subject"):
        WebPushSettings(vapid_private_key="env://DG_TEST_VAPID", subject="soc@example.org")
    with pytest.raises(ValueError, match="reference"):
        WebPushSettings(vapid_private_key="-----BEGIN PRIVATE KEY-----", subject="mailto:a@b.c")
