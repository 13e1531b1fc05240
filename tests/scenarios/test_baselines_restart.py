"""Learned baselines survive a restart, and a replay of recorded history rebuilds them.

Twelve days of Inès signing in from Lyon reach deskguard through the Okta ingest. The server
stops (its baselines are written) and starts again as a new process would: it restores them, so
the sign-in from Brazil on a new device the next night is measured against twelve days, not zero.
The benign twin is the same restart without the stored baselines: a cold start says nothing.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from demo_desk import ANNA, Desk
from typer.testing import CliRunner

from deskguard.app.baselines import persist, restore
from deskguard.app.detection import Detector
from deskguard.cli.main import app
from deskguard.domain.errors import ValidationFailed

INES = "ines.martin2@acme.example"
RULE = "Identity.Person.UnusualSignIn"


def _sign_in(n: int, at: datetime, country: str, city: str, ua: str) -> dict:
    return {
        "uuid": f"7b0e0000-0000-4000-8000-{n:012d}",
        "published": at.strftime("%Y-%m-%dT%H:%M:%S.000Z"),
        "eventType": "user.session.start",
        "actor": {"id": "00uines", "type": "User", "alternateId": INES},
        "client": {
            "ipAddress": "90.84.7.20" if country == "France" else "177.54.150.10",
            "userAgent": {"rawUserAgent": ua},
            "geographicalContext": {"country": country, "city": city},
        },
        "outcome": {"result": "SUCCESS"},
        "target": [],
    }


HISTORY = [
    _sign_in(
        n, datetime(2026, 11, 16, 8 + n % 8, 10, tzinfo=UTC) + timedelta(days=n), "France", "Lyon", "Chrome"
    )
    for n in range(12)
]
NIGHT = _sign_in(99, datetime(2026, 11, 29, 3, 12, tzinfo=UTC), "Brazil", "Sao Paulo", "Firefox on Linux")


def _ingest(desk: Desk, records: list[dict]) -> dict:
    body = "\n".join(json.dumps(record) for record in records)
    response = desk.client.post("/api/v1/ingest/okta?tenant=tnt_acme", content=body, headers=desk._auth(ANNA))
    assert response.status_code == 200, response.text
    return response.json()


def _restart(desk: Desk) -> None:
    """A new process: the detector's pipeline starts again from the content, nothing in memory."""
    detector = desk.runtime.ctx.detector
    assert detector is not None
    fresh = Detector(detector.content, runbooks=detector.runbooks)
    detector.pipeline, detector.persisted_at_events = fresh.pipeline, fresh.persisted_at_events


def _unusual(result: dict) -> list[dict]:
    return [alert for alert in result["alerts"] if alert["rule_id"] == RULE]


def test_the_baselines_survive_a_restart(desk: Desk) -> None:
    _ingest(desk, HISTORY)
    saved = persist(desk.runtime.ctx)
    assert saved is not None and saved.keys >= 1
    assert persist(desk.runtime.ctx) is None  # nothing new learned: nothing written
    _restart(desk)
    assert restore(desk.runtime.ctx) >= 1
    (alert,) = _unusual(_ingest(desk, [NIGHT]))
    assert alert["entities"]["user"] == INES
    assert "unlike their 12 before: first from Brazil (seen: France 12)" in alert["explanation"]


def test_benign_twin_a_cold_start_says_nothing(desk: Desk) -> None:
    _ingest(desk, HISTORY)
    _restart(desk)  # the baselines were never written
    assert restore(desk.runtime.ctx) == 0
    assert _unusual(_ingest(desk, [NIGHT])) == []


def test_a_corrupt_row_is_named_and_the_others_are_restored(desk: Desk) -> None:
    _ingest(desk, HISTORY)
    persist(desk.runtime.ctx, force=True)
    with desk.runtime.ctx.uow() as uow:
        uow.detection_state.put(
            rule_id="Deskguard.Operator.FarAboveBaseline",
            state=b"{not json",
            keys=1,
            updated_at=desk.runtime.ctx.clock.now(),
        )
        uow.commit()
    _restart(desk)
    with pytest.raises(ValidationFailed, match="Deskguard.Operator.FarAboveBaseline"):
        restore(desk.runtime.ctx)
    assert _unusual(_ingest(desk, [NIGHT]))  # the person baselines came back all the same


def test_rebuild_from_recorded_history(desk: Desk, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    history = tmp_path / "okta.ndjson"
    history.write_text("\n".join(json.dumps(record) for record in HISTORY))
    monkeypatch.setenv("DESKGUARD_DATABASE_URL", desk.runtime.settings.database_url)
    monkeypatch.setenv("DESKGUARD_DEMO", "true")
    result = CliRunner().invoke(app, ["baselines", "rebuild", str(history), "--tenant", "tnt_acme"])
    assert result.exit_code == 0, result.output
    assert RULE in result.output and "12 events from 12 records" in result.output
    shown = CliRunner().invoke(app, ["baselines", "show"])
    assert RULE in shown.output
    _restart(desk)
    assert restore(desk.runtime.ctx) >= 1
    assert _unusual(_ingest(desk, [NIGHT]))
