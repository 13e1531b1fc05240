"""The triage ports (``detection.triage``, ``app.triage``): cases, verdicts, each tenant's model.

Part of ``deskguard.domain.ports`` (which re-exports them and names them on the ``UnitOfWork``);
kept apart so that no ports module grows past the house's 600 lines. Tenant-scoped by signature.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Protocol

from deskguard.detection.alerts import Alert
from deskguard.detection.triage import Case, CaseStatus, TriageModel, VerdictRecord


class CaseRepository(Protocol):
    def get(self, *, tenant_id: str, case_id: str) -> Case | None: ...

    def add(self, case: Case) -> None: ...

    def update(self, case: Case) -> None: ...  # replaces the stored case of the same id

    def update_priorities(
        self, *, tenant_id: str, ranks: Sequence[tuple[str, float, tuple[str, ...]]]
    ) -> None:
        """(case id, priority, explanation) of many cases at once: a re-rank after a retraining."""
        ...

    def find_open(self, *, tenant_id: str, entity_kind: str, entity: str) -> Sequence[Case]: ...

    def list(self, *, tenant_id: str, status: CaseStatus | None = None, limit: int = 100) -> Sequence[Case]:
        """In queue order: priority, then the latest activity, then the id."""
        ...

    def link(self, *, tenant_id: str, alert_id: str, case_id: str) -> None: ...  # once per alert

    def case_of(self, *, tenant_id: str, alert_id: str) -> str | None: ...

    def alerts(self, *, tenant_id: str, case_ids: Sequence[str]) -> dict[str, list[Alert]]:
        """The alerts filed into each of these cases (first seen first)."""
        ...


class VerdictRepository(Protocol):
    def put(self, verdict: VerdictRecord) -> VerdictRecord | None:
        """Store the alert's verdict; returns the verdict it replaced, if any."""
        ...

    def get(self, *, tenant_id: str, alert_id: str) -> VerdictRecord | None: ...

    def for_cases(self, *, tenant_id: str, case_ids: Sequence[str]) -> Sequence[VerdictRecord]: ...

    def training(self, *, tenant_id: str, limit: int) -> Sequence[tuple[VerdictRecord, Alert, Case]]:
        """The newest ``limit`` verdicts with their alert and case: what the model learns from."""
        ...


class TriageModelRepository(Protocol):
    def get(self, *, tenant_id: str) -> TriageModel | None: ...

    def put(self, *, tenant_id: str, model: TriageModel, updated_at: datetime) -> None: ...
