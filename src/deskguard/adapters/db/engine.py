"""Engine construction for the two supported databases: embedded SQLite and PostgreSQL.

``make_engine(url)`` is the only place that knows how each backend must be configured so that the
repositories' guarantees hold (compare-and-set on ``version``, one decision per approver, a TOTP step
accepted once):

- **SQLite** (``sqlite:///path/to/file.db``, the embedded default): WAL journal so readers never block
  the writer, ``synchronous=FULL`` so a committed audit record survives power loss, foreign keys on,
  a busy timeout so contending writers wait instead of failing. Every transaction starts with
  ``BEGIN IMMEDIATE``: a unit of work reads and then writes, and a deferred transaction that tries
  to upgrade its read snapshot after another writer committed fails at once with "database is
  locked" (the busy timeout does not apply to that case). Taking the write lock up front makes
  writers queue on the busy timeout instead, so a lost compare-and-set surfaces as ``Conflict``.
- **PostgreSQL** (``postgresql+psycopg://…``; ``postgresql://`` and ``postgres://`` are rewritten to
  the psycopg 3 driver): READ COMMITTED, where a concurrent ``UPDATE … WHERE version = :v`` waits
  for the row lock and then re-checks its condition, which is exactly the compare-and-set we need.

``bootstrap.py`` calls this once; ``migrate.upgrade`` and the test fixtures use it too.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import URL, Connection, make_url

from deskguard.domain.errors import ConfigurationError

SQLITE_BUSY_TIMEOUT_MS = 10_000
# Sized for ~16 worker threads; the overflow absorbs bursts (webhooks, tests with many threads).
POOL_SIZE = 16
MAX_OVERFLOW = 16
POOL_TIMEOUT_S = 30


def make_engine(url: str) -> Engine:
    """An engine for ``url``, configured for the backend (see the module docstring)."""
    parsed = make_url(url)
    backend = parsed.get_backend_name()
    if backend == "sqlite":
        return _sqlite_engine(parsed)
    if backend in ("postgresql", "postgres"):
        return _postgresql_engine(parsed)
    raise ConfigurationError(
        f"unsupported database URL scheme {parsed.drivername!r}; "
        "use sqlite:///path/to/file.db or postgresql://user@host/db",
        field="database_url",
    )


def _sqlite_engine(url: URL) -> Engine:
    database = url.database or ""
    if database in ("", ":memory:") or database.startswith("file::memory:"):
        # An in-memory database is private to each pooled connection: concurrent units of work
        # would each see an empty schema. Refuse rather than lose data silently.
        raise ConfigurationError(
            "SQLite needs a file (sqlite:///var/deskguard.db), not an in-memory database",
            field="database_url",
        )
    Path(database).expanduser().parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(
        url,
        pool_size=POOL_SIZE,
        max_overflow=MAX_OVERFLOW,
        pool_timeout=POOL_TIMEOUT_S,
        connect_args={"timeout": SQLITE_BUSY_TIMEOUT_MS / 1000, "check_same_thread": False},
    )
    event.listen(engine, "connect", _configure_sqlite_connection)
    event.listen(engine, "begin", _begin_immediate)
    return engine


def _configure_sqlite_connection(dbapi_connection: Any, _record: Any) -> None:
    # Hand transaction control to SQLAlchemy (``_begin_immediate``); sqlite3's implicit BEGIN is
    # deferred and would also break SAVEPOINTs.
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    try:
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=FULL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
    finally:
        cursor.close()


READ_ONLY = "deskguard_read_only"


def read_only(engine: Engine) -> Engine:
    """The same engine and pool, for transactions that only read (see ``SqlUnitOfWorkFactory``)."""
    return engine.execution_options(**{READ_ONLY: True})


def _begin_immediate(connection: Connection) -> None:
    # A read-only transaction takes no write lock: in WAL mode it reads a snapshot and never waits.
    if connection.get_execution_options().get(READ_ONLY):
        connection.exec_driver_sql("BEGIN")
    else:
        connection.exec_driver_sql("BEGIN IMMEDIATE")


def _postgresql_engine(url: URL) -> Engine:
    if url.drivername in ("postgresql", "postgres"):
        url = url.set(drivername="postgresql+psycopg")
    if url.drivername != "postgresql+psycopg":
        raise ConfigurationError(
            f"unsupported PostgreSQL driver {url.drivername!r}; use postgresql+psycopg", field="database_url"
        )
    engine = create_engine(
        url,
        isolation_level="READ COMMITTED",
        pool_size=POOL_SIZE,
        max_overflow=MAX_OVERFLOW,
        pool_timeout=POOL_TIMEOUT_S,
        pool_pre_ping=True,
    )
    event.listen(engine, "begin", _begin_read_only_postgresql)
    return engine


def _begin_read_only_postgresql(connection: Connection) -> None:
    if connection.get_execution_options().get(READ_ONLY):
        connection.exec_driver_sql("SET TRANSACTION READ ONLY")
