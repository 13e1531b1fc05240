"""Readiness of the storage: the database answers and its schema is the newest migration."""

from __future__ import annotations

from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, text

from deskguard.adapters.db.migrate import alembic_config


def readiness(engine: Engine) -> dict[str, bool]:
    try:
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))
            current = MigrationContext.configure(connection).get_current_revision()
    except Exception:  # any failure to reach the database means "not ready", never a crash
        return {"database": False, "schema": False}
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    return {"database": True, "schema": current == head}
