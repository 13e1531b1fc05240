"""Detection engine throughput, on one core, against its floor and Elastic's EQL engine.

Prints one JSON line:
- ``events_per_s``: Okta System Log JSON lines through orjson parsing, normalisation and the
  built-in content (Sigma rules, correlations, the analytics that learn nothing), median of
  ``--repeats`` runs;
- ``events_per_s_with_ai``: the same with everything on: the learned baselines (people, operators,
  callers, tenants, the sequence model), the offline geo-IP and network lookup of every source IP,
  and each alert's risk signal merged into its person's risk score (target >= 50,000/s, and under
  half the throughput lost: ``ai_vs_plain``);
- ``parse_floor_per_s``: orjson parsing alone on the same lines (the floor nothing can beat);
- ``eql_sequence_per_s``: Elastic's Python EQL engine (``eql``, AGPL: benchmark only, never a
  dependency; ``make bench`` installs it) running one sequence query equivalent to deskguard's
  reset -> MFA reset -> new factor chain, over the same lines (parse included);
- ``bytes_per_entity``: memory held per tracked person (correlation and analytic state), measured
  with tracemalloc over ``--entities`` distinct people;
- ``backtest_1m_50_rules_s``: ``--backtest`` events (Okta and Entra records) against 50 SigmaHQ
  identity rules from ``../shared/sigma`` (target <= 30 s for 1M).
- ``chain_only_per_s``: the same pipeline (parsing and normalisation included) with only the Okta
  chain correlation and its three base rules: the like-for-like comparison with the EQL query.
Ratios: ``vs_floor`` (events_per_s / parse_floor_per_s), ``vs_eql`` and ``chain_only_vs_eql``.
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import sys
import time
import tracemalloc
from datetime import timedelta
from pathlib import Path
from typing import Any

import orjson

from deskguard.detection.content import Content, load_content
from deskguard.detection.geo import BundledResolver
from deskguard.detection.networks import load_networks
from deskguard.detection.pipeline import Pipeline, streaming_gc
from deskguard.detection.risk import RiskSignal, assess, merge, signal_of
from deskguard.sim.day import DAY, OktaLog

ROOT = Path(__file__).resolve().parents[1]
CONTENT = [ROOT / "content" / "rules", ROOT / "content" / "correlations"]
NETWORKS = ROOT / "content" / "networks" / "networks.yml"
SHARED = ROOT.parent / "shared" / "sigma" / "rules"
SIGMA_DIRS = [
    SHARED / "identity" / "okta",
    SHARED / "cloud" / "azure",
    SHARED / "cloud" / "gcp" / "gworkspace",
]
PLACES = [
    ("Paris", "France", 48.85, 2.35),
    ("Lyon", "France", 45.76, 4.84),
    ("Madrid", "Spain", 40.42, -3.70),
]
CHAIN = ("user.account.reset_password", "user.mfa.factor.reset_all", "user.mfa.factor.activate")


def okta_lines(count: int, *, users: int, seed: int = 11) -> list[bytes]:
    """Okta LogEvents as JSON lines: sign-ins and SSO mostly, failures, resets, and a few full chains."""
    rng = random.Random(seed)
    log = OktaLog(rng)
    moment = DAY
    while len(log.records) < count:
        moment += timedelta(milliseconds=rng.randrange(5, 400))
        number = rng.randrange(users)
        user = f"user{number:05d}@acme.example"
        place = PLACES[number % len(PLACES)]  # people work from their office, as on most days
        ip = f"81.250.{number // 256 % 256}.{number % 256}"
        roll = rng.random()
        if roll < 0.002:  # a chain, one step a minute apart
            for step, event_type in enumerate(CHAIN):
                actor = "admin@acme.example" if step < 2 else user
                log.event(
                    moment + timedelta(minutes=step), event_type, actor=actor, target=user, ip=ip, place=place
                )
        elif roll < 0.45:
            log.event(moment, "user.session.start", actor=user, ip=ip, place=place)
        elif roll < 0.5:
            log.event(
                moment,
                "user.session.start",
                actor=user,
                ip=ip,
                place=place,
                outcome="FAILURE",
                reason="INVALID_CREDENTIALS",
            )
        elif roll < 0.97:
            log.event(
                moment,
                "user.authentication.sso",
                actor=user,
                target=user,
                ip=ip,
                place=place,
                app=rng.choice(["Slack", "Jira", "Workday", "Salesforce"]),
            )
        else:
            log.event(moment, "user.authentication.auth_via_mfa", actor=user, ip=ip, place=place)
    return [orjson.dumps(record) for record in log.records[:count]]


def _rate(count: int, seconds: float) -> float:
    return count / seconds if seconds > 0 else float("inf")


def parse_floor(lines: list[bytes]) -> float:
    loads = orjson.loads
    start = time.perf_counter()
    for line in lines:
        loads(line)
    return _rate(len(lines), time.perf_counter() - start)


def full_pipeline(lines: list[bytes], content: Any, *, source: str | None = "okta") -> tuple[float, Pipeline]:
    pipeline = Pipeline(content)
    feed, loads = pipeline.feed, orjson.loads
    with streaming_gc():  # as deskguard replay runs
        start = time.perf_counter()
        for line in lines:
            feed(loads(line), source=source)
        elapsed = time.perf_counter() - start
    return _rate(len(lines), elapsed), pipeline


def with_ai(lines: list[bytes], content: Content) -> tuple[float, Pipeline]:
    """Everything on: learned analytics, geo and network lookups, and the risk of each alert's person."""
    pipeline = Pipeline(content, geo=BundledResolver(load_networks(NETWORKS)))
    feed, loads = pipeline.feed, orjson.loads
    risks: dict[tuple[str, str], tuple[RiskSignal, ...]] = {}
    with streaming_gc():
        start = time.perf_counter()
        for line in lines:
            for alert in feed(loads(line), source="okta"):
                signal = signal_of(alert)
                user = alert.entities.get("user")
                if signal is not None and user:
                    key = (alert.tenant, user)
                    risks[key] = merge(risks.get(key, ()), signal)
                    assess(risks[key], now=alert.last_seen)
        elapsed = time.perf_counter() - start
    return _rate(len(lines), elapsed), pipeline


def without_ai(content: Content) -> Content:
    """The content without the analytics that learn (their baselines are the AI issue's cost)."""
    plain = load_content(CONTENT)
    plain.analytics = [analytic for analytic in content.analytics if not analytic.learned]
    return plain


def eql_sequence(lines: list[bytes]) -> tuple[float, int] | None:
    try:
        import eql  # noqa: PLC0415 - optional, benchmark only (AGPL)
    except ImportError:
        return None
    query = eql.parse_query(
        "sequence by target_user with maxspan=1h "
        f'[any where eventType == "{CHAIN[0]}"] [any where eventType == "{CHAIN[1]}"] '
        f'[any where eventType == "{CHAIN[2]}"]'
    )
    engine = eql.PythonEngine()
    results: list[Any] = []
    engine.add_output_hook(results.append)
    engine.add_query(query)
    loads, make = orjson.loads, eql.Event
    from deskguard.detection.parsing import parse_time  # noqa: PLC0415

    def events() -> Any:
        for line in lines:
            record = loads(line)
            target = (
                record["target"][0]["alternateId"] if record.get("target") else record["actor"]["alternateId"]
            )
            record["target_user"] = target
            yield make("any", int(parse_time(record["published"])), record)

    with streaming_gc():  # the same collector settings as deskguard's run
        start = time.perf_counter()
        engine.stream_events(events())
        elapsed = time.perf_counter() - start
    return _rate(len(lines), elapsed), len(results)


def bytes_per_entity(content: Any, entities: int) -> float:
    lines = okta_lines(entities * 3, users=entities, seed=5)
    records = [orjson.loads(line) for line in lines]
    tracemalloc.start()
    pipeline = Pipeline(content)
    before = tracemalloc.get_traced_memory()[0]
    for record in records:
        pipeline.feed(record, source="okta")
    after = tracemalloc.get_traced_memory()[0]
    tracemalloc.stop()
    return (after - before) / entities


def sigma_rules(limit: int) -> Any:
    content = load_content([d for d in SIGMA_DIRS if d.exists()])
    content.rules = content.rules[:limit]
    content.correlations, content.analytics = [], []
    return content


def entra_lines(count: int, seed: int = 3) -> list[bytes]:
    from deskguard.sim.day import build_day  # noqa: PLC0415

    entra = build_day(seed=seed)["entra-azure-monitor.json"]
    return [orjson.dumps(entra[i % len(entra)] | {"correlationId": f"bench-{i}"}) for i in range(count)]


def backtest(events: int, rules: Any, *, chunk: int = 100_000) -> float:
    """``events`` records against the rules, in chunks generated outside the timed part."""
    pipeline = Pipeline(rules)
    feed, loads = pipeline.feed, orjson.loads
    elapsed, done, seed = 0.0, 0, 0
    while done < events:
        size = min(chunk, events - done)
        okta = okta_lines(size * 9 // 10, users=50_000, seed=100 + seed)
        lines = okta + entra_lines(size - len(okta), seed=seed)
        lines = [line.replace(b'"uuid":"', b'"uuid":"%d-' % (done + i), 1) for i, line in enumerate(lines)]
        with streaming_gc():
            start = time.perf_counter()
            for line in lines:
                feed(loads(line))
            elapsed += time.perf_counter() - start
        done += size
        seed += 1
    return elapsed


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=200_000)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--entities", type=int, default=20_000)
    parser.add_argument("--backtest", type=int, default=1_000_000)
    args = parser.parse_args(argv)
    everything = load_content(CONTENT)
    content = without_ai(everything)
    lines = okta_lines(args.events, users=20_000)
    chain_only = load_content([CONTENT[1] / "chains" / "okta_reset_mfa_new_factor.yml"])
    floors, fulls, autos, chains, eqls, ais = [], [], [], [], [], []
    eql_hits = 0
    for _ in range(args.repeats):
        floors.append(parse_floor(lines))
        rate, pipeline = full_pipeline(lines, content)
        fulls.append(rate)
        ais.append(with_ai(lines, everything)[0])
        autos.append(full_pipeline(lines, content, source=None)[0])
        chains.append(full_pipeline(lines, chain_only)[0])
        eql_run = eql_sequence(lines)
        if eql_run is not None:
            eqls.append(eql_run[0])
            eql_hits = eql_run[1]
    rules = sigma_rules(50)
    result = {
        "events": len(lines),
        "events_per_s": round(statistics.median(fulls)),
        "events_per_s_with_ai": round(statistics.median(ais)),
        "ai_vs_plain": round(statistics.median(ais) / statistics.median(fulls), 2),
        "events_per_s_auto_detect": round(statistics.median(autos)),
        "parse_floor_per_s": round(statistics.median(floors)),
        "eql_sequence_per_s": round(statistics.median(eqls)) if eqls else None,
        "vs_floor": round(statistics.median(fulls) / statistics.median(floors), 3),
        "vs_eql": round(statistics.median(fulls) / statistics.median(eqls), 2) if eqls else None,
        "chain_only_per_s": round(statistics.median(chains)),
        "chain_only_vs_eql": round(statistics.median(chains) / statistics.median(eqls), 2) if eqls else None,
        "alerts": len(pipeline.alerts),
        "chains_planted": sum(b"user.account.reset_password" in line for line in lines),
        "chain_alerts": pipeline.summary()["by_rule"].get("Okta.Chain.ResetMfaNewFactor", 0),
        "eql_sequences": eql_hits,
        "rules": len(content.ids()),
        "learned_analytics": len(everything.analytics) - len(content.analytics),
        "bytes_per_entity": round(bytes_per_entity(content, args.entities)),
        "backtest_events": args.backtest,
        "backtest_rules": len(rules.rules),
        "backtest_1m_50_rules_s": round(backtest(args.backtest, rules), 2),
    }
    print(json.dumps(result), flush=True)
    return result


if __name__ == "__main__":
    main(sys.argv[1:])
