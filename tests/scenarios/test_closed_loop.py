"""The closed loop: a signal that arrives while the agent is on the phone changes the decision.

Tuesday 09:00 UTC. Alice, on the phone with "Inès Martin", opens a password reset: an ordinary
request. Meanwhile the Okta log arrives: twenty minutes earlier a helpdesk admin account reset
Inès's MFA outside deskguard, and her account then signed in from the Netherlands through a proxy.
The alerts raise Inès's risk; the next decision on the open request steps up (self-service or the
manager, and one more approval), and says why, with the alerts behind it.
"""

from __future__ import annotations

import json
import time

from demo_desk import ALICE, ANNA, Desk, T

from deskguard.domain.actions import ActionKind

INES = "ines.martin2@acme.example"


def _okta(uuid: str, event_type: str, at: str, actor: str, **extra: object) -> dict:
    record = {
        "uuid": uuid,
        "published": f"2026-12-01T{at}.000Z",
        "eventType": event_type,
        "actor": {"id": "00u" + uuid, "type": "User", "alternateId": actor},
        "target": [{"id": "00uines", "type": "User", "alternateId": INES}],
        "outcome": {"result": "SUCCESS"},
        "client": {
            "ipAddress": "81.250.12.20",
            "geographicalContext": {"country": "France", "city": "Paris"},
        },
    }
    record.update(extra)
    return record


THE_LOG = [
    _okta("s1", "user.session.start", "07:30:00", INES, target=[]),
    _okta("m1", "user.mfa.factor.reset_all", "08:40:00", "k.dupont.adm@acme.example"),
    _okta(
        "s2",
        "user.session.start",
        "08:44:00",
        INES,
        target=[],
        client={"ipAddress": "185.220.101.34", "geographicalContext": {"country": "Netherlands"}},
        securityContext={"isProxy": True},
    ),
]


def _rules(decision: dict) -> set[str]:
    return {t["rule"] for t in decision["trace"] if t["matched"]}


def _call(desk: Desk, *, signal_arrives: bool) -> dict:
    """Alice opens the reset and sends a push; Inès approves it. Returns the request afterwards."""
    ines = desk.creds["persons"][INES]["id"]
    opened = desk.post(f"{T}/requests", ALICE, {"kind": "reset_password", "person_id": ines}, status=201)
    assert "elevated-risk" not in _rules(opened["decision"])
    push = desk.post(
        f"{T}/requests/{opened['id']}/proofs", ALICE, {"method": "push_number_match"}, status=201
    )
    if signal_arrives:  # while Alice reads the number out, the Okta log reaches deskguard
        body = "\n".join(json.dumps(r) for r in THE_LOG)
        ingested = desk.client.post(
            "/api/v1/ingest/okta?tenant=tnt_acme", content=body, headers=desk._auth(ANNA)
        ).json()
        assert ingested["accepted"] == 3, ingested
        assert {"Identity.Change.UnbrokeredReset", "Identity.Recovery.NewCountryOrProxy"} <= {
            a["rule_id"] for a in ingested["alerts"]
        }
    number = push["challenge"]["number_to_read_out"]
    desk.post(f"/api/v1/portal/pushes/{push['id']}", INES, {"approve": True, "number": number})
    return desk.get(f"{T}/requests/{opened['id']}", ALICE)


def test_without_the_signal_the_push_is_enough(desk: Desk) -> None:
    request = _call(desk, signal_arrives=False)
    assert "elevated-risk" not in _rules(request["decision"])
    assert [] in request["decision"]["missing_proof_sets"]  # one acceptable set is complete
    assert request["state"] in ("pending_approval", "ready")


def test_a_signal_during_the_call_steps_the_request_up(desk: Desk) -> None:
    request = _call(desk, signal_arrives=True)
    decision = request["decision"]
    assert "elevated-risk" in _rules(decision)
    assert request["state"] == "pending_verification"  # the approved push no longer suffices
    assert [] not in decision["missing_proof_sets"]
    step_up = next(t for t in decision["trace"] if t["rule"] == "elevated-risk")
    assert step_up["values"]["target.risk_score"] >= 70
    why = " ".join(r["message"] for r in decision["step_ups"])
    assert "risk score 81 (>= 70): Identity.Recovery.NewCountryOrProxy (high, 50 of 50 points" in why, why
    assert "Identity.Change.UnbrokeredReset" in why
    assert all(
        s & {"self_service_initiated", "manager_confirmation"}
        for s in map(set, decision["acceptable_proof_sets"])
    )


def test_the_runbook_signs_the_person_out_and_watch_lists_them_within_a_second(desk: Desk) -> None:
    """MFA reset then a new-country sign-in: revoke sessions + 24 h watch list, on the record."""
    ines = desk.creds["persons"][INES]["id"]
    body = "\n".join(json.dumps(r) for r in THE_LOG)
    started = time.perf_counter()
    ingested = desk.client.post("/api/v1/ingest/okta?tenant=tnt_acme", content=body, headers=desk._auth(ANNA))
    elapsed = time.perf_counter() - started
    steps = ingested.json()["responses"]
    assert [(s["kind"], s["outcome"]) for s in steps] == [("revoke_sessions", "done"), ("watchlist", "done")]
    assert elapsed < 1.0  # the steps ran inside the ingest call: within a second of the sign-in event
    revoked = [c for c in desk.runtime.idp.calls if c[1] == ines and c[2] == ActionKind.REVOKE_SESSIONS]
    assert len(revoked) == 1
    # The watch list is read by the next decision on her: the policy's watch-list rule applies.
    preview = desk.post(f"{T}/decisions/preview", ALICE, {"kind": "reset_password", "person_id": ines})
    watch = next(t for t in preview["trace"] if "target.watchlisted" in t["values"])
    assert watch["values"]["target.watchlisted"] is True and watch["matched"]
    # Every step is an event, hence a ledger record; the same alert never runs the runbook twice.
    events = desk.get(f"{T}/events", ANNA)
    recorded = [e for e in events if e["type"] == "response.step"]
    assert [e["data"]["kind"] for e in recorded] == ["revoke_sessions", "watchlist"]
    assert all(e["subject"]["person_id"] == ines for e in recorded)
    again = desk.client.post("/api/v1/ingest/okta?tenant=tnt_acme", content=body, headers=desk._auth(ANNA))
    assert again.json()["responses"] == [] and len(desk.runtime.idp.calls) == len(revoked)
