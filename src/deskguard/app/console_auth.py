"""Signing in to the console: a password (argon2id) then a second factor (TOTP or a passkey).

The rules, each chosen for the people who use the console (docs/adr/0011-console.md):

- Two steps. The password opens a *half* session (``stage="password"``, five minutes) that can do one
  thing: give the second factor. Only then is the session ``full``.
- Five wrong passwords or codes in a row lock the account for fifteen minutes; an administrator can
  also lock it (``disabled``), which signs it out everywhere. A locked account is refused with the same
  words as a wrong password until the password is right, so the lock tells an attacker nothing new.
- A session ends after ``idle`` without activity (30 minutes: an agent's call plus its wrap-up) and
  in any case ``absolute`` after it began (10 hours: one shift). "Sign out everywhere" revokes every
  session of the account.
- The cookie holds a random token; only its keyed hash is stored. The CSRF token of a session is a
  MAC of that token, so it needs no storage and dies with the session.
- The account grants nothing by itself: the operator's role and tenants (or the person's tenant) are
  read afresh through ``app.auth.resolve_subject`` on every request.
"""

from __future__ import annotations

import hmac
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

import structlog
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from deskguard.app.access import require_operator
from deskguard.app.auth import resolve_subject
from deskguard.app.context import AppContext
from deskguard.domain.errors import Conflict, Forbidden, NotFound, Unauthenticated, ValidationFailed
from deskguard.domain.events import Actor
from deskguard.domain.model import OperatorRole
from deskguard.domain.otp import match_totp
from deskguard.domain.ports import UnitOfWork
from deskguard.domain.ports_console import ConsoleAccount, ConsoleSession

log = structlog.get_logger("deskguard.console")

MAX_FAILURES = 5
LOCK_FOR = timedelta(minutes=15)
HALF_SESSION = timedelta(minutes=5)
MIN_PASSWORD = 12
TOTP_CONTEXT = "console-totp"
_HASHER = PasswordHasher()  # argon2id, the library's RFC 9106 low-memory profile
# Checked when the login is unknown, so that an unknown login costs the same time as a known one.
_DECOY = _HASHER.hash("deskguard decoy password")
REFUSED = "wrong login, password or code"
ADMINS = frozenset({OperatorRole.ADMIN})


@dataclass(frozen=True, slots=True)
class Timeouts:
    idle: timedelta = timedelta(minutes=30)
    absolute: timedelta = timedelta(hours=10)


@dataclass(frozen=True, slots=True)
class SignedIn:
    """A session as the transport needs it: the clear token goes into the cookie, once."""

    token: str
    session: ConsoleSession
    account: ConsoleAccount


@dataclass(frozen=True, slots=True)
class Viewer:
    """Who is looking at a console page: the account, its session, and the actor it stands for."""

    account: ConsoleAccount
    session: ConsoleSession
    actor: Actor


def hash_password(password: str) -> str:
    if len(password) < MIN_PASSWORD:
        raise ValidationFailed(f"a password has at least {MIN_PASSWORD} characters", field="password")
    return _HASHER.hash(password)


def create_account(
    ctx: AppContext,
    uow: UnitOfWork,
    *,
    login: str,
    subject_kind: str,
    subject_id: str,
    tenant_id: str | None,
    password_hash: str,
    totp_seed: bytes | None,
) -> ConsoleAccount:
    """An account for an operator or a person, with its password's hash (``hash_password``) and its
    TOTP seed (sealed here)."""
    if subject_kind not in ("operator", "person"):
        raise ValidationFailed("subject_kind is 'operator' or 'person'", field="subject_kind")
    if subject_kind == "person" and not tenant_id:
        raise ValidationFailed("a person's account names their tenant", field="tenant_id")
    now = ctx.clock.now()
    account = ConsoleAccount(
        id=ctx.random.new_id("cac"),
        login=login.strip().lower(),
        subject_kind=subject_kind,
        subject_id=subject_id,
        tenant_id=tenant_id if subject_kind == "person" else None,
        password_hash=password_hash,
        totp_seed=ctx.secrets.seal(totp_seed, context=TOTP_CONTEXT) if totp_seed else None,
        created_at=now,
        password_changed_at=now,
    )
    uow.console_accounts.add(account)
    return account


def _session_hash(ctx: AppContext, token: str) -> str:
    return ctx.secrets.mac(token, context="console-session")


def csrf_token(ctx: AppContext, token: str) -> str:
    """The CSRF token of the session whose cookie value is ``token``."""
    return ctx.secrets.mac(token, context="console-csrf")


def check_csrf(ctx: AppContext, *, token: str, sent: str) -> bool:
    return bool(sent) and hmac.compare_digest(csrf_token(ctx, token), sent)


def is_locked(account: ConsoleAccount, now: datetime) -> bool:
    return account.disabled or (account.locked_until is not None and account.locked_until > now)


def count_failure(uow: UnitOfWork, account: ConsoleAccount, now: datetime) -> None:
    """One more wrong password, code or passkey; the fifth in a row locks the account. An account
    already locked counts nothing more (its lock does not grow with each try)."""
    if is_locked(account, now):
        return
    failures = account.failed_attempts + 1
    locked_until = now + LOCK_FOR if failures >= MAX_FAILURES else account.locked_until
    uow.console_accounts.update(replace(account, failed_attempts=failures, locked_until=locked_until))
    if failures >= MAX_FAILURES:
        log.warning("console.account_locked", account=account.id, until=locked_until.isoformat())


def sign_in_password(
    ctx: AppContext, *, login: str, password: str, client_ip: str = "", user_agent: str = ""
) -> SignedIn:
    """Step one. Raises Unauthenticated with one message for every refusal."""
    now = ctx.clock.now()
    with ctx.uow() as uow:
        account = uow.console_accounts.get_by_login(login.strip().lower()) if login else None
        try:
            _HASHER.verify(account.password_hash if account else _DECOY, password)
            valid = account is not None
        except (VerificationError, InvalidHashError):
            valid = False
        if account is None:
            raise Unauthenticated(REFUSED)
        if not valid or is_locked(account, now):
            count_failure(uow, account, now)
            uow.commit()
            log.info("console.sign_in_refused", account=account.id, locked=is_locked(account, now))
            raise Unauthenticated(REFUSED)
        resolve_subject(
            uow, subject_kind=account.subject_kind, subject_id=account.subject_id, tenant_id=account.tenant_id
        )
        signed = open_session(ctx, uow, account, stage="password", client_ip=client_ip, user_agent=user_agent)
        uow.commit()
    return signed


def open_session(
    ctx: AppContext,
    uow: UnitOfWork,
    account: ConsoleAccount,
    *,
    stage: str,
    client_ip: str,
    user_agent: str,
    absolute: timedelta = HALF_SESSION,
) -> SignedIn:
    now, token = ctx.clock.now(), "dg_cs_" + ctx.random.token(32)
    session = ConsoleSession(
        id=ctx.random.new_id("css"),
        token_hash=_session_hash(ctx, token),
        account_id=account.id,
        stage=stage,
        created_at=now,
        last_seen_at=now,
        expires_at=now + (HALF_SESSION if stage == "password" else absolute),
        client_ip=client_ip[:64],
        user_agent=user_agent[:200],
    )
    uow.console_sessions.add(session)
    return SignedIn(token=token, session=session, account=account)


def half_of(
    uow: UnitOfWork, ctx: AppContext, token: str, now: datetime
) -> tuple[ConsoleSession, ConsoleAccount]:
    session = uow.console_sessions.find(_session_hash(ctx, token))
    if session is None or session.stage != "password" or session.revoked_at or session.expires_at <= now:
        raise Unauthenticated("sign in again: the first step has expired")
    account = uow.console_accounts.get(session.account_id)
    if account is None:
        raise Unauthenticated(REFUSED)
    return session, account


def has_totp(account: ConsoleAccount) -> bool:
    return account.totp_seed is not None


def sign_in_totp(ctx: AppContext, *, token: str, code: str, timeouts: Timeouts = Timeouts()) -> SignedIn:
    """Step two with a TOTP code: the half session is replaced by a full one (a new token)."""
    now = ctx.clock.now()
    with ctx.uow() as uow:
        session, account = half_of(uow, ctx, token, now)
        step = None
        if account.totp_seed is not None and not is_locked(account, now):
            seed = ctx.secrets.open(account.totp_seed, context=TOTP_CONTEXT)
            step = match_totp(seed, code.strip(), unix_time=now.timestamp())
        if step is None or not uow.console_accounts.accept_totp_step(account_id=account.id, step=step):
            count_failure(uow, account, now)
            uow.commit()
            raise Unauthenticated(REFUSED)
        signed = complete(ctx, uow, session, account, timeouts=timeouts)
        uow.commit()
    return signed


def complete(
    ctx: AppContext, uow: UnitOfWork, half: ConsoleSession, account: ConsoleAccount, *, timeouts: Timeouts
) -> SignedIn:
    """The second factor was given (TOTP here, a passkey in ``console_passkeys``): a new full session.
    A new token, so that a token seen before the second factor (a fixation) is worth nothing after."""
    now = ctx.clock.now()
    uow.console_sessions.update(replace(half, revoked_at=now))
    uow.console_accounts.update(replace(account, failed_attempts=0, locked_until=None))
    signed = open_session(
        ctx,
        uow,
        account,
        stage="full",
        client_ip=half.client_ip,
        user_agent=half.user_agent,
        absolute=timeouts.absolute,
    )
    log.info("console.signed_in", account=account.id, session=signed.session.id)
    return signed


def half_session(ctx: AppContext, *, token: str) -> tuple[ConsoleSession, ConsoleAccount]:
    """The half session a second-factor page belongs to (for the passkey step and the page itself)."""
    with ctx.reads() as uow:
        return half_of(uow, ctx, token, ctx.clock.now())


def viewer(
    ctx: AppContext, *, token: str, timeouts: Timeouts = Timeouts(), client_ip: str = "", user_agent: str = ""
) -> Viewer:
    """The full session behind a cookie, touched; raises Unauthenticated when it has ended."""
    now = ctx.clock.now()
    with ctx.uow() as uow:
        session = uow.console_sessions.find(_session_hash(ctx, token))
        if session is None or session.stage != "full" or session.revoked_at is not None:
            raise Unauthenticated("signed out")
        if session.expires_at <= now or session.last_seen_at + timeouts.idle <= now:
            uow.console_sessions.update(replace(session, revoked_at=now))
            uow.commit()
            raise Unauthenticated("your session has ended; sign in again")
        account = uow.console_accounts.get(session.account_id)
        if account is None or account.disabled:
            raise Unauthenticated("this account is locked")
        actor = resolve_subject(
            uow, subject_kind=account.subject_kind, subject_id=account.subject_id, tenant_id=account.tenant_id
        )
        if (now - session.last_seen_at).total_seconds() >= 30:  # one write per half-minute, not per click
            session = replace(session, last_seen_at=now)
            uow.console_sessions.update(session)
            uow.commit()
    return Viewer(
        account=account,
        session=session,
        actor=replace(actor, client_ip=client_ip, user_agent=user_agent[:200]),
    )


def sign_out(ctx: AppContext, *, token: str, everywhere: bool = False) -> int:
    """End this session (or every session of its account); returns how many ended."""
    now = ctx.clock.now()
    with ctx.uow() as uow:
        session = uow.console_sessions.find(_session_hash(ctx, token))
        if session is None:
            return 0
        if everywhere:
            ended = uow.console_sessions.revoke_all(account_id=session.account_id, at=now)
        else:
            ended = 0 if session.revoked_at else 1
            uow.console_sessions.update(replace(session, revoked_at=session.revoked_at or now))
        uow.commit()
    log.info("console.signed_out", account=session.account_id, sessions=ended, everywhere=everywhere)
    return ended


def set_locked(ctx: AppContext, *, actor: Actor, account_id: str, locked: bool) -> ConsoleAccount:
    """An administrator locks (and signs out everywhere) or unlocks an account of a tenant they serve:
    a person's account of that tenant, or an operator's who serves one of the administrator's tenants."""
    with ctx.uow() as uow:
        account = uow.console_accounts.get(account_id)
        if account is None:
            raise NotFound(f"no console account {account_id!r}")
        if account.tenant_id is not None:
            tenants = {account.tenant_id}
        else:
            operator = uow.operators.get(account.subject_id)
            tenants = set(operator.tenant_ids) if operator else set()
        shared = sorted(tenants & set(actor.tenant_ids))
        if not shared:
            raise Forbidden("this account belongs to no tenant you administer")
        require_operator(actor, tenant_id=shared[0], roles=ADMINS)
        account = replace(account, disabled=locked, failed_attempts=0, locked_until=None)
        uow.console_accounts.update(account)
        if locked:
            uow.console_sessions.revoke_all(account_id=account.id, at=ctx.clock.now())
        uow.commit()
    log.info("console.account_lock", account=account.id, locked=locked, by=actor.id)
    return account


@dataclass(frozen=True, slots=True)
class Enrolment:
    """A new or reset account's first credentials: shown once to whoever runs the enrolment."""

    account: ConsoleAccount
    password: str
    totp_seed: bytes


def _new_seed(ctx: AppContext) -> bytes:
    """A 160-bit TOTP seed (RFC 4226's recommended length)."""
    return bytes(ctx.random.randbelow(256) for _ in range(20))


def enrol(
    ctx: AppContext, *, login: str, subject_kind: str, subject_id: str, tenant_id: str | None
) -> Enrolment:
    """Create the console account of an existing operator or person, with a random password and TOTP
    seed (the server's administrator hands them over; the person changes neither here)."""
    password, seed = ctx.random.token(18), _new_seed(ctx)
    with ctx.uow() as uow:
        known = (
            uow.operators.get(subject_id)
            if subject_kind == "operator"
            else uow.persons.get(tenant_id=tenant_id or "", person_id=subject_id)
        )
        if known is None:
            raise NotFound(f"no {subject_kind} {subject_id!r}" + (f" in {tenant_id}" if tenant_id else ""))
        resolve_subject(uow, subject_kind=subject_kind, subject_id=subject_id, tenant_id=tenant_id)
        if uow.console_accounts.for_subject(subject_kind=subject_kind, subject_id=subject_id) is not None:
            raise Conflict(f"{subject_kind} {subject_id} already has a console account; reset it instead")
        account = create_account(
            ctx,
            uow,
            login=login,
            subject_kind=subject_kind,
            subject_id=subject_id,
            tenant_id=tenant_id,
            password_hash=hash_password(password),
            totp_seed=seed,
        )
        uow.commit()
    log.info("console.account_enrolled", account=account.id, subject=subject_id)
    return Enrolment(account=account, password=password, totp_seed=seed)


def reset_credentials(ctx: AppContext, *, login: str) -> Enrolment:
    """A new random password and TOTP seed for an account, which is unlocked and signed out everywhere
    (a lost authenticator, a forgotten password: the server's administrator re-enrols the person)."""
    password, seed = ctx.random.token(18), _new_seed(ctx)
    now = ctx.clock.now()
    with ctx.uow() as uow:
        account = uow.console_accounts.get_by_login(login.strip().lower())
        if account is None:
            raise NotFound(f"no console account signs in as {login!r}")
        account = replace(
            account,
            password_hash=hash_password(password),
            totp_seed=ctx.secrets.seal(seed, context=TOTP_CONTEXT),
            failed_attempts=0,
            locked_until=None,
            disabled=False,
            password_changed_at=now,
        )
        uow.console_accounts.update(account)
        uow.console_sessions.revoke_all(account_id=account.id, at=now)
        uow.commit()
    log.info("console.credentials_reset", account=account.id)
    return Enrolment(account=account, password=password, totp_seed=seed)
