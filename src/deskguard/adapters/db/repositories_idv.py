"""The person's identity-check links (``domain.ports_idv``), scoped by tenant.

``pending_for_person`` joins the proofs: a link is shown only while its proof is pending and both
the proof and the link are unexpired, so a decided or lapsed check disappears from the portal
without a second write.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import and_, insert, select

from deskguard.adapters.db.repositories_people import SqlRepository
from deskguard.adapters.db.tables import ProofRow
from deskguard.adapters.db.tables_idv import IdvLinkRow
from deskguard.domain.ports_idv import IdvLink
from deskguard.domain.requests import ProofStatus


def _link(row: IdvLinkRow) -> IdvLink:
    return IdvLink(
        tenant_id=row.tenant_id,
        proof_id=row.proof_id,
        person_id=row.person_id,
        sealed_url=row.sealed_url,
        created_at=row.created_at,
        expires_at=row.expires_at,
    )


class SqlIdvLinkRepository(SqlRepository):
    def add(self, link: IdvLink) -> None:
        self._s.execute(
            insert(IdvLinkRow).values(
                tenant_id=link.tenant_id,
                proof_id=link.proof_id,
                person_id=link.person_id,
                sealed_url=link.sealed_url,
                created_at=link.created_at,
                expires_at=link.expires_at,
            )
        )

    def get(self, *, tenant_id: str, proof_id: str) -> IdvLink | None:
        row = self._first(
            select(IdvLinkRow).where(IdvLinkRow.tenant_id == tenant_id, IdvLinkRow.proof_id == proof_id)
        )
        return None if row is None else _link(row)

    def pending_for_person(self, *, tenant_id: str, person_id: str, now: datetime) -> Sequence[IdvLink]:
        stmt = (
            select(IdvLinkRow)
            .join(
                ProofRow,
                and_(ProofRow.tenant_id == IdvLinkRow.tenant_id, ProofRow.id == IdvLinkRow.proof_id),
            )
            .where(
                IdvLinkRow.tenant_id == tenant_id,
                IdvLinkRow.person_id == person_id,
                IdvLinkRow.expires_at > now,
                ProofRow.status == ProofStatus.PENDING.value,
                ProofRow.expires_at > now,
            )
            .order_by(IdvLinkRow.created_at, IdvLinkRow.proof_id)
        )
        return [_link(r) for r in self._all(stmt)]
