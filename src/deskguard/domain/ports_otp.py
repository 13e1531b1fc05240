"""The ``OtpDelivery`` port: a one-time code sent to the person's registered phone, checked later.

A verification service (Twilio Verify; the fake in the demo and tests) generates the code, sends it
by SMS or voice call to the number deskguard gives — always the registered phone from the
directory, never one typed by the agent — and checks the code the person reads back to the agent.
deskguard never sees the code it sent: only the service's verdict on the one read back.

Both calls can leave the outcome unknown. ``send`` raises ``ConnectorTimeout`` when a code may have
gone out without an answer (a timeout, a 5xx); ``check`` raises ``ConnectorTimeout`` when the
service may have counted, or even approved, the code without telling us. Neither is repeated
automatically: a repeated send is a second SMS, a repeated check a second counted attempt (or a
"not found" once the first one approved it). ``app.verification_otp`` keeps the proof pending and
records the check in doubt, so that the agent retrying the same code is not counted twice.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:  # ports imports this module for Channels
    from deskguard.domain.ports import Health


class OtpVerdict(StrEnum):
    APPROVED = "approved"  # the code is the one sent; the service closes the verification
    WRONG = "wrong"  # not the code; the verification stays open for another try
    GONE = "gone"  # the service holds no such verification: expired, already approved, or canceled
    LOCKED = "locked"  # the service refuses further checks on it (too many wrong codes)


@dataclass(frozen=True, slots=True, kw_only=True)
class OtpSent:
    verification_id: str  # the service's id of the verification (Twilio: VE...)
    channel: str  # how the code went: sms | call


class OtpDelivery(Protocol):
    """Raises ``ConnectorError`` for a definite refusal (nothing sent, nothing counted),
    ``ConnectorTimeout`` when the outcome is unknown."""

    name: str

    def send(self, *, tenant_id: str, to_number: str, reference: str) -> OtpSent:
        """Send a fresh code to ``to_number`` (E.164). ``reference`` is the proof id, for the logs."""
        ...

    def check(self, *, tenant_id: str, to_number: str, verification_id: str, code: str) -> OtpVerdict:
        """The service's verdict on ``code`` for the verification ``verification_id`` (or, when it is
        empty because the send's answer was lost, the open verification of ``to_number``)."""
        ...

    def health(self) -> Health: ...
