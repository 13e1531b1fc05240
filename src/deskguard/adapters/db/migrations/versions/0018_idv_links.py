"""The person's identity-check links, sealed (domain.ports_idv, app.verification_idv).

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-06
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0018"
down_revision: str | None = "0017"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "idv_links",
        sa.Column("tenant_id", sa.String(length=64), nullable=False),
        sa.Column("proof_id", sa.String(length=64), nullable=False),
        sa.Column("person_id", sa.String(length=64), nullable=False),
        sa.Column("sealed_url", sa.LargeBinary(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("expires_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id", "proof_id"],
            ["proofs.tenant_id", "proofs.id"],
            name=op.f("fk_idv_links_tenant_id_proofs"),
        ),
        sa.PrimaryKeyConstraint("tenant_id", "proof_id", name=op.f("pk_idv_links")),
    )
    op.create_index("ix_idv_links_person", "idv_links", ["tenant_id", "person_id"])


def downgrade() -> None:
    op.drop_index("ix_idv_links_person", table_name="idv_links")
    op.drop_table("idv_links")
