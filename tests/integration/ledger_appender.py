"""Crash harness for the evidence ledger: an appender to SIGKILL, and the checks run after each kill.

The child side runs as a script (``sys.executable tests/integration/ledger_appender.py …``)::

    ledger_appender.py append URL --run R   # import, print "ready", append until killed
    ledger_appender.py zygote URL           # import once, then fork one appender per "go R" line

An appender adds 1–5 records per unit of work through ``SqlUnitOfWorkFactory`` (canonical bytes
``{"n":N,"run":R}``, event id ``evt_crash_R_N``) and, after EACH successful ``commit()``, writes
``ack R N…`` to stdout in one ``write`` (atomic on a pipe): the acknowledged records.

The parent side is ``CrashHarness`` (used by ``test_ledger_crash.py`` and ``bench/audit.py``): each
round starts an appender, waits a seeded random 20–300 ms, kills it with SIGKILL, collects every
acknowledgement, then checks the database in one snapshot: every acknowledged record is present,
the records of the round form a prefix of what it tried to write, indexes run 0..size-1, the head
equals the record count, no stray subtree node exists, every stored leaf hash matches its record,
the root from stored nodes equals a ``CompactRange`` recomputation, and an inclusion proof for a
random index verifies. ``verify_all`` runs ``verify_log`` over the whole log.

A fresh interpreter takes ~0.6 s to import the ledger's stack, far longer than a round, so most
rounds fork the appender from a *zygote* that imported everything once and never touched the
database: the forked child opens its own engine and connection, and the kill is a real SIGKILL of
a process in the middle of its transactions. ``fresh=True`` rounds start a whole new interpreter.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import random
import signal
import subprocess
import sys
import time
import traceback
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import IO

from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from deskguard.adapters.db.engine import make_engine, read_only
from deskguard.adapters.db.ledger import SqlLedgerRepository
from deskguard.adapters.db.tables import AuditNodeRow, AuditRecordRow
from deskguard.adapters.db.uow import SqlUnitOfWorkFactory
from deskguard.audit.checkpoint import Keyring
from deskguard.audit.merkle import CompactRange, inclusion_proof, leaf_hash, root_hash, verify_inclusion
from deskguard.audit.verify import LogRecord, Report, verify_log
from deskguard.domain.ports import AuditRecord, StoredRecord

SCRIPT = Path(__file__).resolve()
TENANT = "tnt_crash"
ORIGIN = "deskguard.test/crash"
APPLICATION_NAME = "deskguard-crash-appender"  # PostgreSQL: find the killed appender's backend
CHILD_LIFETIME_S = 30.0  # an appender nobody kills stops by itself
DELAY_S = (0.020, 0.300)
PAGE = 5000


# --- child side ------------------------------------------------------------------------------------
def _record(run: int, n: int) -> AuditRecord:
    return AuditRecord(
        tenant_id=TENANT,
        event_id=f"evt_crash_{run}_{n}",
        type="crash.append",
        occurred_at=datetime.now(UTC),
        actor_id="op_crash",
        person_id=None,
        request_id=None,
        canonical=b'{"n":%d,"run":%d}' % (n, run),
    )


def append_until_killed(url: str, run: int, *, up: Callable[[], None]) -> None:
    """Connect, call ``up()``, then append 1–5 records per unit of work; acknowledge each commit on fd 1."""
    engine = make_engine(url)
    with engine.connect():  # the first connection (and the dialect's set-up) is not "under load"
        pass
    factory = SqlUnitOfWorkFactory(engine)
    up()
    rng, n, stop = random.Random(run), 0, time.monotonic() + CHILD_LIFETIME_S
    while time.monotonic() < stop:
        numbers = range(n, n + rng.randint(1, 5))
        with factory() as uow:
            for number in numbers:
                uow.ledger.add(_record(run, number))
            uow.commit()
        os.write(1, f"ack {run} {' '.join(map(str, numbers))}\n".encode())
        n = numbers.stop


def _forked_appender(url: str, run: int) -> tuple[int, bool]:
    """Fork an appender; returns its pid and whether it came up (else it has already exited)."""
    ready, signal_up = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child never returns into the zygote's loop
        os.close(ready)
        try:
            append_until_killed(url, run, up=lambda: _signal_up(signal_up))
        except BaseException:
            traceback.print_exc()
            os._exit(1)
        os._exit(0)
    os.close(signal_up)
    try:
        return pid, os.read(ready, 1) == b"u"  # end of file: the child died first
    finally:
        os.close(ready)


def _say_ready() -> None:
    os.write(1, b"ready\n")


def _signal_up(fd: int) -> None:
    os.write(fd, b"u")
    os.close(fd)


def zygote(url: str) -> None:
    """On ``go R``: fork an appender, report ``pid R P`` once it is up. On ``reap R``: report
    ``dead R STATUS`` once it has ended. A child that dies before it is up is reported dead at once."""
    os.write(1, b"ready\n")
    child: int | None = None
    try:
        for line in sys.stdin:
            command, run = line.split()
            if command == "go":
                child, up = _forked_appender(url, int(run))
                if up:
                    os.write(1, f"pid {run} {child}\n".encode())
                    continue
            if child is not None:  # "reap", or a child that did not come up
                _, status = os.waitpid(child, 0)
                child = None
                os.write(1, f"dead {run} {status}\n".encode())
    finally:
        if child is not None:  # the parent went away mid-round
            _kill(child)
            os.waitpid(child, 0)


def _kill(pid: int) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGKILL)


def _child_main(argv: Sequence[str]) -> None:
    parser = argparse.ArgumentParser(description="ledger appender for the crash test")
    parser.add_argument("mode", choices=["append", "zygote"])
    parser.add_argument("url")
    parser.add_argument("--run", type=int, default=0)
    args = parser.parse_args(argv)
    if args.mode == "zygote":
        zygote(args.url)
    else:
        append_until_killed(args.url, args.run, up=_say_ready)


# --- parent side -----------------------------------------------------------------------------------
class CrashCheckFailed(AssertionError):
    """The database after a kill is not what the acknowledged appends promise."""


@dataclass(frozen=True, slots=True)
class RoundResult:
    run: int
    acknowledged: int  # records the appender acknowledged before it died
    written: int  # records of the round found in the log (acknowledged or not)
    size: int  # the log's size after the round


def child_url(url: str) -> str:
    if url.startswith("postgres"):
        return f"{url}{'&' if '?' in url else '?'}application_name={APPLICATION_NAME}"
    return url


def _check(condition: bool, message: str) -> None:
    if not condition:
        raise CrashCheckFailed(message)


def _parse_acks(lines: Iterator[bytes], run: int) -> list[int]:
    numbers: list[int] = []
    for line in lines:
        if not line.endswith(b"\n"):
            continue  # cut mid-line by the kill: the commit happened, the acknowledgement did not
        word, line_run, *rest = line.split()
        _check(word == b"ack" and int(line_run) == run, f"unexpected appender output {line!r}")
        numbers.extend(int(n) for n in rest)
    _check(numbers == list(range(len(numbers))), f"run {run}: acknowledgements out of order")
    return numbers


class CrashHarness:
    """Kill-and-check rounds against one database (see the module docstring). A context manager."""

    def __init__(self, url: str, *, seed: int = 0) -> None:
        self.url = url
        self._engine = make_engine(url)
        self._rng = random.Random(seed)
        self._tree = CompactRange()
        self._zygote: subprocess.Popen[bytes] | None = None
        self._child: int | None = None
        self._next_run = 0  # run numbers are unique per database: they name the records
        self.rounds = 0

    def __enter__(self) -> CrashHarness:
        self.resync()
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Kill whatever is still running; never leave a process behind."""
        if self._child is not None:
            _kill(self._child)
            self._child = None
        if self._zygote is not None:
            zygote, self._zygote = self._zygote, None
            _close_quietly(zygote.stdin)
            try:
                zygote.wait(timeout=5)
            except subprocess.TimeoutExpired:
                zygote.kill()
                zygote.wait()
            _close_quietly(zygote.stdout)
        self._engine.dispose()

    # --- one round ---------------------------------------------------------------------------------
    def crash_round(self, *, fresh: bool = False) -> RoundResult:
        run, delay = self._next_run, self._rng.uniform(*DELAY_S)
        self._next_run, self.rounds = run + 1, self.rounds + 1
        lines = self._run_fresh(run, delay) if fresh else self._run_forked(run, delay)
        acknowledged = _parse_acks(iter(lines), run)
        self._wait_for_dead_backend()
        try:
            return self._check_round(run, acknowledged)
        finally:
            self._engine.dispose()  # the next appender reopens a database nobody has open

    def _run_fresh(self, run: int, delay: float) -> list[bytes]:
        command = [sys.executable, str(SCRIPT), "append", child_url(self.url), "--run", str(run)]
        process = subprocess.Popen(command, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE)
        assert process.stdout is not None
        self._child = process.pid
        try:
            _check(process.stdout.readline() == b"ready\n", f"run {run}: the appender did not start")
            time.sleep(delay)
            os.kill(process.pid, signal.SIGKILL)
            status = process.wait()
            lines = process.stdout.readlines()
        finally:
            self._child = None
            _kill(process.pid)
            process.wait()
            process.stdout.close()
        _check(status == -signal.SIGKILL, f"run {run}: the appender exited with {status} before the kill")
        return lines

    def _run_forked(self, run: int, delay: float) -> list[bytes]:
        zygote = self._start_zygote()
        assert zygote.stdin is not None and zygote.stdout is not None
        _send(zygote.stdin, f"go {run}")
        word, _, pid = zygote.stdout.readline().split()
        _check(word == b"pid", f"run {run}: the appender did not come up (wait status {pid.decode()})")
        self._child = int(pid)
        try:
            time.sleep(delay)
            os.kill(self._child, signal.SIGKILL)
        finally:
            self._child = None
        _send(zygote.stdin, f"reap {run}")
        lines = []
        while not (line := zygote.stdout.readline()).startswith(b"dead "):
            _check(bool(line), f"run {run}: the zygote died")
            lines.append(line)
        status = int(line.split()[2])
        killed = os.WIFSIGNALED(status) and os.WTERMSIG(status) == signal.SIGKILL
        _check(killed, f"run {run}: the appender ended with wait status {status} before the kill")
        return lines

    def _start_zygote(self) -> subprocess.Popen[bytes]:
        if self._zygote is None:
            command = [sys.executable, str(SCRIPT), "zygote", child_url(self.url)]
            self._zygote = subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE)
            assert self._zygote.stdout is not None
            _check(self._zygote.stdout.readline() == b"ready\n", "the zygote did not start")
        return self._zygote

    def _wait_for_dead_backend(self, timeout_s: float = 10.0) -> None:
        """PostgreSQL: a COMMIT sent just before the kill may still land; wait for the backend to end."""
        if self._engine.dialect.name != "postgresql":
            return
        query = "SELECT count(*) FROM pg_stat_activity WHERE application_name = %(name)s"
        stop = time.monotonic() + timeout_s
        with self._engine.connect() as connection:
            while connection.exec_driver_sql(query, {"name": APPLICATION_NAME}).scalar():
                _check(time.monotonic() < stop, "the killed appender's backend did not go away")
                connection.rollback()  # a fresh snapshot of pg_stat_activity
                time.sleep(0.005)

    # --- checks ------------------------------------------------------------------------------------
    def _snapshot(self) -> Session:
        """One consistent read: a deferred transaction on SQLite (WAL), REPEATABLE READ on PostgreSQL."""
        bind: Engine = read_only(self._engine)
        if self._engine.dialect.name == "postgresql":
            bind = bind.execution_options(isolation_level="REPEATABLE READ")
        return Session(bind)

    def _check_round(self, run: int, acknowledged: list[int]) -> RoundResult:
        with self._snapshot() as session:
            ledger = SqlLedgerRepository(session)
            size = self._check_counts(session, ledger)
            written = self._check_new_records(ledger, run, size)
            _check(len(acknowledged) <= written, f"run {run}: acknowledged records are missing")
            if acknowledged:
                last = ledger.find(event_id=f"evt_crash_{run}_{acknowledged[-1]}")
                _check(last is not None, f"run {run}: the last acknowledged record is missing")
            self._check_tree(ledger, size)
        return RoundResult(run=run, acknowledged=len(acknowledged), written=written, size=size)

    def _check_counts(self, session: Session, ledger: SqlLedgerRepository) -> int:
        size = ledger.size(tenant_id=TENANT)
        records = session.scalar(
            select(func.count()).select_from(AuditRecordRow).where(AuditRecordRow.tenant_id == TENANT)
        )
        _check(records == size, f"audit_heads.size is {size} but {records} records are stored")
        nodes = session.scalar(
            select(func.count()).select_from(AuditNodeRow).where(AuditNodeRow.tenant_id == TENANT)
        )
        expected = sum(size >> level for level in range(size.bit_length()))
        _check(nodes == expected, f"{nodes} subtree nodes stored, a log of {size} has {expected}")
        return size

    def _check_new_records(self, ledger: SqlLedgerRepository, run: int, size: int) -> int:
        """Check and fold in the records appended since the last round; returns how many."""
        start = self._tree.size
        for record in _pages(ledger, start=start, stop=size):
            _check_stored(record, expected_index=self._tree.size)
            number = json.loads(record.record.canonical)
            offset = self._tree.size - start
            _check(
                number == {"n": offset, "run": run}, f"index {record.index}: {number}, expected n={offset}"
            )
            self._tree.append(record.leaf_hash)
        _check(self._tree.size == size, f"the log has {size} records, {self._tree.size} were readable")
        return size - start

    def _check_tree(self, ledger: SqlLedgerRepository, size: int) -> None:
        if size == 0:
            return
        nodes = ledger.nodes(tenant_id=TENANT)
        root = self._tree.root()
        _check(
            root_hash(nodes, size=size) == root, f"the stored root at size {size} is not the records' root"
        )
        index = self._rng.randrange(size)
        (record,) = ledger.records(tenant_id=TENANT, start=index, limit=1)
        _check_stored(record, expected_index=index)
        proof = inclusion_proof(nodes, index=index, size=size)
        verify_inclusion(leaf_hash=record.leaf_hash, index=index, size=size, proof=proof, root=root)

    def resync(self) -> None:
        """Recompute the tree from every stored record (at the start, or after a failed round)."""
        with self._snapshot() as session:
            ledger = SqlLedgerRepository(session)
            size = ledger.size(tenant_id=TENANT)
            self._tree, last = CompactRange(), None
            for last in _pages(ledger, start=0, stop=size):
                self._tree.append(leaf_hash(last.record.canonical))
        self._engine.dispose()
        if last is not None:
            self._next_run = max(self._next_run, json.loads(last.record.canonical)["run"] + 1)

    def verify_all(self) -> Report:
        """``verify_log`` over the whole log, with the stored leaf hashes."""
        with self._snapshot() as session:
            ledger = SqlLedgerRepository(session)
            size = ledger.size(tenant_id=TENANT)
            records = [
                LogRecord(index=r.index, canonical=r.record.canonical, stored_leaf_hash=r.leaf_hash)
                for r in _pages(ledger, start=0, stop=size)
            ]
        self._engine.dispose()
        report = verify_log(records=records, checkpoints=[], keyring=Keyring(ORIGIN))
        _check(report.ok and report.size == size, f"verify_log: {report.line(origin=ORIGIN)}")
        return report


def _check_stored(record: StoredRecord, *, expected_index: int) -> None:
    _check(record.index == expected_index, f"expected index {expected_index}, found {record.index}")
    _check(record.leaf_hash == leaf_hash(record.record.canonical), f"index {record.index}: bad leaf hash")


def _pages(ledger: SqlLedgerRepository, *, start: int, stop: int) -> Iterator[StoredRecord]:
    while start < stop:
        page = ledger.records(tenant_id=TENANT, start=start, limit=min(PAGE, stop - start))
        if not page:
            return
        yield from page
        start += len(page)


def _send(stream: IO[bytes], line: str) -> None:
    stream.write(f"{line}\n".encode())
    stream.flush()


def _close_quietly(stream: IO[bytes] | None) -> None:
    if stream is not None:
        with contextlib.suppress(OSError):
            stream.close()


if __name__ == "__main__":
    _child_main(sys.argv[1:])
