"""Storage fixtures shared by every test suite: one fresh, migrated database per test, on each backend.

- ``db_url`` — parametrised ``["sqlite", "postgresql"]``: the URL of a fresh database already at the
  newest migration. SQLite: a file in ``tmp_path``, copied from a template file migrated once per
  session. PostgreSQL: ``CREATE DATABASE … TEMPLATE`` from a template migrated once per session, on
  127.0.0.1:5432 (connecting to database ``test`` as ``postgres``), dropped after the test.
- ``empty_db_url`` — same parametrisation, but a database with no schema (for migration tests).
- ``engine`` — ``make_engine(db_url)``, disposed after the test.
- ``uow_factory`` — a ``SqlUnitOfWorkFactory`` over ``engine``.

Every test that uses one of them is marked ``db`` at collection time, so ``-m "not db"`` works.
If PostgreSQL cannot be reached, its half of the tests is skipped — unless ``CI=true``, where a
missing database must fail the build rather than silently test half the product.
"""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from psycopg import sql
from sqlalchemy import Engine

from deskguard.adapters.db.engine import make_engine
from deskguard.adapters.db.migrate import upgrade
from deskguard.adapters.db.uow import SqlUnitOfWorkFactory

BACKENDS = ["sqlite", "postgresql"]
PG_HOST, PG_PORT, PG_ADMIN_DB, PG_USER = "127.0.0.1", 5432, "test", "postgres"
_DB_FIXTURES = {"db_url", "empty_db_url", "engine", "uow_factory"}


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if _DB_FIXTURES & set(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.db)


def _pg_url(database: str) -> str:
    return f"postgresql+psycopg://{PG_USER}@{PG_HOST}:{PG_PORT}/{database}"


def _pg_admin() -> psycopg.Connection[tuple[object, ...]]:
    # autocommit: CREATE/DROP DATABASE cannot run inside a transaction.
    return psycopg.connect(
        host=PG_HOST, port=PG_PORT, dbname=PG_ADMIN_DB, user=PG_USER, autocommit=True, connect_timeout=3
    )


def _create_pg_database(name: str, *, template: str | None = None) -> None:
    with _pg_admin() as admin:
        if template is None:
            admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
        else:
            admin.execute(
                sql.SQL("CREATE DATABASE {} TEMPLATE {}").format(
                    sql.Identifier(name), sql.Identifier(template)
                )
            )


def _drop_pg_database(name: str) -> None:
    with _pg_admin() as admin:
        admin.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


@pytest.fixture(scope="session")
def _pg_template() -> Iterator[str]:
    """A migrated PostgreSQL database that per-test databases are cloned from."""
    try:
        _pg_admin().close()
    except psycopg.OperationalError as exc:
        message = f"PostgreSQL not reachable at {PG_HOST}:{PG_PORT}: {exc}".strip()
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(message, pytrace=False)
        pytest.skip(message)
    name = f"deskguard_tpl_{uuid.uuid4().hex[:12]}"
    _create_pg_database(name)
    try:
        upgrade(_pg_url(name))
        yield name
    finally:
        _drop_pg_database(name)


@pytest.fixture(scope="session")
def _sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A migrated SQLite file that per-test databases are copied from (faster than re-migrating)."""
    path = tmp_path_factory.mktemp("sqlite-template") / "template.db"
    upgrade(f"sqlite:///{path}")  # the engine is disposed, so the WAL is checkpointed into the file
    return path


def _fresh_database(request: pytest.FixtureRequest, tmp_path: Path, *, migrated: bool) -> Iterator[str]:
    if request.param == "sqlite":
        path = tmp_path / "deskguard.db"
        if migrated:
            shutil.copyfile(request.getfixturevalue("_sqlite_template"), path)
        yield f"sqlite:///{path}"
        return
    template = request.getfixturevalue("_pg_template")
    name = f"deskguard_t_{uuid.uuid4().hex[:12]}"
    _create_pg_database(name, template=template if migrated else None)
    try:
        yield _pg_url(name)
    finally:
        _drop_pg_database(name)


@pytest.fixture(params=BACKENDS)
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """The URL of a fresh database at the newest migration, on each backend."""
    yield from _fresh_database(request, tmp_path, migrated=True)


@pytest.fixture(params=BACKENDS)
def empty_db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """The URL of a fresh, empty database (no schema), on each backend."""
    yield from _fresh_database(request, tmp_path, migrated=False)


@pytest.fixture
def engine(db_url: str) -> Iterator[Engine]:
    engine = make_engine(db_url)
    try:
        yield engine
    finally:
        # Close pooled connections before the database is dropped (PostgreSQL) or removed (SQLite).
        engine.dispose()


@pytest.fixture
def uow_factory(engine: Engine) -> SqlUnitOfWorkFactory:
    return SqlUnitOfWorkFactory(engine)
