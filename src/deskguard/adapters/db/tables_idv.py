"""Storage rows of the person's identity-check links (``domain.ports_idv``). Same ``Base`` (and so
the same metadata) as ``tables``; split from it by capability.

One row per ``external_idv`` proof: the vendor's person-facing URL, sealed by the ``SecretBox``
(never in clear at rest), and who may see it (the request's target, in the portal)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKeyConstraint, Index, LargeBinary
from sqlalchemy.orm import Mapped, mapped_column

from deskguard.adapters.db.tables import ID, Base


class IdvLinkRow(Base):
    __tablename__ = "idv_links"
    __table_args__ = (
        ForeignKeyConstraint(["tenant_id", "proof_id"], ["proofs.tenant_id", "proofs.id"]),
        Index("ix_idv_links_person", "tenant_id", "person_id"),
    )
    tenant_id: Mapped[str] = mapped_column(ID, primary_key=True)
    proof_id: Mapped[str] = mapped_column(ID, primary_key=True)
    person_id: Mapped[str] = mapped_column(ID)
    sealed_url: Mapped[bytes] = mapped_column(LargeBinary)  # AES-GCM, context idv_link:<tenant>:<proof>
    created_at: Mapped[datetime]
    expires_at: Mapped[datetime]
