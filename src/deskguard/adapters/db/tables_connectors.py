"""ORM row of per-tenant connector settings (``domain.connectors``). Same ``Base`` (and so the same
metadata) as ``tables.py``; migration 0011 creates it."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, String
from sqlalchemy.orm import Mapped, mapped_column

from deskguard.adapters.db.tables import CODE, ID, Base


class TenantConnectorRow(Base):
    __tablename__ = "tenant_connectors"

    tenant_id: Mapped[str] = mapped_column(ID, primary_key=True)
    name: Mapped[str] = mapped_column(String(40), primary_key=True)  # the port: idp, notify.email...
    kind: Mapped[str] = mapped_column(CODE)  # the adapter: ldap, okta...
    settings: Mapped[dict[str, Any]] = mapped_column(JSON)  # secrets as references only
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    updated_at: Mapped[datetime]
    updated_by: Mapped[str] = mapped_column(ID)
