"""The console's sign-in state: local accounts, passkeys and browser sessions (storage ports).

An account is a way to sign in to the console, for an operator (``subject_kind="operator"``) or for
a person of one tenant (the employee portal, ``"person"``). It never grants anything by itself: the
operator's role and tenants, or the person's tenant, are read afresh on every request. A session is
stored only as the keyed hash of its cookie value; ``stage`` is ``"password"`` while the second factor
is still owed, ``"full"`` once it was given.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol


@dataclass(frozen=True, slots=True, kw_only=True)
class ConsoleAccount:
    id: str
    login: str  # lower case: the operator's username or the person's e-mail
    subject_kind: str  # "operator" | "person"
    subject_id: str
    tenant_id: str | None  # the person's tenant; None for an operator
    password_hash: str  # argon2id, PHC string
    totp_seed: bytes | None  # sealed by the SecretBox (context "console-totp")
    failed_attempts: int = 0
    locked_until: datetime | None = None
    disabled: bool = False  # locked by an administrator
    created_at: datetime
    password_changed_at: datetime


@dataclass(frozen=True, slots=True, kw_only=True)
class Passkey:
    credential_id: str  # base64url
    account_id: str
    public_key: bytes  # COSE
    sign_count: int
    label: str
    created_at: datetime


@dataclass(frozen=True, slots=True, kw_only=True)
class ConsoleSession:
    id: str
    token_hash: str
    account_id: str
    stage: str  # "password" | "full"
    created_at: datetime
    last_seen_at: datetime
    expires_at: datetime  # absolute timeout
    revoked_at: datetime | None = None
    client_ip: str = ""
    user_agent: str = ""


class ConsoleAccountRepository(Protocol):
    def get(self, account_id: str) -> ConsoleAccount | None: ...

    def get_by_login(self, login: str) -> ConsoleAccount | None: ...

    def for_subject(self, *, subject_kind: str, subject_id: str) -> ConsoleAccount | None: ...

    def add(self, account: ConsoleAccount) -> None: ...

    def update(self, account: ConsoleAccount) -> None: ...

    def accept_totp_step(self, *, account_id: str, step: int) -> bool:
        """Record ``step`` as used if it is later than the last one accepted; False for a replay."""
        ...


class PasskeyRepository(Protocol):
    def get(self, credential_id: str) -> Passkey | None: ...

    def list_for(self, account_id: str) -> Sequence[Passkey]: ...

    def add(self, passkey: Passkey) -> None: ...

    def update_sign_count(self, *, credential_id: str, sign_count: int) -> None: ...


class ConsoleSessionRepository(Protocol):
    def find(self, token_hash: str) -> ConsoleSession | None: ...

    def add(self, session: ConsoleSession) -> None: ...

    def update(self, session: ConsoleSession) -> None: ...

    def revoke_all(self, *, account_id: str, at: datetime) -> int:
        """Revoke every live session of the account; returns how many."""
        ...

    def set_challenge(self, *, session_id: str, challenge: str) -> None:
        """The session's pending WebAuthn challenge (replacing any earlier one)."""
        ...

    def take_challenge(self, *, session_id: str) -> str | None:
        """The pending challenge, cleared in the same statement: each is good once; None if none."""
        ...
