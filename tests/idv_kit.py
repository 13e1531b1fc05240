"""Helpers of the identity-check link tests (unit, API and console): where a secret could leak.

``rows_holding(engine, needle)`` reads every row of every table and names those whose text holds
``needle`` in clear: the person's link must be in none of them (it is stored sealed)."""

from __future__ import annotations

from sqlalchemy import Engine, MetaData, select


def rows_holding(engine: Engine, needle: str) -> list[str]:
    """``table: row`` for each stored row whose values, as text, contain ``needle``."""
    tables = MetaData()
    tables.reflect(bind=engine)
    found: list[str] = []
    with engine.connect() as connection:
        for table in tables.sorted_tables:
            for row in connection.execute(select(table)):
                values = [v.decode("latin-1") if isinstance(v, bytes) else str(v) for v in row]
                if any(needle in v for v in values):
                    found.append(f"{table.name}: {row}")
    return found
