"""A runbook puts the manager in the loop: the next sensitive request on that person needs them.

Tuesday 10:00 in Paris. Jean Martin's registered phone changed yesterday. Oscar, the outsourced
agent, asks for an MFA reset on Jean: the policy already refuses call-backs, and the detection
engine, reading the outbox a second later, raises "reset requested after a recent phone change".
The runbook for MFA changes after a phone change requires the manager's confirmation of sensitive
requests on Jean for 24 h, tells the SOC and opens a ticket. When Alice then asks for a password
reset on Jean, a push is no longer enough: every acceptable way includes Claire, his manager.
Benign twins: another person's reset is untouched; a password reset alone triggers nothing.
"""

from __future__ import annotations

from demo_desk import ALICE, ANNA, JEAN, OSCAR, Desk, T

from deskguard.workers.detector import OutboxDetector

OTHER = "per_acme_004"  # an ordinary colleague, phone unchanged for months


def _rules(decision: dict) -> set[str]:
    return {t["rule"] for t in decision["trace"] if t["matched"]}


def _sets(decision: dict) -> list[set[str]]:
    return [set(s) for s in decision["acceptable_proof_sets"]]


def _ask(desk: Desk, who: str, kind: str, person: str) -> dict:
    return desk.post(f"{T}/requests", who, {"kind": kind, "person_id": person}, status=201)


def _detector_reads_the_outbox(desk: Desk) -> None:
    OutboxDetector(desk.runtime.ctx).tick()  # what `deskguard serve` does every second


def test_after_the_runbook_a_reset_on_that_person_needs_the_manager(desk: Desk) -> None:
    jean = desk.creds["persons"][JEAN]["id"]
    _ask(desk, OSCAR, "reset_mfa", jean)
    _detector_reads_the_outbox(desk)
    steps = [s for s in desk.get(f"{T}/responses", ANNA) if s["person_id"] == jean]
    assert sorted((s["kind"], s["status"]) for s in steps) == [
        ("notify", "done"),
        ("require_manager_validation", "done"),
        ("ticket", "done"),
    ]
    assert {s["runbook"] for s in steps} == {"Respond.Request.FactorChangeAfterPhoneChange"}
    (note,) = desk.runtime.response_notifier.sent
    assert JEAN in note.text and note.to == "#soc-helpdesk"
    (ticket,) = desk.runtime.ticketing.tickets.values()
    assert JEAN in ticket.text

    reset = _ask(desk, ALICE, "reset_password", jean)["decision"]
    assert "manager-validation-required" in _rules(reset)
    assert all("manager_confirmation" in s for s in _sets(reset)), reset["acceptable_proof_sets"]
    assert {"push_number_match", "manager_confirmation"} in _sets(reset)  # a way remains
    why = " ".join(r["message"] for r in reset["step_ups"])
    assert "a response runbook requires the manager's confirmation" in why

    # Benign twin: a colleague on the same morning is untouched - a push alone resets the password.
    other = _ask(desk, ALICE, "reset_password", OTHER)["decision"]
    assert "manager-validation-required" not in _rules(other)
    assert {"push_number_match"} in _sets(other)

    # The validation is time-boxed: 24 hours later the manager is no longer required.
    desk.runtime.ctx.clock.advance(hours=24, minutes=1)  # type: ignore[attr-defined]
    later = desk.post(f"{T}/decisions/preview", ALICE, {"kind": "reset_password", "person_id": jean})
    assert "manager-validation-required" not in _rules(later)


def test_a_password_reset_alone_does_not_bring_the_manager_in(desk: Desk) -> None:
    """The alert fires for any reset after a phone change; the runbook only for MFA and recovery
    changes (its action_kinds): the request's kind travels with the alert."""
    jean = desk.creds["persons"][JEAN]["id"]
    _ask(desk, OSCAR, "reset_password", jean)
    _detector_reads_the_outbox(desk)
    alerts = desk.get(f"{T}/alerts?rule_id=Deskguard.Request.ResetAfterRecentPhoneChange", ANNA)
    assert [a["entities"]["action"] for a in alerts] == ["reset_password"]
    assert desk.get(f"{T}/responses", ANNA) == []
    again = desk.post(f"{T}/decisions/preview", ALICE, {"kind": "reset_password", "person_id": jean})
    assert "manager-validation-required" not in _rules(again)
