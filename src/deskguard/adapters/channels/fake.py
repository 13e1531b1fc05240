"""Fakes of the verification and notification channels, used by the demo and unit tests.

Each records what it was asked to do, so tests (and the demo's console) can see the call placed,
the push sent, the secret delivered. The fake notifier keeps delivered secrets in memory only: it
stands for the person's own mailbox, which the agent never sees.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass

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

    def place_verification_call(
        self, *, tenant_id: str, to_number: str, reference: str, spoken_code: str
    ) -> str:
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

    def start(self, *, tenant_id: str, person: Person, reference: str) -> str:
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
