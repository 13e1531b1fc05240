"""The response ports (``app.respond`` and its steps): the runbooks' notifier and ticketing, and the
storage of runbook steps.

Part of ``deskguard.domain.ports`` (which re-exports them and names them on ``Channels`` and the
``UnitOfWork``); kept apart so that no ports module grows past the house's 600 lines.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Protocol, runtime_checkable

from deskguard.domain.response import ResponseStep, StepStatus


class ResponseNotifier(Protocol):
    """Sends a runbook's notification to the SOC (``webhook`` URL, ``email`` address, ``slack``
    channel). Idempotent by key. Raises ConnectorError (refused) or ConnectorTimeout (unknown)."""

    def send(
        self, *, tenant_id: str, channel: str, to: str, subject: str, text: str, idempotency_key: str
    ) -> str:
        """Returns the delivery's reference."""
        ...


class Ticketing(Protocol):
    """Opens or comments tickets in the ITSM for a runbook. Idempotent by key (a retried call
    returns the first reference). Raises ConnectorError or ConnectorTimeout."""

    def open(self, *, tenant_id: str, title: str, text: str, idempotency_key: str) -> str:
        """Returns the new ticket's reference."""
        ...

    def comment(self, *, tenant_id: str, ticket_ref: str, text: str, idempotency_key: str) -> str:
        """Returns the comment's reference."""
        ...


@runtime_checkable
class TicketResolver(Protocol):
    """Optional beside ``Ticketing``: puts a ticket in its resolved (solved) state, the state the
    adapter's settings name (``resolved_state``). Idempotent by key. Raises ConnectorError or
    ConnectorTimeout. Used after an executed request when the deployment says so."""

    def resolve(self, *, tenant_id: str, ticket_ref: str, idempotency_key: str) -> str:
        """Returns the change's reference."""
        ...


class ResponseStepRepository(Protocol):
    def add(self, step: ResponseStep) -> None: ...

    def get(self, *, tenant_id: str, run_id: str, index: int) -> ResponseStep | None: ...

    def list(
        self, *, tenant_id: str, status: StepStatus | None = None, limit: int = 100
    ) -> Sequence[ResponseStep]: ...  # newest first

    def due(self, *, now: datetime, limit: int = 100) -> Sequence[ResponseStep]:
        """Running or retrying steps whose ``next_attempt_at`` has passed, oldest first. Not
        tenant-scoped: used only by the responder worker, which acts on each in its own tenant."""
        ...

    def update(self, step: ResponseStep, *, expect_status: StepStatus, expect_attempts: int) -> bool:
        """Compare-and-set: stores ``step`` only if the stored one still has ``expect_status`` and
        ``expect_attempts``; False when someone else moved it first."""
        ...
