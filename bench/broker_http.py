"""Benchmark: the broker over HTTP, measured with wrk against one uvicorn worker on loopback.

Prints ONE JSON line on stdout (progress goes to stderr):

- ``decisions_per_s``, ``p50_ms``, ``p99_ms``: ``POST /decisions/preview`` (a dry-run decision, no
  write) on a seeded SQLite demo database, round-robin over 50 bodies (10 people of ``tnt_acme`` x 5
  actions with their parameters), as the internal agent alice.
- ``ceiling_per_s``, ``ceiling_p99_ms``: the same wrk script against a bare FastAPI app (one
  ``async def`` endpoint parsing a small pydantic body): what uvicorn + FastAPI alone allow here.
- ``opened_per_s_sqlite``, ``opened_per_s_postgres``: ``POST /requests`` (a durable write: the request
  and its outbox events), on SQLite and on a scratch PostgreSQL database created, migrated, seeded
  and dropped by this run. The rows written are counted afterwards against wrk's count.

Every run uses ``wrk -t1 -c8 --latency``; each body is sent once first and must get the expected
status, and any non-2xx response or socket error during a run fails the benchmark (exit 1). Servers
are started as ``uvicorn --factory`` on free loopback ports and always stopped. No wrk: exit 2.

Run: ``.venv/bin/python bench/broker_http.py [--duration SECONDS] [--quick]``.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import secrets
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg
from fastapi import FastAPI
from psycopg import sql
from pydantic import BaseModel
from sqlalchemy import create_engine, text

from deskguard.bootstrap import build, http_app
from deskguard.settings import load_settings
from deskguard.sim.demo import seed_demo

BENCH_DIR = Path(__file__).resolve().parent
UVICORN = Path(sys.executable).with_name("uvicorn")
URL_ENV = "DESKGUARD_BENCH_DATABASE_URL"
CONNECTIONS = 8
TENANT = "tnt_acme"
OPERATOR = "alice.agent@desk.example"
PREVIEW_PATH = "/api/v1/tenants/{tenant_id}/decisions/preview"
REQUESTS_PATH = "/api/v1/tenants/{tenant_id}/requests"
PERSONS = 10
#: five actions across the risk tiers, with valid parameters
KINDS: dict[str, dict[str, Any]] = {
    "unlock_account": {},
    "reset_password": {},
    "change_phone": {"new_number": "+33612345678"},
    "enroll_factor": {"kind": "totp", "label": "bench"},
    "grant_privilege": {"group": "bench-admins", "duration_minutes": 60},
}
PG_HOST, PG_PORT, PG_USER, PG_ADMIN_DB = "127.0.0.1", 5432, "postgres", "test"
WRK_TIMEOUT_S = 10
START_TIMEOUT_S = 30
SETTLE_TIMEOUT_S = 15
TIME_UNITS_MS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60_000.0}


class BenchError(Exception):
    """The benchmark cannot report a number it can stand behind."""


# --- the two app factories, imported by the uvicorn processes (``broker_http:<factory>``) ---------


def broker_app() -> FastAPI:
    """The real broker, as ``deskguard serve`` builds it, over ``DESKGUARD_BENCH_DATABASE_URL``."""
    return http_app(build(load_settings(database_url=os.environ[URL_ENV], demo=True)))


class CeilingIn(BaseModel):
    kind: str
    person_id: str
    params: dict[str, Any] = {}


def ceiling_app() -> FastAPI:
    """The bare minimum: routing, a pydantic body, a small JSON answer."""
    app = FastAPI()

    @app.get("/healthz")
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @app.post(PREVIEW_PATH)
    async def decide(tenant_id: str, body: CeilingIn) -> dict[str, str]:
        return {"tenant": tenant_id, "kind": body.kind, "person": body.person_id, "outcome": "allow"}

    return app


# --- data: seeding, request bodies, the scratch PostgreSQL database --------------------------------


@dataclass(frozen=True, slots=True)
class Seeded:
    token: str
    persons: list[str]


def seed(url: str) -> Seeded:
    """Migrate and seed the demo MSP at ``url``; alice's token and the first people of ``tnt_acme``."""
    runtime = build(load_settings(database_url=url, demo=True), migrate=True)
    try:
        creds = seed_demo(runtime.ctx).to_json()
    finally:
        runtime.engine.dispose()
    persons = sorted(p["id"] for p in creds["persons"].values() if p["tenant"] == TENANT)[:PERSONS]
    if len(persons) < PERSONS:
        raise BenchError(f"the demo seeded {len(persons)} people in {TENANT}, expected {PERSONS}")
    return Seeded(token=creds["operators"][OPERATOR]["token"], persons=persons)


def bodies(persons: list[str], *, justification: str | None = None) -> list[str]:
    """persons x kinds JSON bodies, interleaved so that consecutive requests change action."""
    out = []
    for person in persons:
        for kind, params in KINDS.items():
            body: dict[str, Any] = {"kind": kind, "person_id": person, "params": params}
            if justification is not None:
                body["justification"] = justification
            out.append(json.dumps(body))
    return out


def settled_count(url: str) -> int:
    """Rows in ``action_requests`` once requests still in flight after wrk stopped have landed."""
    engine = create_engine(url)
    query = text("SELECT count(*) FROM action_requests")
    try:
        with engine.connect() as connection:
            previous, deadline = -1, time.monotonic() + SETTLE_TIMEOUT_S
            while time.monotonic() < deadline:
                count = int(connection.execute(query).scalar_one())
                connection.rollback()  # a fresh snapshot for the next read
                if count == previous:
                    return count
                previous = count
                time.sleep(0.3)
    finally:
        engine.dispose()
    raise BenchError(f"action_requests was still growing {SETTLE_TIMEOUT_S} s after wrk stopped")


def _pg_admin(statement: sql.Composable) -> None:
    try:
        with psycopg.connect(
            host=PG_HOST, port=PG_PORT, user=PG_USER, dbname=PG_ADMIN_DB, autocommit=True, connect_timeout=3
        ) as admin:
            admin.execute(statement)
    except psycopg.OperationalError as exc:
        raise BenchError(f"PostgreSQL at {PG_HOST}:{PG_PORT}: {exc}".strip()) from None


@contextmanager
def scratch_postgres() -> Iterator[str]:
    """A new, empty PostgreSQL database for this run, dropped afterwards whatever happens."""
    name = f"deskguard_bench_{secrets.token_hex(4)}"
    _pg_admin(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    try:
        yield f"postgresql+psycopg://{PG_USER}@{PG_HOST}:{PG_PORT}/{name}"
    finally:
        _pg_admin(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


# --- servers ---------------------------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _wait_healthy(base: str, server: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise BenchError(f"the server exited with status {server.returncode} before answering")
        try:
            with urllib.request.urlopen(f"{base}/healthz", timeout=1):
                return
        except OSError:
            time.sleep(0.1)
    raise BenchError(f"the server did not answer /healthz within {START_TIMEOUT_S} s")


@contextmanager
def serving(factory: str, *, database_url: str = "") -> Iterator[str]:
    """One uvicorn worker running ``broker_http:<factory>`` on a free loopback port; its base URL."""
    port = _free_port()
    command = [
        str(UVICORN),
        f"broker_http:{factory}",
        "--factory",
        "--app-dir",
        str(BENCH_DIR),
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--workers",
        "1",
        "--log-level",
        "warning",
        "--no-access-log",
    ]
    # stdout=2: whatever the server prints goes to stderr, keeping stdout for the one JSON line
    server = subprocess.Popen(command, env={**os.environ, URL_ENV: database_url}, stdout=2)
    try:
        base = f"http://127.0.0.1:{port}"
        _wait_healthy(base, server)
        yield base
    finally:
        server.terminate()
        try:
            server.wait(timeout=10)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()


# --- wrk -------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Load:
    base: str
    path: str
    token: str
    bodies: list[str]
    expect: int


@dataclass(frozen=True, slots=True)
class WrkResult:
    requests: int
    per_s: float
    p50_ms: float
    p99_ms: float


def lua_script(load: Load, directory: Path) -> Path:
    """A wrk script that POSTs the bodies round-robin (one after another), with the bearer token."""
    for body in load.bodies:
        if not body.isascii():  # Lua 5.1 string escapes are a subset of JSON's for ASCII only
            raise BenchError(f"non-ASCII body: {body}")
    table = ",\n  ".join(json.dumps(body) for body in load.bodies)
    script = directory / f"load-{secrets.token_hex(4)}.lua"
    script.write_text(
        'wrk.method = "POST"\n'
        'wrk.headers["Content-Type"] = "application/json"\n'
        f'wrk.headers["Authorization"] = "Bearer {load.token}"\n'
        f"local bodies = {{\n  {table}\n}}\n"
        "local requests, i = {}, 0\n"
        "init = function(args)\n"  # format each request once: keeps wrk's own cost per request low
        "  for j, body in ipairs(bodies) do requests[j] = wrk.format(nil, nil, nil, body) end\n"
        "end\n"
        "request = function()\n"
        "  i = i % #requests + 1\n"
        "  return requests[i]\n"
        "end\n"
    )
    return script


def preflight(load: Load) -> None:
    """Send every body once: each must get the expected status (wrk would not say why one fails)."""
    for body in load.bodies:
        request = urllib.request.Request(
            load.base + load.path,
            data=body.encode(),
            method="POST",
            headers={"Content-Type": "application/json", "Authorization": f"Bearer {load.token}"},
        )
        try:
            with urllib.request.urlopen(request, timeout=WRK_TIMEOUT_S) as response:
                status, answer = response.status, response.read()
        except urllib.error.HTTPError as exc:
            status, answer = exc.code, exc.read()
        if status != load.expect:
            raise BenchError(
                f"POST {load.path} {body} -> {status} (expected {load.expect}): {answer[:500]!r}"
            )


def _latency_ms(output: str, percentile: int) -> float:
    match = re.search(rf"^\s+{percentile}%\s+([\d.]+)(us|ms|s|m)\s*$", output, re.MULTILINE)
    if match is None:
        raise BenchError(f"no {percentile}% latency in wrk's output:\n{output}")
    return float(match.group(1)) * TIME_UNITS_MS[match.group(2)]


def parse_wrk(output: str) -> WrkResult:
    """wrk's summary, refusing any run with a non-2xx response or a socket error."""
    bad = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    if bad is not None and int(bad.group(1)) > 0:
        raise BenchError(f"{bad.group(1)} non-2xx responses:\n{output}")
    errors = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", output)
    if errors is not None and any(int(n) for n in errors.groups()):
        raise BenchError(f"socket errors:\n{output}")
    total = re.search(r"(\d+) requests in ", output)
    rate = re.search(r"Requests/sec:\s+([\d.]+)", output)
    if total is None or rate is None:
        raise BenchError(f"unexpected wrk output:\n{output}")
    return WrkResult(
        requests=int(total.group(1)),
        per_s=float(rate.group(1)),
        p50_ms=_latency_ms(output, 50),
        p99_ms=_latency_ms(output, 99),
    )


def run_wrk(wrk: str, url: str, script: Path, seconds: int) -> WrkResult:
    command = [
        wrk,
        "-t1",
        f"-c{CONNECTIONS}",
        f"-d{seconds}s",
        "--latency",
        "--timeout",
        f"{WRK_TIMEOUT_S}s",
        "-s",
        str(script),
        url,
    ]
    done = subprocess.run(command, capture_output=True, text=True, timeout=seconds + 60, check=False)
    if done.returncode != 0:
        raise BenchError(f"wrk exited with {done.returncode}: {done.stderr}{done.stdout}")
    return parse_wrk(done.stdout)


@dataclass(frozen=True, slots=True)
class Plan:
    wrk: str
    seconds: int
    opened_seconds: int
    warmup_seconds: int
    scratch: Path


def prepared(plan: Plan, load: Load) -> Path:
    """Preflight every body, write the wrk script and warm the server up with it."""
    preflight(load)
    script = lua_script(load, plan.scratch)
    if plan.warmup_seconds:
        run_wrk(plan.wrk, load.base + load.path, script, plan.warmup_seconds)
    return script


def _report(label: str, result: WrkResult, counted: str) -> None:
    print(
        f"{label}: {result.per_s:.0f}/s, p50 {result.p50_ms:.2f} ms, p99 {result.p99_ms:.2f} ms ({counted})",
        file=sys.stderr,
    )


def measure(plan: Plan, load: Load, label: str) -> WrkResult:
    script = prepared(plan, load)
    result = run_wrk(plan.wrk, load.base + load.path, script, plan.seconds)
    _report(label, result, f"{result.requests} requests")
    return result


def measure_opened(plan: Plan, base: str, url: str, seeded: Seeded, label: str) -> WrkResult:
    """Requests opened per second; every 201 wrk counted must be a row in ``action_requests``."""
    load = Load(
        base=base,
        path=REQUESTS_PATH.format(tenant_id=TENANT),
        token=seeded.token,
        bodies=bodies(seeded.persons, justification="benchmark: broker_http"),
        expect=201,
    )
    script = prepared(plan, load)
    before = settled_count(url)
    result = run_wrk(plan.wrk, base + load.path, script, plan.opened_seconds)
    written = settled_count(url) - before
    # wrk counts the responses it read; a request per connection may have been cut off when it stopped
    if not result.requests <= written <= result.requests + CONNECTIONS:
        raise BenchError(f"{label}: wrk counted {result.requests} requests, the database gained {written}")
    _report(label, result, f"{written} rows written")
    return result


# --- the run ---------------------------------------------------------------------------------------


def run(plan: Plan) -> dict[str, Any]:
    preview_path = PREVIEW_PATH.format(tenant_id=TENANT)
    with scratch_postgres() as pg_url:
        sqlite_url = f"sqlite:///{plan.scratch / 'deskguard.db'}"
        print("seeding SQLite…", file=sys.stderr)
        seeded = seed(sqlite_url)
        with serving("broker_app", database_url=sqlite_url) as base:
            decisions = measure(
                plan,
                Load(base, preview_path, seeded.token, bodies(seeded.persons), 200),
                "decisions (SQLite)",
            )
            opened_sqlite = measure_opened(plan, base, sqlite_url, seeded, "opened (SQLite)")
        with serving("ceiling_app") as base:
            ceiling = measure(
                plan,
                Load(base, preview_path, seeded.token, bodies(seeded.persons), 200),
                "ceiling (bare FastAPI)",
            )
        print("seeding PostgreSQL…", file=sys.stderr)
        pg_seeded = seed(pg_url)
        with serving("broker_app", database_url=pg_url) as base:
            opened_pg = measure_opened(plan, base, pg_url, pg_seeded, "opened (PostgreSQL)")
    return {
        "decisions_per_s": round(decisions.per_s, 1),
        "p99_ms": round(decisions.p99_ms, 3),
        "p50_ms": round(decisions.p50_ms, 3),
        "ceiling_per_s": round(ceiling.per_s, 1),
        "ceiling_p99_ms": round(ceiling.p99_ms, 3),
        "opened_per_s_sqlite": round(opened_sqlite.per_s, 1),
        "opened_per_s_postgres": round(opened_pg.per_s, 1),
        "connections": CONNECTIONS,
        "duration_s": plan.seconds,
        "load_generator": "wrk",
    }


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--duration", type=int, default=10, help="seconds per measured wrk run (default 10)")
    parser.add_argument("--quick", action="store_true", help="1 s per run, no warm-up (the smoke test)")
    args = parser.parse_args(argv)
    if args.duration < 1:
        parser.error("--duration must be at least 1")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    wrk = shutil.which("wrk")
    if wrk is None:
        print(
            "broker_http: wrk is not installed (apt-get install wrk); this benchmark uses no other "
            "load generator",
            file=sys.stderr,
        )
        return 2
    seconds = 1 if args.quick else args.duration
    with tempfile.TemporaryDirectory(prefix="deskguard-bench-") as scratch:
        plan = Plan(
            wrk=wrk,
            seconds=seconds,
            opened_seconds=min(seconds, 5),
            warmup_seconds=0 if args.quick else 1,
            scratch=Path(scratch),
        )
        try:
            result = run(plan)
        except BenchError as exc:
            print(f"broker_http: FAILED: {exc}", file=sys.stderr)
            return 1
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
