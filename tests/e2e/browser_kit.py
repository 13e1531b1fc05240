"""Helpers of the browser tests (the fixtures are in conftest.py): the live demo server, sign-in through the
pages, journeys and their screenshots. A module of its own, not conftest, so that ``from browser_kit import
...`` always means this file, whichever other test folders run in the same process."""

from __future__ import annotations

import base64
import os
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import uvicorn

from deskguard.adapters.system import SeededRandomness
from deskguard.bootstrap import Runtime, build, http_app
from deskguard.domain.otp import totp
from deskguard.settings import load_settings
from deskguard.sim.demo import DEMO_PASSWORD, seed_demo

CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")


CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-default-apps",
]


ARTIFACTS = Path(os.environ.get("DESKGUARD_ARTIFACTS", Path(__file__).parents[2] / "test-artifacts"))


SCREENSHOTS = ARTIFACTS / "screenshots"


class ShiftedClock:
    """Real time plus an offset: the browser's session and the server agree, and a test can step past a
    used TOTP code (or an idle timeout) without sleeping."""

    def __init__(self) -> None:
        self.offset = timedelta()

    def now(self) -> datetime:
        return datetime.now(UTC) + self.offset

    def advance(self, **delta: float) -> None:
        self.offset += timedelta(**delta)


@dataclass
class LiveDemo:
    url: str
    runtime: Runtime
    clock: ShiftedClock
    creds: dict

    def code(self, login: str) -> str:
        who = self.creds["operators"].get(login) or self.creds["persons"][login]
        raw = who["console_totp_base32"]
        return totp(base64.b32decode(raw + "=" * (-len(raw) % 8)), self.clock.now().timestamp())

    def sign_in(self, page, login: str) -> None:  # noqa: ANN001 - a Playwright Page
        """Sign in through the two pages, by keyboard, as a person would."""
        page.goto(self.url + "/login")
        page.get_by_label("E-mail address").fill(login)
        page.get_by_label("Password").fill(DEMO_PASSWORD)
        page.get_by_label("Password").press("Enter")
        page.get_by_label("The 6-digit code from your authenticator app").fill(self.code(login))
        page.get_by_label("The 6-digit code from your authenticator app").press("Enter")
        page.wait_for_url(lambda url: "/login" not in url)
        self.clock.advance(seconds=31)


@dataclass
class Journey:
    name: str
    shots: list[Path] = field(default_factory=list)

    def shot(self, page, step: str) -> Path:  # noqa: ANN001 - a Playwright Page
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        path = SCREENSHOTS / f"{self.name}-{len(self.shots) + 1:02d}-{step}.png"
        page.screenshot(path=str(path), full_page=True)
        self.shots.append(path)
        return path


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def serving(tmp_path: Path, **extra: object) -> Iterator[LiveDemo]:
    """The demo product on a loopback port, with ``extra`` settings (e.g. ``oidc_issuer=...``)."""
    clock = ShiftedClock()
    settings = load_settings(
        database_url=f"sqlite:///{tmp_path / 'console.db'}",
        demo=True,
        witness_dir=tmp_path / "witness",
        **extra,
    )
    runtime = build(settings, clock=clock, randomness=SeededRandomness(5), migrate=True)
    creds = seed_demo(runtime.ctx).to_json()
    port = _free_port()
    server = uvicorn.Server(
        uvicorn.Config(http_app(runtime), host="127.0.0.1", port=port, log_level="warning")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 15
    while not server.started:
        assert time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.05)
    try:
        yield LiveDemo(url=f"http://127.0.0.1:{port}", runtime=runtime, clock=clock, creds=creds)
    finally:
        server.should_exit = True
        thread.join(10)
        runtime.engine.dispose()
