"""Contract tests of the export queue, on SQLite and PostgreSQL: items are queued once per
destination, come due on time, are bounded ("queue full" dead letters), fail, die and come back;
dead letters are tenant-scoped; ledger cursors round-trip."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from deskguard.adapters.db.uow import SqlUnitOfWorkFactory
from deskguard.domain.ports_export import ExportItem, ExportKind, ExportStatus

NOW = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
MINUTE = timedelta(minutes=1)


def item(key: str, *, destination: str = "syslog", tenant: str = "t_a", at: datetime = NOW) -> ExportItem:
    return ExportItem(
        id=0,
        destination=destination,
        tenant_id=tenant,
        kind=ExportKind.ALERT,
        key=key,
        payload={"id": key, "text": "é ✓", "nested": {"n": [1, 2]}},
        created_at=at,
        next_attempt_at=at,
    )


def _add(uow_factory: SqlUnitOfWorkFactory, *items: ExportItem) -> int:
    with uow_factory() as uow:
        added = uow.exports.add(list(items))
        uow.commit()
    return added


def test_items_round_trip_and_are_queued_once_per_destination(uow_factory: SqlUnitOfWorkFactory) -> None:
    assert _add(uow_factory, item("a1"), item("a1", destination="splunk")) == 2
    assert _add(uow_factory, item("a1"), item("a2")) == 1  # a1 already queued for syslog
    with uow_factory() as uow:
        due = uow.exports.due(destination="syslog", at=NOW, limit=10)
        assert [d.key for d in due] == ["a1", "a2"]
        first = due[0]
        assert first.payload == {"id": "a1", "text": "é ✓", "nested": {"n": [1, 2]}}
        assert first.status == ExportStatus.PENDING and first.attempts == 0
        assert first.created_at == NOW and first.kind == ExportKind.ALERT
        assert uow.exports.pending(destination="splunk") == 1


def test_failures_push_the_next_attempt_and_the_last_one_dead_letters(
    uow_factory: SqlUnitOfWorkFactory,
) -> None:
    _add(uow_factory, item("a1"), item("a2"))
    with uow_factory() as uow:
        a1, a2 = uow.exports.due(destination="syslog", at=NOW, limit=10)
        uow.exports.mark_failed(
            item_id=a1.id, error="timeout", next_attempt_at=NOW + MINUTE, attempts=1, at=NOW
        )
        uow.exports.mark_sent(item_id=a2.id, at=NOW)
        uow.commit()
    with uow_factory() as uow:
        assert uow.exports.due(destination="syslog", at=NOW, limit=10) == []
        (again,) = uow.exports.due(destination="syslog", at=NOW + MINUTE, limit=10)
        assert again.attempts == 1 and again.last_error == "timeout"
        uow.exports.mark_failed(item_id=a1.id, error="refused", next_attempt_at=None, attempts=2, at=NOW)
        uow.commit()
    with uow_factory() as uow:
        assert uow.exports.due(destination="syslog", at=NOW + MINUTE * 60, limit=10) == []
        (dead,) = uow.exports.dead(tenant_id="t_a")
        assert dead.key == "a1" and dead.status == ExportStatus.DEAD and dead.last_error == "refused"
        assert uow.exports.pending(destination="syslog") == 0


def test_the_queue_is_bounded_the_oldest_pending_are_dead_lettered(uow_factory: SqlUnitOfWorkFactory) -> None:
    _add(
        uow_factory, *(item(f"a{n}", at=NOW + n * MINUTE) for n in range(5)), item("s1", destination="splunk")
    )
    with uow_factory() as uow:
        assert uow.exports.trim(destination="syslog", max_pending=3, at=NOW) == 2
        assert uow.exports.trim(destination="syslog", max_pending=3, at=NOW) == 0
        uow.commit()
    with uow_factory() as uow:
        assert sorted(d.key for d in uow.exports.dead(tenant_id="t_a")) == ["a0", "a1"]
        assert {d.last_error for d in uow.exports.dead(tenant_id="t_a")} == {"queue full"}
        assert uow.exports.pending(destination="syslog") == 3
        assert uow.exports.pending(destination="splunk") == 1  # another destination's bound


def test_dead_letters_are_tenant_scoped_and_requeued_only_when_dead(
    uow_factory: SqlUnitOfWorkFactory,
) -> None:
    _add(uow_factory, item("a1"), item("b1", tenant="t_b"))
    with uow_factory() as uow:
        a1, b1 = uow.exports.due(destination="syslog", at=NOW, limit=10)
        for it in (a1, b1):
            uow.exports.mark_failed(item_id=it.id, error="x", next_attempt_at=None, attempts=8, at=NOW)
        uow.commit()
    with uow_factory() as uow:
        assert [d.key for d in uow.exports.dead(tenant_id="t_a")] == ["a1"]
        assert uow.exports.get(tenant_id="t_a", item_id=b1.id) is None
        assert uow.exports.requeue(tenant_id="t_a", item_id=b1.id, at=NOW) is False  # another tenant's
        assert uow.exports.requeue(tenant_id="t_a", item_id=a1.id, at=NOW + MINUTE) is True
        assert uow.exports.requeue(tenant_id="t_a", item_id=a1.id, at=NOW + MINUTE) is False  # pending now
        uow.commit()
    with uow_factory() as uow:
        (back,) = uow.exports.due(destination="syslog", at=NOW + MINUTE, limit=10)
        assert back.key == "a1" and back.attempts == 0 and back.next_attempt_at == NOW + MINUTE


def test_ledger_cursors_are_per_destination_and_tenant(uow_factory: SqlUnitOfWorkFactory) -> None:
    with uow_factory() as uow:
        assert uow.exports.cursor(destination="syslog", tenant_id="t_a") == -1
        uow.exports.set_cursor(destination="syslog", tenant_id="t_a", index=4)
        uow.exports.set_cursor(destination="syslog", tenant_id="t_a", index=9)
        uow.exports.set_cursor(destination="splunk", tenant_id="t_a", index=1)
        uow.commit()
    with uow_factory() as uow:
        assert uow.exports.cursor(destination="syslog", tenant_id="t_a") == 9
        assert uow.exports.cursor(destination="splunk", tenant_id="t_a") == 1
        assert uow.exports.cursor(destination="syslog", tenant_id="t_b") == -1
