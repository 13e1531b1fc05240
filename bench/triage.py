"""Triage: filing alerts into cases, fitting the priority model, ranking the queue.

Prints one JSON line:
- ``cases_filed_per_s`` / ``alerts_filed_per_s``: ``app.triage.file_alerts`` on a fresh SQLite file
  (the product's pragmas), ``--alerts`` alerts about ``--entities`` people in units of work of
  ``--batch`` alerts, each one stored first as ``app.detection`` does; cases opened (and alerts
  filed) per second of that loop, ranking and storage included.
- ``pure_alerts_filed_per_s``: the same grouping in memory (``detection.triage.choose`` + ``file``).
- ``fit_ms_1000``: ``detection.triage.train`` on 1,000 verdicts over 50 rules (median of
  ``--repeats``, scikit-learn already imported).
- ``rank_ms_1000_cases``: ``rank_case`` for 1,000 open cases of 1-3 alerts with that model.
- ``retrain_rerank_ms``: what a verdict costs on SQLite with ``--verdicts`` verdicts stored (on closed
  cases) and the ``open_cases`` the filing run left: one changed verdict, ``app.triage.retrain``
  (read the training set, fit, store) and ``rerank`` (read every open case with its alerts, rank,
  write them all in one executemany), committed; median of ``--repeats``.
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from deskguard.adapters.db.engine import make_engine
from deskguard.adapters.db.migrate import upgrade
from deskguard.adapters.db.uow import SqlUnitOfWorkFactory
from deskguard.app import triage as app_triage
from deskguard.detection import triage
from deskguard.detection.alerts import Alert

NOW = datetime(2027, 1, 15, 9, 0, tzinfo=UTC)
T0 = NOW.timestamp() - 86400
SEVERITIES = ("low", "medium", "medium", "high", "critical")
RULES = [f"Bench.Rule.R{i:02d}" for i in range(50)]


def alerts(count: int, *, entities: int, seed: int = 5, prefix: str = "a") -> list[Alert]:
    """Alerts over a day: each rule with its severity, about ``entities`` people, some by IP."""
    rng = random.Random(seed)
    out = []
    for n in range(count):
        rule = rng.randrange(len(RULES))
        at = T0 + n * (86400 / count) + rng.random()
        who = {"user": f"{prefix}{rng.randrange(entities)}@bench.example"}
        if rng.random() < 0.1:
            who = {"ip": f"203.0.113.{rng.randrange(250)}"}
        out.append(
            Alert(
                id=f"alr_{prefix}{n}",
                rule_id=RULES[rule],
                title=RULES[rule],
                severity=SEVERITIES[rule % len(SEVERITIES)],
                tenant="t_bench",
                entities=who,
                first_seen=at,
                last_seen=at,
                event_ids=[f"e{n}"],
                explanation="bench",
                mode="monitor" if rule % 10 == 0 else "alert",
                confidence=("low", "medium", "high")[rule % 3],
            )
        )
    return out


def samples(count: int, *, seed: int = 9) -> list[triage.Sample]:
    """Verdicts: each rule has its own true-positive rate."""
    rng = random.Random(seed)
    rates = {rule: rng.random() for rule in RULES}
    out = []
    for alert in alerts(count, entities=count // 3, seed=seed, prefix="s"):
        case = triage.file(alert, None)
        positive = rng.random() < rates[alert.rule_id]
        verdict = triage.Verdict.TRUE_POSITIVE if positive else rng.choice(list(triage.Verdict)[1:])
        out.append(
            triage.Sample(features=triage.features(alert, case), verdict=verdict, rule_id=alert.rule_id)
        )
    return out


def _median_ms(fn: Any, repeats: int) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return round(1000 * statistics.median(times), 3)


def pure_filing(batch: list[Alert]) -> float:
    start = time.perf_counter()
    open_cases: dict[tuple[str, str], list[triage.Case]] = {}
    for alert in batch:
        key = triage.principal(alert)
        found = open_cases.setdefault(key, [])
        chosen = triage.choose(found, alert)
        case = triage.file(alert, chosen)
        if chosen is None:
            found.append(case)
        else:
            found[found.index(chosen)] = case
    return len(batch) / (time.perf_counter() - start)


def stored_filing(factory: SqlUnitOfWorkFactory, batch: list[Alert], size: int) -> tuple[float, float, int]:
    start = time.perf_counter()
    for i in range(0, len(batch), size):
        part = batch[i : i + size]
        with factory() as uow:
            for alert in part:
                uow.alerts.save(alert)
            app_triage.file_alerts(uow, part, now=NOW)
            uow.commit()
    elapsed = time.perf_counter() - start
    with factory() as uow:
        cases = len(uow.cases.list(tenant_id="t_bench", status=None, limit=1_000_000))
    return cases / elapsed, len(batch) / elapsed, cases


def rank_queue(model: triage.TriageModel, count: int) -> float:
    rng = random.Random(3)
    pool = alerts(3 * count, entities=count, seed=4, prefix="q")
    groups = []
    for i in range(count):
        inside = pool[3 * i : 3 * i + rng.randint(1, 3)]
        case = triage.file(inside[0], None)
        for alert in inside[1:]:
            case = triage.file(alert, case)
        groups.append((case, inside))
    start = time.perf_counter()
    for case, inside in groups:
        triage.rank_case(case, inside, {}, model)
    return round(1000 * (time.perf_counter() - start), 3)


def retrain_rerank(factory: SqlUnitOfWorkFactory, verdicts: int, repeats: int) -> tuple[float, int]:
    """1,000 verdicts on closed cases, ~1,000 open cases: the cost of one retrain + re-rank."""
    judged = alerts(verdicts, entities=verdicts, seed=21, prefix="v")  # one case per person
    rng = random.Random(8)
    with factory() as uow:
        for alert in judged:
            uow.alerts.save(alert)
        app_triage.file_alerts(uow, judged, now=NOW)
        for n, alert in enumerate(judged):
            case_id = uow.cases.case_of(tenant_id=alert.tenant, alert_id=alert.id)
            assert case_id is not None
            good = rng.random() < (0.8 if RULES.index(alert.rule_id) % 2 else 0.1)
            uow.verdicts.put(
                triage.VerdictRecord(
                    tenant=alert.tenant,
                    alert_id=alert.id,
                    case_id=case_id,
                    verdict=triage.Verdict.TRUE_POSITIVE if good else triage.Verdict.FALSE_POSITIVE,
                    operator_id="op_bench",
                    comment="",
                    at=NOW + timedelta(seconds=n),
                )
            )
        for case_id in {uow.cases.case_of(tenant_id=a.tenant, alert_id=a.id) for a in judged}:
            case = uow.cases.get(tenant_id="t_bench", case_id=case_id or "")
            assert case is not None
            uow.cases.update(triage.close(case, at=NOW, reason="judged"))
        uow.commit()
    with factory() as uow:
        open_cases = len(uow.cases.list(tenant_id="t_bench", status=triage.CaseStatus.OPEN, limit=100_000))

    flips = iter(range(10**9))

    def once() -> None:  # one more verdict (a changed one), so the model and every rank change
        n = next(flips)
        alert = judged[n % len(judged)]
        with factory() as uow:
            stored = uow.verdicts.get(tenant_id=alert.tenant, alert_id=alert.id)
            assert stored is not None
            flipped = (
                triage.Verdict.FALSE_POSITIVE
                if stored.verdict == triage.Verdict.TRUE_POSITIVE
                else triage.Verdict.TRUE_POSITIVE
            )
            uow.verdicts.put(replace(stored, verdict=flipped, at=NOW + timedelta(days=1, seconds=n)))
            model = app_triage.retrain(uow, tenant_id="t_bench", now=NOW)
            app_triage.rerank(uow, tenant_id="t_bench", model=model)
            uow.commit()

    return _median_ms(once, repeats), open_cases


def main(argv: Sequence[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--alerts", type=int, default=5000)
    parser.add_argument("--entities", type=int, default=1000)
    parser.add_argument("--batch", type=int, default=100)
    parser.add_argument("--verdicts", type=int, default=1000)
    parser.add_argument("--cases", type=int, default=1000)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args(argv)
    triage.train(samples(50))  # imports numpy and scikit-learn outside the measurement
    batch = alerts(args.alerts, entities=args.entities)
    result: dict[str, Any] = {"alerts": args.alerts, "entities": args.entities}
    result["pure_alerts_filed_per_s"] = round(pure_filing(batch))
    training = samples(args.verdicts)
    model = triage.train(training)
    result["fit_ms_1000"] = _median_ms(lambda: triage.train(training), args.repeats)
    result["rank_ms_1000_cases"] = rank_queue(model, args.cases)
    with tempfile.TemporaryDirectory(prefix="deskguard-bench-triage-") as workdir:
        url = f"sqlite:///{Path(workdir) / 'triage.db'}"
        upgrade(url)
        engine = make_engine(url)
        try:
            factory = SqlUnitOfWorkFactory(engine)
            cases_per_s, alerts_per_s, cases = stored_filing(factory, batch, args.batch)
            result.update(
                cases_filed=cases,
                cases_filed_per_s=round(cases_per_s),
                alerts_filed_per_s=round(alerts_per_s),
            )
            retrain_ms, open_cases = retrain_rerank(factory, args.verdicts, args.repeats)
            result.update(retrain_rerank_ms=retrain_ms, open_cases=open_cases, verdicts=args.verdicts)
        finally:
            engine.dispose()
    print(json.dumps(result), flush=True)
    return result


if __name__ == "__main__":
    main(sys.argv[1:])
