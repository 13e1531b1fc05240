"""Runbook steps: once per alert, retried on a connector timeout, refused definitely, or dry-run."""

from __future__ import annotations

from pathlib import Path

import orjson

from deskguard.app import detection
from deskguard.app.detection import Detector
from deskguard.detection.runbooks import load_runbooks
from deskguard.domain.actions import ActionKind
from world import World, build_world, detection_content, runbooks

PLAIN = "plain@t_a.example"
LOG = [
    {
        "uuid": "m1",
        "published": "2026-11-30T08:40:00.000Z",
        "eventType": "user.mfa.factor.reset_all",
        "actor": {"id": "00a", "type": "User", "alternateId": "admin@t_a.example"},
        "target": [{"id": "00u", "type": "User", "alternateId": PLAIN}],
        "outcome": {"result": "SUCCESS"},
    },
    {
        "uuid": "s2",
        "published": "2026-11-30T08:44:00.000Z",
        "eventType": "user.session.start",
        "actor": {"id": "00u", "type": "User", "alternateId": PLAIN},
        "outcome": {"result": "SUCCESS"},
        "client": {"ipAddress": "185.220.101.34", "geographicalContext": {"country": "Netherlands"}},
        "securityContext": {"isProxy": True},
    },
]


def _ingest(world: World) -> list[detection.StepOutcome]:
    body = b"\n".join(orjson.dumps(r) for r in LOG)
    result = detection.ingest(
        world.ctx, actor=world.operator("analyst"), tenant_id="t_a", source="okta", body=body
    )
    return result.responses


def test_a_timeout_is_retried_with_the_same_key(uow_factory) -> None:
    world = build_world(uow_factory)
    world.idp.timeout_next = True
    steps = _ingest(world)
    assert [(s.kind, s.outcome, s.attempts) for s in steps] == [
        ("revoke_sessions", "done", 2),
        ("watchlist", "done", 1),
    ]
    keys = {call[3] for call in world.idp.calls}
    assert len(world.idp.calls) == 2 and len(keys) == 1  # both attempts carried the same key


def test_a_definite_refusal_is_not_retried(uow_factory) -> None:
    world = build_world(uow_factory)
    world.idp.fail_next = "user is deactivated"
    (revoke, watch) = _ingest(world)
    assert (revoke.outcome, revoke.attempts) == ("failed", 1) and "user is deactivated" in revoke.detail
    assert watch.outcome == "done"  # the next step still protects the person


def test_a_dry_run_records_what_it_would_do_and_acts_on_nothing(uow_factory, tmp_path: Path) -> None:
    world = build_world(uow_factory)
    source = Path(runbooks()[0].path).read_text()
    (tmp_path / "dry.yml").write_text(source + "dry_run: true\n")
    dry = load_runbooks([tmp_path / "dry.yml"], known_rules=detection_content().ids())
    object.__setattr__(world.ctx, "detector", Detector(detection_content(), runbooks=dry))
    steps = _ingest(world)
    assert [(s.kind, s.outcome) for s in steps] == [("revoke_sessions", "dry_run"), ("watchlist", "dry_run")]
    assert "would sign the person out everywhere (plain@t_a.example)" in steps[0].detail
    assert world.idp.calls == []
    snapshot = world.ctx.decisions.snapshot(
        tenant_id="t_a",
        person_id="plain",
        operator_id=None,
        kind=ActionKind.RESET_PASSWORD,
        now=world.clock.now(),
        failed_since=world.clock.now(),
    )
    assert snapshot is not None and snapshot.watch_until is None  # what every decision would read
    with world.ctx.reads() as uow:
        recorded = [e for e in uow.outbox.list(tenant_id="t_a") if e.type.value == "response.step"]
    assert [e.data["outcome"] for e in recorded] == ["dry_run", "dry_run"]


def test_an_alert_about_someone_outside_the_directory_is_skipped_on_the_record(uow_factory) -> None:
    world = build_world(uow_factory)
    stranger = [replace_user(r, "nobody@elsewhere.example") for r in LOG]
    body = b"\n".join(orjson.dumps(r) for r in stranger)
    result = detection.ingest(
        world.ctx, actor=world.operator("analyst"), tenant_id="t_a", source="okta", body=body
    )
    assert [s.outcome for s in result.responses] == ["skipped", "skipped"]
    assert world.idp.calls == []


def replace_user(record: dict, login: str) -> dict:
    out = dict(record)
    if out.get("target"):
        out["target"] = [{**out["target"][0], "alternateId": login}]
    if out["actor"]["alternateId"] == PLAIN:
        out["actor"] = {**out["actor"], "alternateId": login}
    return out


def test_the_watch_list_is_what_the_next_decision_reads(uow_factory) -> None:
    world = build_world(uow_factory)
    _ingest(world)
    snapshot = world.ctx.decisions.snapshot(
        tenant_id="t_a",
        person_id="plain",
        operator_id=None,
        kind=ActionKind.RESET_PASSWORD,
        now=world.clock.now(),
        failed_since=world.clock.now(),
    )
    assert snapshot is not None and snapshot.watch_until is not None
    assert snapshot.watch_until > world.clock.now()
