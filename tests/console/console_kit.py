"""Helpers of the console tests (the ``console`` fixtures are in conftest.py): a signed-in client, TOTP codes,
CSRF tokens. A module of its own, not conftest, so that ``from console_kit import ...`` always means this
file, whichever other test folders run in the same process."""

from __future__ import annotations

import base64
import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import orjson
from fastapi.testclient import TestClient

from deskguard.adapters.system import FixedClock, SeededRandomness
from deskguard.app.auth import resolve_subject
from deskguard.app.detection import ingest
from deskguard.bootstrap import Runtime, build, http_app
from deskguard.domain.otp import totp
from deskguard.settings import load_settings
from deskguard.sim.demo import DEMO_PASSWORD, seed_demo

TUESDAY_10_PARIS = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)


CSRF = re.compile(r'name="csrf" value="([^"]+)"')


def code_for(creds: dict, login: str, at: datetime) -> str:
    who = creds["operators"].get(login) or creds["persons"][login]
    raw = who["console_totp_base32"]
    return totp(base64.b32decode(raw + "=" * (-len(raw) % 8)), at.timestamp())


@dataclass
class Console:
    runtime: Runtime
    clock: FixedClock
    creds: dict
    client: TestClient

    def browser(self) -> TestClient:
        """Another browser: its own cookie jar, same server."""
        return TestClient(self.client.app, base_url="https://console.test", follow_redirects=False)

    def sign_in(self, login: str, client: TestClient | None = None) -> TestClient:
        browser = client or self.browser()
        first = browser.post("/login", data={"login": login, "password": DEMO_PASSWORD})
        assert first.status_code == 303, first.text
        second = browser.post("/login/totp", data={"code": code_for(self.creds, login, self.clock.now())})
        assert second.status_code == 303, second.text
        self.clock.advance(seconds=31)  # a code is good once: the next sign-in needs the next step
        return browser

    def ingest(self, records: list[dict], source: str | None = None, tenant_id: str = "tnt_acme") -> None:
        """Hand vendor records to the detection pipeline, as Anna's ingest call would."""
        ctx = self.runtime.ctx
        with ctx.reads() as uow:
            anna = resolve_subject(uow, subject_kind="operator", subject_id="op_anna", tenant_id=None)
        ingest(
            ctx,
            actor=anna,
            tenant_id=tenant_id,
            source=source,
            body=b"\n".join(orjson.dumps(r) for r in records),
        )

    @staticmethod
    def csrf(page_html: str) -> str:
        found = CSRF.search(page_html)
        assert found, "the page carries no CSRF token"
        return found.group(1)


@contextmanager
def running_console(db_url: str, tmp_path: Path, **extra: object) -> Iterator[Console]:
    """The demo console over ``db_url``, with ``extra`` settings (e.g. ``oidc_issuer=...``)."""
    clock = FixedClock(TUESDAY_10_PARIS)
    settings = load_settings(database_url=db_url, demo=True, witness_dir=tmp_path / "witness", **extra)
    runtime = build(settings, clock=clock, randomness=SeededRandomness(11))
    creds = seed_demo(runtime.ctx).to_json()
    client = TestClient(http_app(runtime), base_url="https://console.test", follow_redirects=False)
    try:
        yield Console(runtime=runtime, clock=clock, creds=creds, client=client)
    finally:
        runtime.engine.dispose()
