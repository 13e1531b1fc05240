"""Approval messages in a chat channel: what an approver is shown, and the optional port that posts it.

When a request enters ``pending_approval`` and its tenant names an approvers' channel
(``app.approval_notices``), deskguard posts one message there with Approve / Deny buttons bound to
the request's parameters hash. ``ApprovalNotice`` is that message's content, fixed when the request
entered the state (stored in the responder step that delivers it, so a retry posts the same words).
``ApprovalMessenger`` is the optional method a notification adapter offers beside
``ResponseNotifier.send`` (Slack's ``SlackNotifier.post_approval``): a plain notification never
carries buttons; only this message does, because only its click can do something. A channel whose
messages cannot round-trip a click (a Teams webhook) posts the same notice with one link to the
console's approval page instead. ``ApprovalUpdater`` rewrites a posted message once the request no
longer waits (``app.approval_updates``), so its buttons do not outlive the decision.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields
from typing import Any, Protocol, runtime_checkable


@dataclass(frozen=True, slots=True, kw_only=True)
class ApprovalNotice:
    """Everything the approver weighs, in words: no secret, no code, no phone number."""

    tenant_id: str
    request_id: str
    params_hash: str  # the buttons approve these parameters, no others
    action: str  # "Reset MFA factors"
    person: str  # for whom: "Person plain (plain@t_a.example)"
    requester: str  # who asks: the agent, their provider and workstation (or the person, self-service)
    justification: str
    proofs: tuple[str, ...]  # the proofs collected, each in words
    risk: str  # the risk score the policy saw, with its reasons
    ticket: str  # the helpdesk ticket ("INC0010001 (phone)") or "" when none
    approver_role: str  # the role the decision requires
    expires_at: str  # ISO 8601: when the request expires

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["proofs"] = list(self.proofs)
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ApprovalNotice:
        """The stored notice; ``ValueError`` naming the first missing field."""
        names = [f.name for f in fields(cls)]
        missing = [name for name in names if name not in data]
        if missing:
            raise ValueError(f"approval notice: missing field {missing[0]!r}")
        values = {name: data[name] for name in names}
        values["proofs"] = tuple(str(p) for p in data["proofs"])
        return cls(**values)


@runtime_checkable
class ApprovalMessenger(Protocol):
    """Optional beside ``ResponseNotifier``: posts an approval message with Approve / Deny buttons.
    Idempotent by key in process. Raises ConnectorError (refused) or ConnectorTimeout (unknown)."""

    def post_approval(
        self, *, tenant_id: str, channel: str, to: str, notice: ApprovalNotice, idempotency_key: str
    ) -> str:
        """Returns the message's reference."""
        ...


@runtime_checkable
class ApprovalUpdater(Protocol):
    """Optional beside ``ApprovalMessenger``: rewrites a posted approval message once the request no
    longer waits (Slack's ``chat.update``): its buttons gone, the outcome in their place. Idempotent
    (the same words twice leave the same message). Raises ConnectorError / ConnectorTimeout."""

    def update_approval(
        self,
        *,
        tenant_id: str,
        channel: str,
        message_ref: str,
        notice: ApprovalNotice,
        outcome: str,
        idempotency_key: str,
    ) -> str:
        """``message_ref`` is what ``post_approval`` returned; returns the updated message's reference."""
        ...
