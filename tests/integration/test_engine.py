"""Integration tests of the storage foundations: engine configuration and migrations, on real servers.

The SQLite pragmas are what make a committed audit record durable and concurrent writers queue
instead of failing; the migration test proves ``migrations/versions`` builds exactly the schema
``tables.py`` declares, on both backends, so the repositories never run against a drifted schema.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, inspect

from deskguard.adapters.db.engine import make_engine
from deskguard.adapters.db.migrate import alembic_config, current_revision, upgrade
from deskguard.adapters.db.tables import metadata
from deskguard.domain.errors import ConfigurationError

HEAD = ScriptDirectory.from_config(alembic_config()).get_current_head()


def test_sqlite_connections_use_wal_full_sync_foreign_keys_and_a_busy_timeout(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'nested' / 'dir' / 'deskguard.db'}")
    try:
        for _ in range(2):  # every pooled connection, not just the first
            with engine.connect() as connection:
                pragma = {
                    name: connection.exec_driver_sql(f"PRAGMA {name}").scalar()
                    for name in ("journal_mode", "synchronous", "foreign_keys", "busy_timeout")
                }
                assert pragma == {
                    "journal_mode": "wal",
                    "synchronous": 2,
                    "foreign_keys": 1,
                    "busy_timeout": 10_000,
                }
        assert (tmp_path / "nested" / "dir" / "deskguard.db").exists()
    finally:
        engine.dispose()


def test_sqlite_write_transactions_take_the_write_lock_up_front(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'deskguard.db'}")
    try:
        with engine.connect() as first, first.begin():
            first.exec_driver_sql("SELECT 1")
            # A second writer must wait for the lock (and time out here), not start a snapshot
            # that it could later fail to upgrade.
            raw = engine.raw_connection()
            try:
                raw.driver_connection.execute("PRAGMA busy_timeout=50")  # type: ignore[union-attr]
                with pytest.raises(Exception, match="locked"):
                    raw.driver_connection.execute("BEGIN IMMEDIATE")  # type: ignore[union-attr]
            finally:
                raw.close()
    finally:
        engine.dispose()


@pytest.mark.parametrize("url", ["sqlite://", "sqlite:///:memory:", "mysql://root@localhost/x"])
def test_unsupported_urls_are_refused_with_a_clear_error(url: str) -> None:
    with pytest.raises(ConfigurationError):
        make_engine(url)


@pytest.mark.parametrize(
    "url",
    [
        "postgresql://u@db.example/deskguard",
        "postgres://u@db.example/deskguard",
        "postgresql+psycopg://u@db.example/deskguard",
    ],
)
def test_postgresql_urls_use_psycopg_3(url: str) -> None:
    engine = make_engine(url)  # no connection is opened
    try:
        assert engine.url.drivername == "postgresql+psycopg"
    finally:
        engine.dispose()


def test_postgresql_transactions_are_read_committed(engine: Engine) -> None:
    if engine.dialect.name != "postgresql":
        pytest.skip("PostgreSQL only: SQLite serialises writers with BEGIN IMMEDIATE instead")
    with engine.connect() as connection:
        assert connection.exec_driver_sql("SHOW transaction_isolation").scalar() == "read committed"


def test_upgrade_builds_exactly_the_declared_schema(empty_db_url: str) -> None:
    assert current_revision(empty_db_url) is None
    upgrade(empty_db_url)
    upgrade(empty_db_url)  # idempotent
    assert current_revision(empty_db_url) == HEAD
    engine = make_engine(empty_db_url)
    try:
        with engine.connect() as connection:
            context = MigrationContext.configure(connection, opts={"compare_type": True})
            assert compare_metadata(context, metadata) == []
        assert set(inspect(engine).get_table_names()) == set(metadata.tables) | {"alembic_version"}
    finally:
        engine.dispose()


def test_fixture_databases_are_at_head(db_url: str, engine: Engine) -> None:
    assert current_revision(db_url) == HEAD
    assert set(metadata.tables) <= set(inspect(engine).get_table_names())
