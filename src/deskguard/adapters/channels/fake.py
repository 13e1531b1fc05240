"""Fakes of the verification and notification channels, used by the demo and unit tests.

Each records what it was asked to do, so tests (and the demo's console) can see the call placed,
the push sent, the secret delivered, the runbook's notification sent, the ticket opened or
commented, the one-time code sent. The fake notifier keeps delivered secrets in memory only: it
stands for the person's own mailbox, which the agent never sees.
"""

from __future__ import annotations

import hmac
import threading
from dataclasses import dataclass
from datetime import datetime

from deskguard.domain.errors import ConnectorError, ConnectorTimeout
from deskguard.domain.model import Person
from deskguard.domain.ports import Health, Randomness
from deskguard.domain.ports_idv import IdvSession
from deskguard.domain.ports_otp import OtpSent, OtpVerdict


@dataclass(frozen=True, slots=True)
class PlacedCall:
    call_id: str
    tenant_id: str
    to_number: str
    reference: str
    spoken_code: str


class FakeTelephony:
    def __init__(self, *, randomness: Randomness) -> None:
        self._random = randomness
        self.calls: list[PlacedCall] = []
        self.timeouts = 0  # tests: the next N calls time out
        self.fail_next: str | None = None  # tests: the next call is refused with this message

    def place_verification_call(
        self, *, tenant_id: str, to_number: str, reference: str, spoken_code: str
    ) -> str:
        if self.timeouts:
            self.timeouts -= 1
            raise ConnectorTimeout("fake telephony did not answer in time")
        if self.fail_next is not None:
            message, self.fail_next = self.fail_next, None
            raise ConnectorError(message)
        call = PlacedCall(self._random.new_id("call"), tenant_id, to_number, reference, spoken_code)
        self.calls.append(call)
        return call.call_id


class FakePushChannel:
    def __init__(self) -> None:
        self.sent: list[tuple[str, str, str, str]] = []

    def notify(self, *, tenant_id: str, person_id: str, device_factor_id: str, proof_id: str) -> None:
        self.sent.append((tenant_id, person_id, device_factor_id, proof_id))


class FakeIdentityVerification:
    """A stand-in for Veriff. Each session's person link is ``{base_url}/demo/idv/<session>?t=<token>``:
    the demo's page of the *fake provider* (``console/routes_demo_idv.py``, demo mode only), where
    whoever holds the link makes the check pass or fail, as Veriff's hosted flow would decide.
    The token makes the link a bearer secret like Veriff's; ``base_url`` "" gives a relative link."""

    LINK_PATH = "/demo/idv/"

    def __init__(self, *, randomness: Randomness, base_url: str = "") -> None:
        self._random = randomness
        self._base = base_url.rstrip("/")
        self._tokens: dict[str, str] = {}  # session id -> the token its link carries
        self.sessions: list[tuple[str, str, str]] = []  # (session id, tenant, person)
        self.timeouts = 0  # tests: the next N starts time out
        self.expires_at: datetime | None = None  # tests: the expiry the next links announce

    def start(self, *, tenant_id: str, person: Person, reference: str) -> IdvSession:
        if self.timeouts:
            self.timeouts -= 1
            raise ConnectorTimeout("fake identity verification did not answer in time")
        session_id = self._random.new_id("idv")
        token = self._random.token(16)
        self._tokens[session_id] = token
        self.sessions.append((session_id, tenant_id, person.id))
        url = f"{self._base}{self.LINK_PATH}{session_id}?t={token}"
        return IdvSession(session_id=session_id, url=url, expires_at=self.expires_at)

    def holds(self, *, session_id: str, token: str) -> bool:
        """Whether ``token`` is the one of ``session_id``'s link (constant time)."""
        expected = self._tokens.get(session_id)
        return expected is not None and bool(token) and hmac.compare_digest(expected, token)


@dataclass(frozen=True, slots=True)
class Delivery:
    reference: str
    tenant_id: str
    person_id: str
    channel: str
    kind: str
    secret: str


class FakeNotifier:
    def __init__(self, *, randomness: Randomness) -> None:
        self._random = randomness
        self._lock = threading.Lock()
        self.deliveries: list[Delivery] = []
        self.fail_next = False  # tests: make the next delivery fail

    def deliver_secret(self, *, tenant_id: str, person: Person, channel: str, kind: str, secret: str) -> str:
        with self._lock:
            if self.fail_next:
                self.fail_next = False
                raise OSError("mail relay refused the message")
            ref = self._random.new_id("dlv")
            self.deliveries.append(Delivery(ref, tenant_id, person.id, channel, kind, secret))
            return ref


class _Flaky:
    """Failure injection shared by the runbook fakes, and their idempotency by key."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._done: dict[str, str] = {}  # idempotency key -> the first reference
        self.timeouts = 0  # the next N calls time out before acting
        self.fail_next: str | None = None  # message of a definite refusal, raised once

    def _check(self, name: str) -> None:
        if self.timeouts:
            self.timeouts -= 1
            raise ConnectorTimeout(f"fake {name} did not answer in time")
        if self.fail_next is not None:
            message, self.fail_next = self.fail_next, None
            raise ConnectorError(message)


@dataclass(frozen=True, slots=True)
class SentNotification:
    reference: str
    tenant_id: str
    channel: str
    to: str
    subject: str
    text: str
    idempotency_key: str


class FakeResponseNotifier(_Flaky):
    """The runbooks' webhook, e-mail and Slack notifications, kept in memory."""

    def __init__(self, *, randomness: Randomness) -> None:
        super().__init__()
        self._random = randomness
        self.sent: list[SentNotification] = []

    def send(
        self, *, tenant_id: str, channel: str, to: str, subject: str, text: str, idempotency_key: str
    ) -> str:
        with self._lock:
            self._check("notifier")
            if idempotency_key in self._done:
                return self._done[idempotency_key]
            ref = self._random.new_id("ntf")
            self.sent.append(SentNotification(ref, tenant_id, channel, to, subject, text, idempotency_key))
            self._done[idempotency_key] = ref
            return ref


@dataclass(slots=True)
class FakeTicket:
    reference: str
    tenant_id: str
    title: str
    text: str
    comments: list[str]


class FakeTicketing(_Flaky):
    """An in-memory ITSM: tickets opened by runbooks, and comments on any ticket reference."""

    def __init__(self, *, randomness: Randomness) -> None:
        super().__init__()
        self._random = randomness
        self.tickets: dict[str, FakeTicket] = {}  # opened here
        self.comments: list[tuple[str, str, str]] = []  # (tenant, ticket reference, text)
        self.resolved: list[tuple[str, str]] = []  # (tenant, ticket reference) put in a resolved state

    def open(self, *, tenant_id: str, title: str, text: str, idempotency_key: str) -> str:
        with self._lock:
            self._check("ticketing")
            if idempotency_key in self._done:
                return self._done[idempotency_key]
            ref = self._random.new_id("TKT")
            self.tickets[ref] = FakeTicket(ref, tenant_id, title, text, [])
            self._done[idempotency_key] = ref
            return ref

    def comment(self, *, tenant_id: str, ticket_ref: str, text: str, idempotency_key: str) -> str:
        with self._lock:
            self._check("ticketing")
            if idempotency_key in self._done:
                return self._done[idempotency_key]
            ticket = self.tickets.get(ticket_ref)
            if ticket is not None and ticket.tenant_id != tenant_id:
                raise ConnectorError(f"ticket {ticket_ref} not found")
            if ticket is not None:
                ticket.comments.append(text)
            self.comments.append((tenant_id, ticket_ref, text))
            ref = self._random.new_id("cmt")
            self._done[idempotency_key] = ref
            return ref

    def resolve(self, *, tenant_id: str, ticket_ref: str, idempotency_key: str) -> str:
        with self._lock:
            self._check("ticketing")
            if idempotency_key in self._done:
                return self._done[idempotency_key]
            ticket = self.tickets.get(ticket_ref)
            if ticket is not None and ticket.tenant_id != tenant_id:
                raise ConnectorError(f"ticket {ticket_ref} not found")
            self.resolved.append((tenant_id, ticket_ref))
            self._done[idempotency_key] = f"{ticket_ref}/resolved"
            return self._done[idempotency_key]


@dataclass(frozen=True, slots=True)
class SentCode:
    verification_id: str
    tenant_id: str
    to_number: str
    channel: str
    code: str  # what the person's phone shows; tests read it back as the person would


@dataclass(slots=True)
class _OpenVerification:
    tenant_id: str
    to_number: str
    code: str
    checks: int = 0


class FakeOtpDelivery:
    """An in-memory Twilio Verify: one open verification per number (a second send to it resends
    the same code, as Verify does), closed when approved, locked after ``max_checks`` wrong codes."""

    name = "fake-otp"

    def __init__(self, *, randomness: Randomness, channel: str = "sms", max_checks: int = 5) -> None:
        self._random, self._channel, self._max = randomness, channel, max_checks
        self._lock = threading.Lock()
        self._open: dict[str, _OpenVerification] = {}  # verification id -> its state
        self.sent: list[SentCode] = []
        self.checks: list[tuple[str, str]] = []  # (verification id or number, code) that reached it
        self.timeouts = 0  # tests: the next N calls time out before acting
        self.lose_next_answer = False  # tests: the next call acts, then its answer is lost
        self.fail_next: str | None = None  # tests: the next call is refused with this message

    def _before(self) -> None:
        if self.timeouts:
            self.timeouts -= 1
            raise ConnectorTimeout("fake OTP service did not answer in time")
        if self.fail_next is not None:
            message, self.fail_next = self.fail_next, None
            raise ConnectorError(message)

    def _after(self) -> None:
        if self.lose_next_answer:
            self.lose_next_answer = False
            raise ConnectorTimeout("fake OTP service acted, but its answer was lost")

    def send(self, *, tenant_id: str, to_number: str, reference: str) -> OtpSent:
        with self._lock:
            self._before()
            found = next(
                (
                    (vid, v)
                    for vid, v in self._open.items()
                    if (v.tenant_id, v.to_number) == (tenant_id, to_number)
                ),
                None,
            )
            if found is None:
                code = f"{self._random.randbelow(1_000_000):06d}"
                found = (self._random.new_id("VE"), _OpenVerification(tenant_id, to_number, code))
                self._open[found[0]] = found[1]
            vid, open_ = found
            self.sent.append(SentCode(vid, tenant_id, to_number, self._channel, open_.code))
            self._after()
            return OtpSent(verification_id=vid, channel=self._channel)

    def check(self, *, tenant_id: str, to_number: str, verification_id: str, code: str) -> OtpVerdict:
        with self._lock:
            self._before()
            vid = verification_id or next(
                (i for i, v in self._open.items() if (v.tenant_id, v.to_number) == (tenant_id, to_number)), ""
            )
            self.checks.append((verification_id or to_number, code))
            open_ = self._open.get(vid)
            if open_ is None or open_.tenant_id != tenant_id:
                verdict = OtpVerdict.GONE
            elif open_.checks >= self._max:
                verdict = OtpVerdict.LOCKED
            elif hmac.compare_digest(open_.code, code):
                del self._open[vid]
                verdict = OtpVerdict.APPROVED
            else:
                open_.checks += 1
                verdict = OtpVerdict.WRONG
            self._after()
            return verdict

    def expire_all(self) -> None:
        """Tests: every open verification lapses (Verify keeps one for 10 minutes)."""
        with self._lock:
            self._open.clear()

    def health(self) -> Health:
        return Health(ok=True, detail="in-memory OTP service")
