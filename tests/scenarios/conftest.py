"""The demo organisation behind the HTTP API, with a controlled clock: what a new user plays."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from demo_desk import Desk
from fastapi.testclient import TestClient

from deskguard.adapters.system import FixedClock, SeededRandomness
from deskguard.api.app import create_app
from deskguard.bootstrap import build
from deskguard.settings import load_settings
from deskguard.sim.demo import seed_demo

TUESDAY_10_PARIS = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)


@pytest.fixture
def desk(db_url: str, tmp_path: Path) -> Iterator[Desk]:
    settings = load_settings(database_url=db_url, demo=True, witness_dir=tmp_path / "witness")
    runtime = build(settings, clock=FixedClock(TUESDAY_10_PARIS), randomness=SeededRandomness(3))
    creds = seed_demo(runtime.ctx).to_json()
    app = create_app(runtime.ctx, webhook_key=runtime.settings.webhook_key())
    with TestClient(app) as client:
        yield Desk(runtime, client, creds)
    runtime.engine.dispose()
