"""The approval notice the Slack and Teams approval tests render (one fixture, not a copy per file)."""

from __future__ import annotations

from deskguard.domain.ports_approvals import ApprovalNotice

# the justification carries Slack mrkdwn control characters: rendering must escape them
NOTICE = ApprovalNotice(
    tenant_id="acme",
    request_id="req_42",
    params_hash="ab" * 32,
    action="Reset MFA factors",
    person="Jane Doe (jane@acme.example)",
    requester="Bruno (bruno@desk.example), FarShore (outsourced), workstation WS-7",
    justification="lost phone <@channel> & more",
    proofs=("push with number matching to the person's enrolled device (strong)",),
    risk="64/100 (action tier high); signals: person: 3 failed pushes",
    ticket="INC0010001 (phone)",
    approver_role="supervisor",
    expires_at="2026-12-01T13:00+00:00",
)
