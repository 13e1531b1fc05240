"""Alembic environment for deskguard: runs migrations on the connection ``migrate.py`` provides.

``migrate.alembic_config`` puts a live SQLAlchemy ``Connection`` in ``config.attributes["connection"]``;
there is no URL in any ini file and no offline (SQL script) mode. The target metadata is
``tables.metadata``, so autogenerate compares against the same schema the repositories use.
"""

from __future__ import annotations

from typing import Any

from alembic import context
from alembic.autogenerate.api import AutogenContext
from sqlalchemy import Connection

from deskguard.adapters.db import (  # noqa: F401 - their rows join the metadata
    tables_assurance,
    tables_connectors,
    tables_console,
    tables_detection,
    tables_exercises,
    tables_idv,
    tables_privilege,
    tables_push,
    tables_rule_modes,
)
from deskguard.adapters.db.tables import UTCDateTime, metadata


def render_item(kind: str, obj: Any, autogen: AutogenContext) -> str | bool:
    """Autogenerate writes ``UTCDateTime`` as plain ``sa.DateTime()``: a migration must not import
    application types, which may change after it was written."""
    if kind == "type" and isinstance(obj, UTCDateTime):
        return "sa.DateTime()"
    return False


def run_migrations_online() -> None:
    connection = context.config.attributes.get("connection")
    if not isinstance(connection, Connection):
        raise RuntimeError(
            "deskguard migrations run through deskguard.adapters.db.migrate, "
            "which passes a connection in config.attributes['connection']"
        )
    context.configure(
        connection=connection,
        target_metadata=metadata,
        # SQLite cannot ALTER most things: batch mode rebuilds the table instead.
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


if context.is_offline_mode():
    raise RuntimeError("offline (SQL script) migrations are not supported; use deskguard.adapters.db.migrate")
run_migrations_online()
