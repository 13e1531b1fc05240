"""The ``PushChannel`` contract, for the fake and for ``WebPushChannel`` against a real local push
service (``tests/push_service.py``: VAPID checked, payload decrypted as a browser would)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime

import pytest
from py_vapid import Vapid02

from deskguard.adapters.channels.fake import FakePushChannel
from deskguard.adapters.channels.webpush import WebPushChannel, WebPushSettings
from deskguard.adapters.connectors.retry import Backoff
from deskguard.domain.ports import PushChannel, UnitOfWorkFactory
from deskguard.domain.ports_push import PushSubscription
from push_service import b64u, push_service


@dataclass
class Harness:
    channel: PushChannel
    arrived: Callable[[], list[tuple[str, str, str]]]  # (tenant, person, proof id) per device woken
    settle: Callable[[], None]


def _fake(**_: object) -> Iterator[Harness]:
    fake = FakePushChannel()
    yield Harness(fake, lambda: [(t, p, proof) for t, p, _d, proof in fake.sent], lambda: None)


def _webpush(uow_factory: UnitOfWorkFactory, tmp_path, monkeypatch) -> Iterator[Harness]:
    vapid = Vapid02()
    vapid.generate_keys()
    (tmp_path / "vapid.pem").write_bytes(vapid.private_pem())
    with push_service() as service:
        owners = {}
        with uow_factory() as uow:
            for tenant, person in [("t_a", "alice"), ("t_a", "bob")]:
                device, endpoint = service.device(f"{person}-phone")
                owners[device.name] = (tenant, person)
                uow.push_subscriptions.add(
                    PushSubscription(
                        id=f"psub_{person}",
                        tenant_id=tenant,
                        person_id=person,
                        endpoint=endpoint,
                        p256dh=device.p256dh,
                        auth=b64u(device.auth),
                        created_at=datetime.now(UTC),
                    )
                )
            uow.commit()
        settings = WebPushSettings(
            vapid_private_key=f"file://{tmp_path}/vapid.pem", subject="mailto:soc@example.org"
        )
        channel = WebPushChannel(
            settings, uow=uow_factory, now=lambda: datetime.now(UTC), backoff=Backoff(base_s=0.01)
        )
        yield Harness(
            channel,
            lambda: [(*owners[r.device], r.payload["proof_id"]) for r in service.received],
            channel.drain,
        )
        assert service.rejected == []


@pytest.fixture(params=["fake", "webpush"])
def harness(request, uow_factory, tmp_path, monkeypatch) -> Iterator[Harness]:
    make = {"fake": _fake, "webpush": _webpush}[request.param]
    yield from make(uow_factory=uow_factory, tmp_path=tmp_path, monkeypatch=monkeypatch)


def test_wakes_the_persons_device_with_the_proof(harness: Harness) -> None:
    harness.channel.notify(
        tenant_id="t_a", person_id="alice", device_factor_id="alice-push", proof_id="prf_1"
    )
    harness.settle()
    assert harness.arrived() == [("t_a", "alice", "prf_1")]


def test_wakes_nobody_else(harness: Harness) -> None:
    harness.channel.notify(tenant_id="t_a", person_id="bob", device_factor_id="bob-push", proof_id="prf_2")
    harness.settle()
    assert harness.arrived() == [("t_a", "bob", "prf_2")]
