"""The exporter delivers the export queue at least once, on a fixed clock: alerts queued in the
transaction that stores them, ledger records after a per-destination cursor, capped exponential
back-off (Retry-After honoured), dead letters after the last attempt or a refusal, a bounded queue,
and a SIEM that is down never blocking ingest."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from deskguard.adapters.connectors.retry import Retryable
from deskguard.app import detection, directory
from deskguard.app.export import backoff, enqueue_alerts
from deskguard.detection.alerts import Alert
from deskguard.domain.errors import ConnectorError, ConnectorTimeout
from deskguard.domain.ports_export import ExportItem, ExportKind, ExportPlan, ExportStatus
from deskguard.workers.exporter import Exporter
from records import ADMIN_RESET
from world import World, build_world

FAR = datetime(2100, 1, 1, tzinfo=UTC)
BOTH = frozenset({ExportKind.ALERT, ExportKind.LEDGER_RECORD})


class FakeSink:
    def __init__(self, name: str = "siem", kinds: frozenset[ExportKind] = BOTH) -> None:
        self.name, self.kinds = name, kinds
        self.sent: list[ExportItem] = []
        self.failures: list[Exception] = []  # raised, one per send, before anything succeeds
        self.closed = False

    def send(self, item: ExportItem) -> None:
        if self.failures:
            raise self.failures.pop(0)
        self.sent.append(item)

    def close(self) -> None:
        self.closed = True


def _world(uow_factory, **plan: object) -> World:
    world = build_world(uow_factory)
    limits = {"max_attempts": 4, "backoff_base_s": 5.0, "backoff_cap_s": 60.0, **plan}
    exports = ExportPlan(destinations={"siem": BOTH}, **limits)  # type: ignore[arg-type]
    world.ctx = replace(world.ctx, exports=exports)
    return world


def _ingest(world: World, record: dict | None = None) -> list[str]:
    result = detection.ingest(
        world.ctx,
        actor=world.operator("analyst"),
        tenant_id="t_a",
        source="okta",
        body=json.dumps(record or ADMIN_RESET).encode(),
    )
    return [a.id for a in result.alerts]


def _queue(world: World) -> list[ExportItem]:
    with world.ctx.reads() as uow:
        due = list(uow.exports.due(destination="siem", at=world.clock.now(), limit=1000))
        return due + list(uow.exports.dead(tenant_id="t_a"))


def test_alerts_are_queued_with_their_transaction_and_sent_once(uow_factory) -> None:
    world = _world(uow_factory)
    raised = _ingest(world)
    assert raised
    queued = _queue(world)
    assert {i.key for i in queued if i.kind == ExportKind.ALERT} == set(raised)
    sink = FakeSink()
    worker = Exporter(world.ctx, [sink])
    assert worker.tick() == len(sink.sent) > 0
    assert {i.key for i in sink.sent if i.kind == ExportKind.ALERT} == set(raised)
    assert worker.tick() == 0  # sent items are not sent again
    _ingest(world)  # the same record: the same alert id, already queued
    assert worker.tick() == 0
    worker.start()
    worker.stop()
    assert sink.closed


def test_ledger_records_are_queued_after_each_destinations_cursor(uow_factory) -> None:
    world = _world(uow_factory)
    world.ctx = replace(
        world.ctx,
        exports=replace(
            world.ctx.exports, destinations={"siem": BOTH, "soar": frozenset({ExportKind.ALERT})}
        ),
    )
    siem, soar = FakeSink(), FakeSink("soar", frozenset({ExportKind.ALERT}))
    worker = Exporter(world.ctx, [siem, soar])
    directory.open_ticket(
        world.ctx, actor=world.operator("agent"), tenant_id="t_a", external_ref="INC-1", channel="phone"
    )
    worker.tick()
    first = [i for i in siem.sent if i.kind == ExportKind.LEDGER_RECORD]
    assert [i.payload["type"] for i in first] == ["ticket.opened"]
    assert first[0].payload["record"]["type"] == "ticket.opened"  # the canonical, scrubbed record
    assert soar.sent == []  # the SOAR destination takes alerts only
    directory.open_ticket(
        world.ctx, actor=world.operator("agent"), tenant_id="t_b", external_ref="INC-2", channel="phone"
    )
    directory.open_ticket(
        world.ctx, actor=world.operator("agent"), tenant_id="t_a", external_ref="INC-3", channel="phone"
    )
    worker.tick()
    later = [i for i in siem.sent if i.kind == ExportKind.LEDGER_RECORD][1:]
    assert sorted((i.tenant_id, i.payload["index"]) for i in later) == [("t_a", 1), ("t_b", 0)]


def _one(world: World, key: str = "alr_x") -> None:
    now = world.clock.now()
    with world.ctx.uow() as uow:
        uow.exports.add(
            [
                ExportItem(
                    id=0,
                    destination="siem",
                    tenant_id="t_a",
                    kind=ExportKind.ALERT,
                    key=key,
                    payload={"id": key},
                    created_at=now,
                    next_attempt_at=now,
                )
            ]
        )
        uow.commit()


def _item(world: World, key: str = "alr_x") -> ExportItem:
    with world.ctx.reads() as uow:
        (found,) = (
            [i for i in uow.exports.due(destination="siem", at=FAR, limit=100) if i.key == key]
            or [i for i in uow.exports.dead(tenant_id="t_a") if i.key == key]
            or [None]
        )
    if found is None:  # sent: neither due nor dead
        raise LookupError(key)
    return found


def test_a_siem_that_is_down_is_retried_with_capped_exponential_back_off(uow_factory) -> None:
    world = _world(uow_factory)
    sink = FakeSink()
    sink.failures = [ConnectorTimeout("down")] * 3
    worker = Exporter(world.ctx, [sink])
    _one(world)
    start = world.clock.now()
    assert worker.tick() == 0
    assert _item(world).next_attempt_at == start + timedelta(seconds=5)
    assert _item(world).last_error == "ConnectorTimeout: down"
    world.clock.advance(seconds=4)
    assert worker.tick() == 0 and len(sink.failures) == 2  # not due yet: not tried
    for wait in (1, 10, 20):  # due after 5 s, then 10 s, then 20 s
        world.clock.advance(seconds=wait)
        worker.tick()
    assert [i.key for i in sink.sent] == ["alr_x"] and sink.failures == []
    with pytest.raises(LookupError):
        _item(world)  # sent: no longer due, not dead


def test_the_last_attempt_dead_letters_the_item(uow_factory) -> None:
    world = _world(uow_factory, max_attempts=3)
    sink = FakeSink()
    sink.failures = [ConnectorTimeout("down")] * 10
    worker = Exporter(world.ctx, [sink])
    _one(world)
    for _ in range(5):
        worker.tick()
        world.clock.advance(seconds=60)
    dead = _item(world)
    assert dead.status == ExportStatus.DEAD and dead.attempts == 3
    assert len(sink.failures) == 7  # tried exactly three times


@pytest.mark.parametrize(("retry_after", "expected"), [(42.0, 42), (3600.0, 60), (1.0, 5), (None, 5)])
def test_retry_after_is_honoured_within_the_cap(uow_factory, retry_after, expected) -> None:
    world = _world(uow_factory)
    sink = FakeSink()
    sink.failures = [Retryable("splunk answered 429", retry_after=retry_after)]
    _one(world)
    Exporter(world.ctx, [sink]).tick()
    assert _item(world).next_attempt_at == world.clock.now() + timedelta(seconds=expected)


def test_a_refusal_for_good_dead_letters_at_once_and_the_pass_goes_on(uow_factory) -> None:
    world = _world(uow_factory)
    sink = FakeSink()
    sink.failures = [ConnectorError("thehive refused (400): bad field")]
    _one(world, "alr_1")
    _one(world, "alr_2")
    Exporter(world.ctx, [sink]).tick()
    assert _item(world, "alr_1").status == ExportStatus.DEAD
    assert "bad field" in _item(world, "alr_1").last_error
    assert [i.key for i in sink.sent] == ["alr_2"]


def test_beyond_the_bound_the_oldest_pending_become_dead_letters(uow_factory) -> None:
    world = _world(uow_factory, max_queue=2)
    alerts = [_alert(f"alr_{n}") for n in range(3)]
    with world.ctx.uow() as uow:
        for alert in alerts:
            enqueue_alerts(uow, [alert], plan=world.ctx.exports, now=world.clock.now())
        uow.commit()
    assert _item(world, "alr_0").status == ExportStatus.DEAD
    assert _item(world, "alr_0").last_error == "queue full"
    assert {_item(world, k).status for k in ("alr_1", "alr_2")} == {ExportStatus.PENDING}


def _alert(alert_id: str) -> Alert:
    return Alert(
        id=alert_id,
        rule_id="Some.Rule",
        title="t",
        severity="high",
        tenant="t_a",
        entities={"user": "vip@t_a.example"},
        first_seen=0.0,
        last_seen=1.0,
        event_ids=["e1"],
        explanation="x",
    )


def test_back_off_doubles_and_is_capped() -> None:
    plan = ExportPlan(backoff_base_s=5.0, backoff_cap_s=60.0)
    assert [backoff(n, plan).total_seconds() for n in range(1, 7)] == [5, 10, 20, 40, 60, 60]
