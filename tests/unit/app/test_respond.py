"""Runbook runs: once per alert, every step kind through its port, triggers on risk, kind and
privilege, dry runs that act on nothing, timeouts left to the responder and refusals final."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import orjson
import pytest

from deskguard.app import detection
from deskguard.app.detection import Detector
from deskguard.app.grants import request_grant
from deskguard.app.requests import RequestDraft, open_request
from deskguard.app.respond import respond
from deskguard.detection.risk import RiskSignal
from deskguard.detection.runbooks import load_runbooks
from deskguard.domain.actions import CATALOGUE, ActionKind
from deskguard.domain.errors import NotFound, ValidationFailed
from deskguard.domain.ports import AlertQuery
from deskguard.domain.response import StepStatus
from deskguard.workers.detector import OutboxDetector
from runbook_kit import PLAIN, alert, book, events, snapshot, stored
from world import World, build_world, detection_content, runbooks

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
EVERY_STEP = """
id: Respond.Test.Everything
trigger: {rules: [Some.Rule.Id]}
steps:
  - revoke_sessions
  - watchlist: {hours: 12}
  - require_manager_validation: {hours: 48}
  - notify: {channel: email, to: soc@example.org, text: "{severity}: {title} for {user}"}
  - ticket: {action: comment, text: "see {alert_id}"}
  - suspend_account
"""


def _ingest(world: World) -> list[detection.StepOutcome]:
    body = b"\n".join(orjson.dumps(r) for r in LOG)
    result = detection.ingest(
        world.ctx, actor=world.operator("analyst"), tenant_id="t_a", source="okta", body=body
    )
    return result.responses


def test_a_timeout_leaves_the_step_to_the_responder_with_its_back_off(uow_factory) -> None:
    world = build_world(uow_factory)
    world.idp.timeout_next = True
    steps = _ingest(world)
    assert [(s.kind, s.outcome, s.attempts) for s in steps] == [
        ("revoke_sessions", "retrying", 1),
        ("watchlist", "done", 1),  # the next step does not wait for it
    ]
    revoke = stored(world)[0]
    now = world.clock.now()
    assert revoke.status == StepStatus.RETRYING
    assert now + timedelta(seconds=15) <= revoke.next_attempt_at <= now + timedelta(seconds=30)
    assert events(world)[0]["data"]["next_attempt_at"] == revoke.next_attempt_at.isoformat()


def test_a_definite_refusal_is_not_retried(uow_factory) -> None:
    world = build_world(uow_factory)
    world.idp.fail_next = "user is deactivated"
    (revoke, watch) = _ingest(world)
    assert (revoke.outcome, revoke.attempts) == ("failed", 1) and "user is deactivated" in revoke.detail
    assert watch.outcome == "done"  # the next step still protects the person
    assert stored(world)[0].next_attempt_at is None  # never due again


def test_a_dry_run_records_what_it_would_do_and_acts_on_nothing(uow_factory, tmp_path: Path) -> None:
    world = build_world(uow_factory)
    (shipped,) = [r for r in runbooks() if r.id == "Respond.Recovery.NewCountrySignIn"]
    source = Path(shipped.path).read_text()
    (tmp_path / "dry.yml").write_text(source + "dry_run: true\n")
    dry = load_runbooks([tmp_path / "dry.yml"], known_rules=detection_content().ids())
    object.__setattr__(world.ctx, "detector", Detector(detection_content(), runbooks=dry))
    steps = _ingest(world)
    assert [(s.kind, s.outcome) for s in steps] == [("revoke_sessions", "dry_run"), ("watchlist", "dry_run")]
    assert "would sign the person out everywhere (plain@t_a.example)" in steps[0].detail
    assert world.idp.calls == []
    assert snapshot(world).watch_until is None  # what every decision would read
    assert [e["data"]["outcome"] for e in events(world)] == ["dry_run", "dry_run"]


def test_a_dry_run_of_every_step_kind_acts_on_nothing(uow_factory, tmp_path: Path) -> None:
    world = build_world(uow_factory)
    runbook = book(tmp_path, EVERY_STEP + "dry_run: true\n")
    outcomes = respond(world.ctx, [runbook], [alert(ticket="INC-9")])
    assert [o.outcome for o in outcomes] == ["dry_run"] * 6
    assert [o.detail for o in outcomes] == [
        "would sign the person out everywhere (plain@t_a.example)",
        "would watch-list the person for 12 h (plain@t_a.example)",
        "would require the manager's confirmation of sensitive requests for 48 h (plain@t_a.example)",
        "would notify soc@example.org by email (plain@t_a.example)",
        "would comment the alert's ticket (or open one) (plain@t_a.example)",
        "would wait for an analyst's approval, then suspend the person's account (plain@t_a.example)",
    ]
    assert world.idp.calls == [] and world.response_notifier.sent == []
    assert world.ticketing.tickets == {} and world.ticketing.comments == []
    snap = snapshot(world)
    assert snap.watch_until is None and snap.manager_validation_until is None
    assert {s.status for s in stored(world)} == {StepStatus.DRY_RUN}  # nothing waits for an approval
    assert [e["data"]["outcome"] for e in events(world)] == ["dry_run"] * 6


def test_every_step_kind_acts_through_its_port(uow_factory, tmp_path: Path) -> None:
    world = build_world(uow_factory)
    runbook = book(tmp_path, EVERY_STEP)
    outcomes = respond(world.ctx, [runbook], [alert(ticket="INC-9")])
    assert [(o.kind, o.outcome) for o in outcomes] == [
        ("revoke_sessions", "done"),
        ("watchlist", "done"),
        ("require_manager_validation", "done"),
        ("notify", "done"),
        ("ticket", "done"),
        ("suspend_account", "awaiting_approval"),  # destructive: an analyst decides
    ]
    now = world.clock.now()
    assert world.idp.account(tenant_id="t_a", person_id="plain").sessions_revoked == 1
    assert [c[2] for c in world.idp.calls] == [ActionKind.REVOKE_SESSIONS]  # nothing suspended yet
    snap = snapshot(world)
    assert snap.watch_until == now + timedelta(hours=12)
    assert snap.manager_validation_until == now + timedelta(hours=48)
    (sent,) = world.response_notifier.sent
    assert (sent.channel, sent.to, sent.text) == (
        "email",
        "soc@example.org",
        "high: Something odd for " + PLAIN,
    )
    assert sent.subject == "deskguard high: Something odd"
    assert world.ticketing.comments == [("t_a", "INC-9", "see alr_1")]  # the alert's own ticket
    assert "notified soc@example.org by email (ntf_" in outcomes[3].detail
    recorded = events(world)
    assert [e["data"]["outcome"] for e in recorded] == [
        "awaiting_approval",  # recorded with the run's plan, before the others ran
        "done",
        "done",
        "done",
        "done",
        "done",
    ]
    assert all(e["subject"]["person_id"] == "plain" and e["actor"]["kind"] == "system" for e in recorded)
    assert {s.idempotency_key for s in stored(world)} == {f"{outcomes[0].run_id}:{i}" for i in range(6)}


def test_the_steps_are_ledger_records(uow_factory, tmp_path: Path) -> None:
    world = build_world(uow_factory)
    respond(world.ctx, [book(tmp_path, EVERY_STEP)], [alert()])
    with world.ctx.reads() as uow:
        for event in events(world):
            assert uow.ledger.find(event_id=event["id"]) is not None


def test_a_ticket_is_opened_when_the_alert_names_none(uow_factory, tmp_path: Path) -> None:
    world = build_world(uow_factory)
    runbook = book(tmp_path, EVERY_STEP)
    (_, _, _, _, ticket, _) = respond(world.ctx, [runbook], [alert()])
    (opened,) = world.ticketing.tickets.values()
    assert opened.title == "deskguard: Something odd" and opened.text == "see alr_1"
    assert ticket.detail == f"opened ticket {opened.reference}" and world.ticketing.comments == []


def test_notifications_and_tickets_run_without_a_person(uow_factory, tmp_path: Path) -> None:
    world = build_world(uow_factory)
    outcomes = respond(world.ctx, [book(tmp_path, EVERY_STEP)], [alert("", actor="op_rogue")])
    assert [o.outcome for o in outcomes] == ["skipped", "skipped", "skipped", "done", "done", "skipped"]
    assert world.idp.calls == [] and len(world.response_notifier.sent) == 1
    assert "the alert names no person of the directory (no user)" in outcomes[0].detail


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
    snap = snapshot(world)
    assert snap is not None and snap.watch_until is not None
    assert snap.watch_until > world.clock.now()


def test_a_run_happens_once_per_alert(uow_factory, tmp_path: Path) -> None:
    world = build_world(uow_factory)
    runbook = book(tmp_path, EVERY_STEP)
    assert respond(world.ctx, [runbook], [alert()])
    assert respond(world.ctx, [runbook], [alert()]) == []
    assert len(world.response_notifier.sent) == 1 and len(stored(world)) == 6
    assert len(respond(world.ctx, [runbook], [alert(alert_id="alr_2")])) == 6  # another alert, another run


def _signal(points: float, at: float, alert_id: str) -> RiskSignal:
    severity = {50.0: "high", 80.0: "critical"}.get(points, "medium")
    return RiskSignal(alert_id, "Some.Rule.Id", severity, points, at)


def test_min_risk_reads_the_persons_risk_score_now(uow_factory, tmp_path: Path) -> None:
    world = build_world(uow_factory)
    runbook = book(
        tmp_path,
        "id: Respond.Test.Risky\ntrigger: {rules: [Some.Rule.Id], min_risk: 70}\nsteps: [watchlist]\n",
    )
    now = world.clock.now().timestamp()
    with world.ctx.uow() as uow:  # 50 points a day old: 25 now
        uow.risk.put(
            tenant_id="t_a",
            person_id="plain",
            signals=[_signal(50.0, now - 86400, "a0")],
            updated_at=world.clock.now(),
        )
        uow.commit()
    assert respond(world.ctx, [runbook], [alert(alert_id="alr_1")]) == []
    with world.ctx.uow() as uow:  # and 80 fresh ones: 1 - 0.75 x 0.2 = 85
        signals = [_signal(50.0, now - 86400, "a0"), _signal(80.0, now, "a1")]
        uow.risk.put(tenant_id="t_a", person_id="plain", signals=signals, updated_at=world.clock.now())
        uow.commit()
    assert [o.outcome for o in respond(world.ctx, [runbook], [alert(alert_id="alr_2")])] == ["done"]
    assert respond(world.ctx, [runbook], [alert("nobody@t_a.example", alert_id="alr_3")]) == []  # no person


def test_action_kinds_match_the_request_the_alert_is_about(uow_factory, tmp_path: Path) -> None:
    world = build_world(uow_factory)
    runbook = book(
        tmp_path,
        "id: Respond.Test.Kind\n"
        "trigger: {rules: [Some.Rule.Id], action_kinds: [reset_mfa]}\n"
        "steps: [watchlist]\n",
    )
    assert respond(world.ctx, [runbook], [alert(alert_id="a1", action="reset_password")]) == []
    assert respond(world.ctx, [runbook], [alert(alert_id="a2")]) == []  # the alert names no request
    assert len(respond(world.ctx, [runbook], [alert(alert_id="a3", action="reset_mfa")])) == 1
    # an alert on proofs names the request only: its stored kind counts
    opened = open_request(
        world.ctx,
        actor=world.operator("agent"),
        tenant_id="t_a",
        draft=RequestDraft(kind="reset_mfa", person_id="plain"),
    )
    assert len(respond(world.ctx, [runbook], [alert(alert_id="a4", request=opened.id)])) == 1


def test_privileged_picks_the_people_it_is_about(uow_factory, tmp_path: Path) -> None:
    world = build_world(uow_factory)
    runbook = book(
        tmp_path,
        "id: Respond.Test.Vip\ntrigger: {rules: [Some.Rule.Id], privileged: true}\nsteps: [watchlist]\n",
    )
    assert respond(world.ctx, [runbook], [alert(PLAIN, alert_id="a1")]) == []
    assert len(respond(world.ctx, [runbook], [alert("vip@t_a.example", alert_id="a2")])) == 1


def test_alerts_on_deskguards_own_requests_name_the_action_kind(uow_factory) -> None:
    """A reset asked for someone whose phone changed yesterday: the alert carries the request's
    kind, and the shipped runbook for MFA changes after a phone change puts the manager in the loop."""
    world = build_world(uow_factory)
    agent = world.operator("agent")
    open_request(
        world.ctx, actor=agent, tenant_id="t_a", draft=RequestDraft(kind="reset_mfa", person_id="swapped")
    )
    OutboxDetector(world.ctx).tick()
    with world.ctx.reads() as uow:
        (raised,) = [
            a
            for a in uow.alerts.list(_query())
            if a.rule_id == "Deskguard.Request.ResetAfterRecentPhoneChange"
        ]
    assert raised.entities["action"] == "reset_mfa" and raised.entities["user"] == "swapped@t_a.example"
    steps = stored(world)
    assert [(s.kind, s.status) for s in steps] == [
        ("require_manager_validation", StepStatus.DONE),
        ("notify", StepStatus.DONE),
        ("ticket", StepStatus.DONE),
    ]
    assert snapshot(world, "swapped").manager_validation_until == world.clock.now() + timedelta(hours=24)


def _query() -> AlertQuery:
    return AlertQuery(tenant_id="t_a")


def test_a_suspension_is_no_helpdesk_action_anyone_can_request(uow_factory) -> None:
    world = build_world(uow_factory)
    agent = world.operator("agent")
    with pytest.raises(NotFound) as unknown:
        open_request(
            world.ctx,
            actor=agent,
            tenant_id="t_a",
            draft=RequestDraft(kind="suspend_account", person_id="plain"),
        )
    assert unknown.value.code == "unknown_action"
    with pytest.raises(ValidationFailed):
        request_grant(
            world.ctx,
            actor=agent,
            tenant_id="t_a",
            action_kinds=["suspend_account"],
            duration_minutes=30,
            justification="a good enough reason",
        )
    assert "suspend_account" not in {k.value for k in CATALOGUE}
