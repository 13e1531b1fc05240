"""A runbook step as deskguard stores it: what it will do, where it stands, who approved it.

A runbook run (``app.respond``) stores one ``ResponseStep`` per step of the runbook, then runs the
ones it may run at once. The stored row is what the approval API lists and what the responder
worker retries, so each row carries everything its execution needs (the person, the resolved
parameters: a notification's rendered text, the ticket to comment).

Statuses::

    running ──► done | failed | retrying ──► running ...   (retrying: a connector timed out)
    awaiting_approval ──► running (approved) | refused     (destructive steps)
    dry_run, skipped                                       (recorded, never acted)

``running`` is held under a lease (``next_attempt_at``): a step whose process died mid-call is due
again once the lease ends, and its idempotency key (run and step) keeps the retry from acting twice.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any


class StepStatus(StrEnum):
    RUNNING = "running"
    RETRYING = "retrying"
    AWAITING_APPROVAL = "awaiting_approval"
    DONE = "done"
    FAILED = "failed"
    REFUSED = "refused"
    DRY_RUN = "dry_run"
    SKIPPED = "skipped"


#: Statuses the responder worker picks up once ``next_attempt_at`` has passed.
DUE_STATUSES = frozenset({StepStatus.RUNNING, StepStatus.RETRYING})
FINAL_STATUSES = frozenset(
    {StepStatus.DONE, StepStatus.FAILED, StepStatus.REFUSED, StepStatus.DRY_RUN, StepStatus.SKIPPED}
)


@dataclass(frozen=True, slots=True, kw_only=True)
class ResponseStep:
    tenant_id: str
    run_id: str
    index: int  # the step's position in its runbook
    runbook_id: str
    alert_id: str
    rule_id: str
    person_id: str | None  # None when the alert names no person of the directory
    kind: str  # a step kind of ``detection.runbooks.STEP_KINDS``
    params: dict[str, Any] = field(default_factory=dict)  # resolved: nothing left to look up
    approval: bool = False  # waits for an analyst's or admin's approval before it acts
    status: StepStatus = StepStatus.RUNNING
    attempts: int = 0  # connector calls made (or started) so far
    next_attempt_at: datetime | None = None  # due time (retrying) or end of the lease (running)
    approver_id: str | None = None  # who approved or refused it
    comment: str = ""  # the approver's comment
    detail: str = ""  # what the last attempt said
    created_at: datetime
    updated_at: datetime
    decided_at: datetime | None = None

    @classmethod
    def for_request(
        cls,
        *,
        tenant_id: str,
        person_id: str | None,
        run_id: str,
        index: int,
        runbook_id: str,
        kind: str,
        params: dict[str, Any],
        now: datetime,
    ) -> ResponseStep:
        """A step deskguard queues about a helpdesk request (no alert, no rule): not claimed yet, no
        attempt made, due at once for the responder worker."""
        return cls(
            tenant_id=tenant_id,
            run_id=run_id,
            index=index,
            runbook_id=runbook_id,
            alert_id="",
            rule_id="",
            person_id=person_id,
            kind=kind,
            params=params,
            status=StepStatus.RUNNING,
            attempts=0,
            next_attempt_at=now,
            detail="queued for the responder worker",
            created_at=now,
            updated_at=now,
        )

    @property
    def idempotency_key(self) -> str:
        """The same for every attempt: a retry after a lost answer cannot act twice."""
        return f"{self.run_id}:{self.index}"
