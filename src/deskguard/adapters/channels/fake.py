"""Fakes of the verification and notification channels, used by the demo and unit tests.

Each records what it was asked to do, so tests (and the demo's console) can see the call placed,
the push sent, the secret delivered, the runbook's notification sent, the ticket opened or
commented. The fake notifier keeps delivered secrets in memory only: it stands for the person's own
mailbox, which the agent never sees.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass

from deskguard.domain.errors import ConnectorError, ConnectorTimeout
from deskguard.domain.model import Person
from deskguard.domain.ports import Randomness


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
    def __init__(self, *, randomness: Randomness) -> None:
        self._random = randomness
        self.sessions: list[tuple[str, str, str]] = []  # (session id, tenant, person)
        self.timeouts = 0  # tests: the next N starts time out

    def start(self, *, tenant_id: str, person: Person, reference: str) -> str:
        if self.timeouts:
            self.timeouts -= 1
            raise ConnectorTimeout("fake identity verification did not answer in time")
        session_id = self._random.new_id("idv")
        self.sessions.append((session_id, tenant_id, person.id))
        return session_id


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
