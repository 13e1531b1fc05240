"""Schema migrations, driven from code: ``upgrade(url)`` and ``current_revision(url)``.

The Alembic environment ships inside the package (``adapters/db/migrations``), so neither users nor
operators need an ``alembic.ini``: the ``Config`` is built here and the connection is handed to
``migrations/env.py`` through ``Config.attributes``. ``deskguard db upgrade`` and ``bootstrap.py``
call ``upgrade``; developers generate a new revision with ``alembic_config(url)`` and
``alembic.command.revision(..., autogenerate=True)``, then clean it by hand.
"""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Connection

from deskguard.adapters.db.engine import make_engine

MIGRATIONS = Path(__file__).with_name("migrations")


def alembic_config(*, connection: Connection | None = None) -> Config:
    """An Alembic ``Config`` for the packaged migrations, bound to ``connection`` when given."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    if connection is not None:
        config.attributes["connection"] = connection
    return config


def upgrade(url: str, *, revision: str = "head") -> None:
    """Bring the database at ``url`` to ``revision`` (the newest by default). Idempotent."""
    engine = make_engine(url)
    try:
        # One transaction for the whole upgrade: a failed migration leaves the schema as it was
        # (PostgreSQL has transactional DDL; on SQLite the BEGIN IMMEDIATE also keeps writers out).
        with engine.begin() as connection:
            command.upgrade(alembic_config(connection=connection), revision)
    finally:
        engine.dispose()


def current_revision(url: str) -> str | None:
    """The revision the database at ``url`` is at, or None if it was never migrated."""
    engine = make_engine(url)
    try:
        with engine.connect() as connection:
            return MigrationContext.configure(connection).get_current_revision()
    finally:
        engine.dispose()
