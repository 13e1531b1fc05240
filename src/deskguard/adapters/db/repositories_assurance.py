"""Provider assurance storage (``domain.assurance.AssuranceRepository``), every read scoped by tenant."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from sqlalchemy import select

from deskguard.adapters.db.repositories_people import SqlRepository
from deskguard.adapters.db.tables_assurance import AssessmentRow, EvidenceRow
from deskguard.domain.assurance import Assessment, Evidence, ItemStatus

_META = (
    EvidenceRow.id,
    EvidenceRow.tenant_id,
    EvidenceRow.provider_id,
    EvidenceRow.item_id,
    EvidenceRow.name,
    EvidenceRow.media_type,
    EvidenceRow.size,
    EvidenceRow.sha256,
    EvidenceRow.attached_by,
    EvidenceRow.attached_at,
)


class SqlAssuranceRepository(SqlRepository):
    def assessments(self, *, tenant_id: str, provider_id: str) -> Mapping[str, Assessment]:
        rows = self._all(
            select(AssessmentRow).where(
                AssessmentRow.tenant_id == tenant_id, AssessmentRow.provider_id == provider_id
            )
        )
        return {
            r.item_id: Assessment(
                tenant_id=r.tenant_id,
                provider_id=r.provider_id,
                item_id=r.item_id,
                status=ItemStatus(r.status),
                note=r.note,
                reviewer_id=r.reviewer_id,
                reviewed_at=r.reviewed_at,
                review_due=r.review_due,
            )
            for r in rows
        }

    def put_assessment(self, assessment: Assessment) -> None:
        key = (assessment.tenant_id, assessment.provider_id, assessment.item_id)
        row = self._s.get(AssessmentRow, key)
        if row is None:
            row = AssessmentRow(tenant_id=key[0], provider_id=key[1], item_id=key[2])
            self._s.add(row)
        row.status = assessment.status.value
        row.note = assessment.note
        row.reviewer_id = assessment.reviewer_id
        row.reviewed_at = assessment.reviewed_at
        row.review_due = assessment.review_due
        self._s.flush()

    def add_evidence(self, evidence: Evidence, content: bytes) -> None:
        self._s.add(
            EvidenceRow(
                id=evidence.id,
                tenant_id=evidence.tenant_id,
                provider_id=evidence.provider_id,
                item_id=evidence.item_id,
                name=evidence.name,
                media_type=evidence.media_type,
                size=evidence.size,
                sha256=evidence.sha256,
                content=content,
                attached_by=evidence.attached_by,
                attached_at=evidence.attached_at,
            )
        )
        self._s.flush()

    def evidence(self, *, tenant_id: str, provider_id: str) -> Sequence[Evidence]:
        stmt = (
            select(*_META)
            .where(EvidenceRow.tenant_id == tenant_id, EvidenceRow.provider_id == provider_id)
            .order_by(EvidenceRow.attached_at, EvidenceRow.id)
        )
        return [Evidence(**row._asdict()) for row in self._s.execute(stmt)]

    def evidence_content(self, *, tenant_id: str, evidence_id: str) -> tuple[Evidence, bytes] | None:
        stmt = select(*_META, EvidenceRow.content).where(
            EvidenceRow.tenant_id == tenant_id, EvidenceRow.id == evidence_id
        )
        row = self._s.execute(stmt).first()
        if row is None:
            return None
        fields = row._asdict()
        content = fields.pop("content")
        return Evidence(**fields), bytes(content)
