"""Storage rows of the console's sign-in: local accounts, passkeys and browser sessions.

Same ``Base`` (and so the same metadata) as ``tables``. An account belongs to an operator (any tenant
they serve) or to a person of one tenant (the employee portal); ``login`` is unique and lower case.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Boolean, Index, Integer, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

from deskguard.adapters.db.tables import HASH, ID, NAME, Base


class ConsoleAccountRow(Base):
    __tablename__ = "console_accounts"
    id: Mapped[str] = mapped_column(ID, primary_key=True)
    login: Mapped[str] = mapped_column(String(320), unique=True)
    subject_kind: Mapped[str] = mapped_column(String(16))
    subject_id: Mapped[str] = mapped_column(ID)
    tenant_id: Mapped[str | None] = mapped_column(ID)
    password_hash: Mapped[str] = mapped_column(String(200))
    totp_seed: Mapped[bytes | None] = mapped_column(LargeBinary)  # sealed by the SecretBox
    totp_last_step: Mapped[int | None] = mapped_column(BigInteger)  # the last accepted: no replay
    failed_attempts: Mapped[int] = mapped_column(Integer)
    locked_until: Mapped[datetime | None]
    disabled: Mapped[bool] = mapped_column(Boolean)
    created_at: Mapped[datetime]
    password_changed_at: Mapped[datetime]


class ConsolePasskeyRow(Base):
    __tablename__ = "console_passkeys"
    __table_args__ = (Index("ix_console_passkeys_account", "account_id"),)
    credential_id: Mapped[str] = mapped_column(String(400), primary_key=True)  # base64url
    account_id: Mapped[str] = mapped_column(ID)
    public_key: Mapped[bytes] = mapped_column(LargeBinary)  # COSE key
    sign_count: Mapped[int] = mapped_column(BigInteger)
    label: Mapped[str] = mapped_column(NAME)
    created_at: Mapped[datetime]


class ConsoleSessionRow(Base):
    __tablename__ = "console_sessions"
    __table_args__ = (Index("ix_console_sessions_account", "account_id"),)
    id: Mapped[str] = mapped_column(ID, primary_key=True)
    token_hash: Mapped[str] = mapped_column(HASH, unique=True)
    account_id: Mapped[str] = mapped_column(ID)
    stage: Mapped[str] = mapped_column(String(16))  # "password" (second factor pending) or "full"
    created_at: Mapped[datetime]
    last_seen_at: Mapped[datetime]
    expires_at: Mapped[datetime]  # the absolute timeout
    revoked_at: Mapped[datetime | None]
    client_ip: Mapped[str] = mapped_column(String(64))
    user_agent: Mapped[str] = mapped_column(String(200))
    challenge: Mapped[str | None] = mapped_column(String(100))  # the pending WebAuthn ceremony's
