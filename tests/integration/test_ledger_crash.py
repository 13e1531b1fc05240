"""Crash test of the evidence ledger (issue 3): SIGKILL the appender under load, again and again.

Each round starts an appender on the same database (``ledger_appender.py``), lets it commit units
of work of 1–5 records for a seeded random 20–300 ms, kills it with SIGKILL and checks, before the
next round: no acknowledged record lost, indexes 0..size-1 with no gap, the head equal to the
record count, every stored leaf hash right, the root from stored nodes equal to a recomputation
from the records, a random inclusion proof valid (``CrashHarness`` lists the checks). The log
must keep growing correctly after every restart; ``verify_log`` runs over all of it every
``FULL_VERIFY_EVERY`` rounds and at the end. 200 kills on SQLite, 20 on PostgreSQL; the first
rounds start a fresh interpreter, the rest fork from a preloaded one (see the harness docstring).
The delays are seeded, so a failing run replays its schedule (the kill points still depend on timing).

``bench/audit.py --crash-rounds 1000`` runs the long version.
"""

from __future__ import annotations

import pytest
from ledger_appender import TENANT, CrashCheckFailed, CrashHarness
from sqlalchemy import delete

from deskguard.adapters.db.engine import make_engine
from deskguard.adapters.db.tables import AuditRecordRow

pytestmark = pytest.mark.integration

ROUNDS = {"sqlite": 200, "postgresql": 20}
FRESH_ROUNDS = 3  # rounds that start a new interpreter instead of forking
FULL_VERIFY_EVERY = 50


def _backend(url: str) -> str:
    return "sqlite" if url.startswith("sqlite") else "postgresql"


def test_no_acknowledged_record_is_lost_across_sigkills(db_url: str) -> None:
    rounds = ROUNDS[_backend(db_url)]
    with CrashHarness(db_url, seed=9162) as harness:
        results = []
        for number in range(rounds):
            results.append(harness.crash_round(fresh=number < FRESH_ROUNDS))
            if number % FULL_VERIFY_EVERY == FULL_VERIFY_EVERY - 1:
                harness.verify_all()
        report = harness.verify_all()
    assert report.size == results[-1].size == sum(r.written for r in results)
    assert sum(r.acknowledged for r in results) > 0
    # The kills must land while the appender is busy committing, not before it starts.
    assert sum(r.acknowledged > 0 for r in results) >= rounds // 2, results


def test_the_checks_catch_a_lost_acknowledged_record(db_url: str) -> None:
    """The harness is not vacuous: remove the newest record behind its back and the next round fails."""
    with CrashHarness(db_url, seed=1) as harness:
        while harness.crash_round().acknowledged == 0:
            pass
        engine = make_engine(db_url)
        try:
            with engine.begin() as connection:
                newest = AuditRecordRow.idx == harness.crash_round().size - 1
                connection.execute(delete(AuditRecordRow).where(AuditRecordRow.tenant_id == TENANT, newest))
        finally:
            engine.dispose()
        with pytest.raises(CrashCheckFailed, match="records are stored"):
            harness.crash_round()
