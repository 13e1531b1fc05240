"""Passkeys (WebAuthn) for the console: register one on a full session, sign in with one.

The ceremonies follow WebAuthn Level 2 through py_webauthn, with these choices:

- The relying party is the console as the browser reaches it: ``rp_id`` is the request's host and the
  response's origin must be exactly the console's origin (scheme, host, port).
- User verification is required, both to register and to sign in: the passkey is then a second and a
  first factor at once (something held, unlocked by a PIN or a fingerprint), which is why a passkey
  alone completes the sign-in after the password, with or without TOTP.
- Each challenge is random, stored on the session that asked for it (the half session when signing
  in, the full session when registering) and taken when the response is verified: good once, for that
  session only, and never past the session's own end.
- The signature counter must grow whenever the authenticator keeps one (non-zero): a counter that
  does not grow means a cloned key, and the sign-in is refused. Synced passkeys report zero; for them
  the check does not apply (WebAuthn §6.1.1).
- A failed passkey sign-in counts toward the account's lockout like a wrong TOTP code.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass

import structlog
from webauthn import (
    base64url_to_bytes,
    generate_authentication_options,
    generate_registration_options,
    options_to_json,
    verify_authentication_response,
    verify_registration_response,
)
from webauthn.authentication.verify_authentication_response import VerifiedAuthentication
from webauthn.helpers import bytes_to_base64url
from webauthn.helpers.exceptions import WebAuthnException
from webauthn.helpers.structs import (
    AuthenticatorSelectionCriteria,
    PublicKeyCredentialDescriptor,
    ResidentKeyRequirement,
    UserVerificationRequirement,
)

from deskguard.app.console_auth import (
    REFUSED,
    SignedIn,
    Timeouts,
    Viewer,
    complete,
    count_failure,
    half_of,
    is_locked,
)
from deskguard.app.context import AppContext
from deskguard.domain.errors import Unauthenticated, ValidationFailed
from deskguard.domain.ports_console import Passkey

log = structlog.get_logger("deskguard.console")

RP_NAME = "deskguard console"
TIMEOUT_MS = 120_000
MAX_LABEL = 60
MAX_RESPONSE = 16_384  # bytes of the browser's JSON: an attestation with certificates fits


@dataclass(frozen=True, slots=True, kw_only=True)
class RelyingParty:
    """The console as the browser sees it: ``id`` the host, ``origin`` scheme://host[:port]."""

    id: str
    origin: str

    def __post_init__(self) -> None:
        if not self.id or self.id.replace(".", "").isdigit() or ":" in self.id:
            # WebAuthn refuses IP addresses as relying-party ids: reach the console by name (localhost).
            raise ValidationFailed(
                f"passkeys need the console to be reached by a host name, not {self.id or 'nothing'!r}",
                field="host",
            )


def _challenge(ctx: AppContext) -> str:
    return ctx.random.token(32)


def _credential(response_json: str, *, kind: str) -> dict[str, object]:
    if len(response_json.encode()) > MAX_RESPONSE:
        raise ValidationFailed(f"the {kind} is larger than {MAX_RESPONSE} bytes", field="credential")
    try:
        parsed = json.loads(response_json)
    except ValueError:
        raise ValidationFailed(f"the {kind} is not JSON", field="credential") from None
    if not isinstance(parsed, dict) or not isinstance(parsed.get("id"), str):
        raise ValidationFailed(f"the {kind} is not a WebAuthn credential (no id)", field="credential")
    return parsed


def passkeys_of(ctx: AppContext, *, seen: Viewer) -> Sequence[Passkey]:
    """The passkeys of the signed-in account, oldest first."""
    with ctx.reads() as uow:
        return uow.passkeys.list_for(seen.account.id)


def registration_options(ctx: AppContext, *, seen: Viewer, rp: RelyingParty) -> str:
    """The ``PublicKeyCredentialCreationOptions`` (JSON) for a new passkey of the signed-in account."""
    challenge = _challenge(ctx)
    with ctx.uow() as uow:
        existing = uow.passkeys.list_for(seen.account.id)
        options = generate_registration_options(
            rp_id=rp.id,
            rp_name=RP_NAME,
            user_name=seen.account.login,
            user_id=seen.account.id.encode(),
            challenge=challenge.encode(),
            timeout=TIMEOUT_MS,
            authenticator_selection=AuthenticatorSelectionCriteria(
                resident_key=ResidentKeyRequirement.PREFERRED,
                user_verification=UserVerificationRequirement.REQUIRED,
            ),
            exclude_credentials=[
                PublicKeyCredentialDescriptor(id=base64url_to_bytes(p.credential_id)) for p in existing
            ],
        )
        uow.console_sessions.set_challenge(session_id=seen.session.id, challenge=challenge)
        uow.commit()
    return options_to_json(options)


def register_passkey(
    ctx: AppContext, *, seen: Viewer, rp: RelyingParty, response_json: str, label: str
) -> Passkey:
    """Verify the browser's attestation against this session's challenge and store the passkey."""
    label = " ".join(label.split())[:MAX_LABEL] or "passkey"
    credential = _credential(response_json, kind="passkey registration")
    with ctx.uow() as uow:
        challenge = uow.console_sessions.take_challenge(session_id=seen.session.id)
        uow.commit()  # taken even if what follows fails: a challenge is good once
        if challenge is None:
            raise ValidationFailed("no passkey registration is pending: start again", field="credential")
        try:
            verified = verify_registration_response(
                credential=credential,
                expected_challenge=challenge.encode(),
                expected_rp_id=rp.id,
                expected_origin=rp.origin,
                require_user_verification=True,
            )
        except WebAuthnException as exc:
            raise ValidationFailed(f"the passkey was not accepted: {exc}", field="credential") from None
        passkey = Passkey(
            credential_id=bytes_to_base64url(verified.credential_id),
            account_id=seen.account.id,
            public_key=verified.credential_public_key,
            sign_count=verified.sign_count,
            label=label,
            created_at=ctx.clock.now(),
        )
        uow.passkeys.add(passkey)
        uow.commit()
    log.info("console.passkey_registered", account=seen.account.id, label=label)
    return passkey


def has_passkeys(ctx: AppContext, *, account_id: str) -> bool:
    with ctx.reads() as uow:
        return bool(uow.passkeys.list_for(account_id))


def authentication_options(ctx: AppContext, *, token: str, rp: RelyingParty) -> str:
    """The ``PublicKeyCredentialRequestOptions`` (JSON) for the half session behind ``token``: the
    account's own passkeys only, user verification required."""
    now, challenge = ctx.clock.now(), _challenge(ctx)
    with ctx.uow() as uow:
        half, account = half_of(uow, ctx, token, now)
        passkeys = uow.passkeys.list_for(account.id)
        if not passkeys:
            raise ValidationFailed("this account has no passkey: use the code", field="credential")
        options = generate_authentication_options(
            rp_id=rp.id,
            challenge=challenge.encode(),
            timeout=TIMEOUT_MS,
            allow_credentials=[
                PublicKeyCredentialDescriptor(id=base64url_to_bytes(p.credential_id)) for p in passkeys
            ],
            user_verification=UserVerificationRequirement.REQUIRED,
        )
        uow.console_sessions.set_challenge(session_id=half.id, challenge=challenge)
        uow.commit()
    return options_to_json(options)


def sign_in_passkey(
    ctx: AppContext, *, token: str, rp: RelyingParty, response_json: str, timeouts: Timeouts
) -> SignedIn:
    """Step two with a passkey: the assertion is verified against the half session's challenge and
    one of the account's passkeys; the half session is replaced by a full one."""
    credential = _credential(response_json, kind="passkey answer")
    now = ctx.clock.now()
    with ctx.uow() as uow:
        half, account = half_of(uow, ctx, token, now)
        challenge = uow.console_sessions.take_challenge(session_id=half.id)
        passkey = uow.passkeys.get(str(credential["id"]))
        outcome = _assertion(
            account_locked=is_locked(account, now),
            challenge=challenge,
            passkey=passkey,
            account_id=account.id,
            credential=credential,
            rp=rp,
        )
        if isinstance(outcome, str) or passkey is None:
            count_failure(uow, account, now)
            uow.commit()
            log.info("console.passkey_refused", account=account.id, reason=outcome)
            raise Unauthenticated(REFUSED)
        uow.passkeys.update_sign_count(credential_id=passkey.credential_id, sign_count=outcome.new_sign_count)
        signed = complete(ctx, uow, half, account, timeouts=timeouts)
        uow.commit()
    log.info("console.passkey_used", account=account.id, label=passkey.label)
    return signed


def _assertion(
    *,
    account_locked: bool,
    challenge: str | None,
    passkey: Passkey | None,
    account_id: str,
    credential: dict[str, object],
    rp: RelyingParty,
) -> VerifiedAuthentication | str:
    """The verified assertion, or why it is refused (for the log; the person reads one message)."""
    if account_locked:
        return "locked"
    if challenge is None:
        return "no challenge pending"
    if passkey is None or passkey.account_id != account_id:
        return "not a passkey of this account"
    try:
        return verify_authentication_response(
            credential=credential,
            expected_challenge=challenge.encode(),
            expected_rp_id=rp.id,
            expected_origin=rp.origin,
            credential_public_key=passkey.public_key,
            credential_current_sign_count=passkey.sign_count,
            require_user_verification=True,
        )
    except WebAuthnException as exc:
        return str(exc)
