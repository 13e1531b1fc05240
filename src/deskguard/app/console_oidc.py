"""Signing in to the console with OpenID Connect: validated ID-token claims → a full session.

The provider did the authentication (and, when ``require_mfa``, must say it did MFA: ``amr`` with
``mfa`` or two methods (RFC 8176), or an ``acr`` of a multi-factor policy). The verified ``email``
claim is the console login; an unknown e-mail is refused with words that say so. A locked or
disabled account stays locked.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import structlog

from deskguard.app.auth import resolve_subject
from deskguard.app.console_auth import SignedIn, Timeouts, is_locked, open_session
from deskguard.app.context import AppContext
from deskguard.domain.errors import Unauthenticated

log = structlog.get_logger("deskguard.console")
MFA_ACRS = frozenset(
    {
        "http://schemas.openid.net/pape/policies/2007/06/multi-factor",
        "phr",
        "phrh",
        "urn:okta:loa:2fa:any",
        "possessionorinherence",
    }
)


def shows_mfa(claims: Mapping[str, Any]) -> bool:
    amr = claims.get("amr")
    methods = {str(m) for m in amr} if isinstance(amr, list) else set()
    return "mfa" in methods or len(methods) >= 2 or str(claims.get("acr", "")) in MFA_ACRS


def sign_in_oidc(
    ctx: AppContext,
    *,
    claims: Mapping[str, Any],
    require_mfa: bool,
    timeouts: Timeouts,
    client_ip: str = "",
    user_agent: str = "",
) -> SignedIn:
    email = claims.get("email")
    if not isinstance(email, str) or claims.get("email_verified") is not True:
        raise Unauthenticated("your company account did not give a verified e-mail address")
    if require_mfa and not shows_mfa(claims):
        raise Unauthenticated("your company account signed you in without multi-factor authentication")
    now = ctx.clock.now()
    with ctx.uow() as uow:
        account = uow.console_accounts.get_by_login(email.strip().lower())
        if account is None:
            raise Unauthenticated(f"{email} has no console account: ask an administrator")
        if is_locked(account, now):
            raise Unauthenticated("this console account is locked")
        resolve_subject(
            uow, subject_kind=account.subject_kind, subject_id=account.subject_id, tenant_id=account.tenant_id
        )
        signed = open_session(
            ctx,
            uow,
            account,
            stage="full",
            client_ip=client_ip,
            user_agent=user_agent,
            absolute=timeouts.absolute,
        )
        uow.commit()
    log.info("console.signed_in_oidc", account=account.id, session=signed.session.id)
    return signed
