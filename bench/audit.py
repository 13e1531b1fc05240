"""Benchmark: the evidence ledger in SQLite, durable appends, proofs and offline verification at 1M.

Prints ONE JSON line on stdout (progress on stderr). Every database is a fresh SQLite file in a
temporary directory (removed afterwards) with the product's pragmas (WAL, ``synchronous=FULL``):

- ``naive_commits_per_s``: raw ``sqlite3``, one INSERT + COMMIT per record, for ``duration`` s: the
  baseline a one-commit-per-record design gets from this disk.
- ``appends_per_s_single``: audited records per second through ``SqlUnitOfWorkFactory``,
  ``uow.ledger.add`` and ``commit()``, ONE record per unit of work (each a durable commit).
- ``appends_per_s``: the same with ``GROUP`` records per unit of work (group commit: one fsync'd
  transaction carries many records; writers serialise, so this is how throughput grows).
- ``build_1m_s``: building a ``records``-record log (1,000,000 by default) through the repository,
  ``BUILD_BATCH`` records per commit.
- ``proof_ms_at_1m``: median over ``SAMPLES`` seeded random indexes of ``inclusion_proof`` from the
  stored nodes + ``verify_inclusion``, each in a fresh read-only unit of work (target <= 1 ms);
  ``proof_uow_ms_at_1m`` is the whole unit of work (open, read the record, prove, verify, close).
- ``export_1m_s``: writing the bundle (``records.jsonl`` from ``records()``, one checkpoint signed
  over the stored root, ``keys.json``, ``manifest.json``) to a directory.
- ``verify_1m_s``: reading that directory and ``verify_bundle`` on it: every record rehashed, the root
  recomputed and checked against the signed checkpoint (target <= 20 s). Must verify, or exit 1.
- ``crash_rounds``, ``crash_failures``, ``crash_records`` (``--crash-rounds N``): N SIGKILL rounds
  of ``tests/integration/ledger_appender.py`` (the crash test's harness) on one database, with the
  test's checks after every kill and ``verify_log`` every ``CRASH_VERIFY_EVERY`` rounds; failures
  must be 0, or exit 1.

Run: ``.venv/bin/python bench/audit.py [--quick] [--crash-rounds N]`` (``--quick``: 10,000 records,
1 s runs, for the smoke test).
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import platform
import random
import shutil
import sqlite3
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from types import ModuleType
from typing import Any

from sqlalchemy import Engine

from deskguard.adapters.db.engine import make_engine
from deskguard.adapters.db.migrate import upgrade
from deskguard.adapters.db.uow import SqlUnitOfWorkFactory
from deskguard.audit.bundle import FORMAT, verify_bundle
from deskguard.audit.checkpoint import Checkpoint
from deskguard.audit.merkle import inclusion_proof, root_hash, verify_inclusion
from deskguard.audit.note import Signer, generate_signer, sign_note
from deskguard.domain.ports import AuditRecord

FULL_RECORDS, QUICK_RECORDS = 1_000_000, 10_000
FULL_DURATION_S, QUICK_DURATION_S = 3.0, 1.0
GROUP = 50
BUILD_BATCH = 10_000
SAMPLES = 200
CRASH_VERIFY_EVERY = 250
TENANT = "tnt_bench"
ORIGIN = "deskguard.bench/tenants/tnt_bench"
APPENDER = Path(__file__).resolve().parents[1] / "tests" / "integration" / "ledger_appender.py"
_CANONICAL = (
    b'{"action":"mfa_reset","actor":{"id":"op_%08d","provider":"prv_bench"},"outcome":"executed",'
    b'"person_id":"prs_bench","request_id":"req_%08d","ticket":"INC%08d","type":"request.executed",'
    b'"workstation":"hmac-sha256:' + b"ab" * 32 + b'"}'
)


class BenchFailed(RuntimeError):
    """A result the benchmark cannot report: the log did not verify, a size is wrong."""


def _progress(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def record(tenant_id: str, index: int) -> AuditRecord:
    return AuditRecord(
        tenant_id=tenant_id,
        event_id=f"evt_{tenant_id}_{index:08d}",
        type="request.executed",
        occurred_at=datetime.now(UTC),
        actor_id="op_bench",
        person_id="prs_bench",
        request_id=f"req_{index:08d}",
        canonical=_CANONICAL % (index % 50, index, index),
    )


# --- durable appends -------------------------------------------------------------------------------
def naive_commits_per_s(path: Path, duration: float) -> float:
    connection = sqlite3.connect(path, isolation_level=None)
    try:
        connection.execute("PRAGMA journal_mode=WAL")
        connection.execute("PRAGMA synchronous=FULL")
        connection.execute("CREATE TABLE records (id INTEGER PRIMARY KEY, body TEXT NOT NULL)")
        body = record(TENANT, 0).canonical.decode()
        count, started = 0, time.perf_counter()
        while (elapsed := time.perf_counter() - started) < duration:
            connection.execute("BEGIN")
            connection.execute("INSERT INTO records (body) VALUES (?)", (body,))
            connection.execute("COMMIT")
            count += 1
        return count / elapsed
    finally:
        connection.close()


def appends_per_s(
    factory: SqlUnitOfWorkFactory, *, tenant_id: str, per_commit: int, duration: float
) -> float:
    count, started = 0, time.perf_counter()
    while (elapsed := time.perf_counter() - started) < duration:
        with factory() as uow:
            for index in range(count, count + per_commit):
                uow.ledger.add(record(tenant_id, index))
            uow.commit()
        count += per_commit
    with factory() as uow:
        if uow.ledger.size(tenant_id=tenant_id) != count:
            raise BenchFailed(
                f"{tenant_id}: appended {count}, the log has {uow.ledger.size(tenant_id=tenant_id)}"
            )
    return count / elapsed


# --- the 1M log ------------------------------------------------------------------------------------
def build_log(factory: SqlUnitOfWorkFactory, records: int) -> float:
    started = time.perf_counter()
    for start in range(0, records, BUILD_BATCH):
        with factory() as uow:
            for index in range(start, min(start + BUILD_BATCH, records)):
                uow.ledger.add(record(TENANT, index))
            uow.commit()
        if (start // BUILD_BATCH) % 10 == 9:
            _progress(f"built {start + BUILD_BATCH:,} records ({time.perf_counter() - started:.1f} s)")
    return time.perf_counter() - started


def time_proofs(
    reads: SqlUnitOfWorkFactory, size: int, rng: random.Random
) -> tuple[list[float], list[float]]:
    """(proof + verification, whole unit of work) timings for ``SAMPLES`` random indexes."""
    with reads() as uow:
        root = root_hash(uow.ledger.nodes(tenant_id=TENANT), size=size)
    proofs, units = [], []
    for index in (rng.randrange(size) for _ in range(SAMPLES)):
        opened = time.perf_counter()
        with reads() as uow:
            (stored,) = uow.ledger.records(tenant_id=TENANT, start=index, limit=1)
            started = time.perf_counter()
            proof = inclusion_proof(uow.ledger.nodes(tenant_id=TENANT), index=index, size=size)
            verify_inclusion(leaf_hash=stored.leaf_hash, index=index, size=size, proof=proof, root=root)
            proofs.append(time.perf_counter() - started)
        units.append(time.perf_counter() - opened)
    return proofs, units


# --- the bundle ------------------------------------------------------------------------------------
def export_bundle(reads: SqlUnitOfWorkFactory, size: int, directory: Path) -> float:
    """Write the tenant's bundle to ``directory`` the way ``app.ledger.export_bundle`` lays it out."""
    started = time.perf_counter()
    signer_text, verifier_text = generate_signer(ORIGIN)
    with reads() as uow, (directory / "records.jsonl").open("w", encoding="utf-8") as out:
        root = root_hash(uow.ledger.nodes(tenant_id=TENANT), size=size)
        written = 0
        while written < size:
            page = uow.ledger.records(tenant_id=TENANT, start=written, limit=50_000)
            out.writelines(r.record.canonical.decode() + "\n" for r in page)
            written += len(page)
    note = sign_note(Checkpoint(origin=ORIGIN, size=size, root=root).body(), Signer.from_text(signer_text))
    (directory / "checkpoints.jsonl").write_text(json.dumps(note) + "\n", encoding="utf-8")
    key = {"verifier": verifier_text, "not_before": "2020-01-01T00:00:00+00:00", "not_after": None}
    (directory / "keys.json").write_text(json.dumps([key]) + "\n", encoding="utf-8")
    manifest = {"format": FORMAT, "tenant_id": TENANT, "origin": ORIGIN, "records": size, "checkpoints": 1}
    (directory / "manifest.json").write_text(json.dumps(manifest) + "\n", encoding="utf-8")
    return time.perf_counter() - started


def verify_directory(directory: Path, size: int) -> float:
    started = time.perf_counter()
    files = {path.name: path.read_text(encoding="utf-8") for path in directory.iterdir()}
    origin, report = verify_bundle(files)
    elapsed = time.perf_counter() - started
    if not (report.ok and report.size == size and report.checkpoints_verified == 1):
        raise BenchFailed(f"the exported bundle does not verify: {report.line(origin=origin)}")
    return elapsed


# --- crash rounds ----------------------------------------------------------------------------------
def _load_appender() -> ModuleType:
    spec = importlib.util.spec_from_file_location("_bench_ledger_appender", APPENDER)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses resolve their module by name
    spec.loader.exec_module(module)
    return module


def crash_rounds(url: str, rounds: int) -> dict[str, Any]:
    appender = _load_appender()
    failures, started = 0, time.perf_counter()
    with appender.CrashHarness(url, seed=1000) as harness:
        for number in range(rounds):
            try:
                harness.crash_round(fresh=number == 0)
                if number % CRASH_VERIFY_EVERY == CRASH_VERIFY_EVERY - 1:
                    harness.verify_all()
            except appender.CrashCheckFailed as exc:
                failures += 1
                _progress(f"crash round {number}: FAILED: {exc}")
                harness.resync()
            if number % 100 == 99:
                _progress(f"crash rounds: {number + 1} ({time.perf_counter() - started:.0f} s)")
        try:
            size = harness.verify_all().size
        except appender.CrashCheckFailed as exc:
            failures, size = failures + 1, -1
            _progress(f"crash rounds: the final verify_log FAILED: {exc}")
    return {
        "crash_rounds": rounds,
        "crash_failures": failures,
        "crash_records": size,
        "crash_s": round(time.perf_counter() - started, 1),
    }


# --- main --------------------------------------------------------------------------------------------
def _median_ms(samples: list[float]) -> float:
    return round(statistics.median(samples) * 1000, 4)


def _fresh_db(template: Path, name: str) -> str:
    path = template.with_name(name)
    shutil.copyfile(template, path)
    return f"sqlite:///{path}"


def _with_engine(url: str, run: Callable[[Engine], dict[str, Any]]) -> dict[str, Any]:
    engine = make_engine(url)
    try:
        return run(engine)
    finally:
        engine.dispose()


def _append_figures(engine: Engine, duration: float) -> dict[str, Any]:
    factory = SqlUnitOfWorkFactory(engine)
    single = appends_per_s(factory, tenant_id="tnt_single", per_commit=1, duration=duration)
    group = appends_per_s(factory, tenant_id="tnt_group", per_commit=GROUP, duration=duration)
    return {"appends_per_s": round(group), "appends_per_s_single": round(single), "group_commit": GROUP}


def _log_figures(engine: Engine, records: int, bundle: Path) -> dict[str, Any]:
    build_s = build_log(SqlUnitOfWorkFactory(engine), records)
    _progress(f"built {records:,} records in {build_s:.1f} s; proving")
    reads = SqlUnitOfWorkFactory(engine, read_only=True)
    proofs, units = time_proofs(reads, records, random.Random(9162))
    _progress("exporting the bundle")
    export_s = export_bundle(reads, records, bundle)
    _progress(f"exported in {export_s:.1f} s; verifying it offline")
    return {
        "build_1m_s": round(build_s, 2),
        "proof_ms_at_1m": _median_ms(proofs),
        "proof_uow_ms_at_1m": _median_ms(units),
        "export_1m_s": round(export_s, 2),
        "verify_1m_s": round(verify_directory(bundle, records), 2),
    }


def run(records: int, duration: float, crash: int, workdir: Path) -> dict[str, Any]:
    template = workdir / "template.db"
    upgrade(f"sqlite:///{template}")
    _progress(f"naive baseline: one INSERT + COMMIT per record for {duration:g} s")
    result: dict[str, Any] = {"records": records}
    result["naive_commits_per_s"] = round(naive_commits_per_s(workdir / "naive.db", duration))
    _progress("ledger appends: 1 record per commit, then group commit")
    result |= _with_engine(_fresh_db(template, "appends.db"), lambda e: _append_figures(e, duration))
    bundle = workdir / "bundle"
    bundle.mkdir()
    result |= _with_engine(_fresh_db(template, "log.db"), lambda e: _log_figures(e, records, bundle))
    if crash:
        _progress(f"crash rounds: {crash}")
        result |= crash_rounds(_fresh_db(template, "crash.db"), crash)
    return result


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help=f"{QUICK_RECORDS:,} records, 1 s runs")
    parser.add_argument("--crash-rounds", type=int, default=0, help="also SIGKILL the appender N times")
    args = parser.parse_args(argv)
    records = QUICK_RECORDS if args.quick else FULL_RECORDS
    duration = QUICK_DURATION_S if args.quick else FULL_DURATION_S
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="deskguard-bench-audit-") as workdir:
        try:
            result = run(records, duration, args.crash_rounds, Path(workdir))
        except BenchFailed as exc:
            _progress(f"FAILED: {exc}")
            return 1
    result |= {"total_s": round(time.perf_counter() - started, 1), "python": platform.python_version()}
    print(json.dumps(result), flush=True)
    return 1 if result.get("crash_failures") else 0


if __name__ == "__main__":
    raise SystemExit(main())
