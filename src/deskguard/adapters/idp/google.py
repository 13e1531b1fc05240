"""Google Workspace: the ``IdentityProvider`` port over the Admin SDK Directory API (httpx, no SDK).

Authentication: a service account with domain-wide delegation impersonating an administrator
(``google_admin_subject``). google-auth is not a dependency: the RS256 JWT assertion (RFC 7523;
``iss`` = the account, ``sub`` = the admin, ``scope``, ``aud`` = the token endpoint, one hour, header
``kid`` = ``private_key_id``) is built and signed by the shared ``connectors.client_assertion`` and
exchanged at ``oauth2.googleapis.com/token``; the token is cached until a minute before it expires
and dropped when Google refuses a call (a 401 is not sent again: ``retry_unauthorized`` is off).
The key file (the JSON Google issues) is read from a ``SecretRef``. Scopes:
``admin.directory.user`` and ``admin.directory.user.security``.

The user is found by ``GET /users/{e-mail}`` (primary address or alias); each action then uses the
immutable user id. Actions, keeping to the Directory calls the reference documents:

- ``reset_password``: ``PATCH /users/{id}`` ``{password, changePasswordAtNextLogin}`` with a
  password deskguard generates, returned as ``ExecutionResult.secret`` for the broker to deliver to
  the verified channel, never stored. Retried: the same body twice sets the same password.
- ``reset_mfa``: ``POST …/twoStepVerification/turnOff`` (not retried; Google refuses it while 2SV
  is enforced or under Advanced Protection, and says so), ``POST …/verificationCodes/invalidate``
  (backup codes), then ``signOut``.
- ``revoke_sessions``: ``POST /users/{id}/signOut`` (retried: it only ends sessions).
- ``suspend_account``: ``PATCH {"suspended": true}``, then ``signOut`` (both repeatable).

``remove_factor`` (the Directory API removes no single second step), ``unlock_account`` (Workspace
has no lockout to clear), ``grant_privilege`` (admin roles need another scope, not wired yet) and
the other kinds are refused with a ``ConnectorError`` naming the action. A repeated idempotency key
answers the first result without calling Google (``_once.Once``).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import datetime
from typing import Any
from urllib.parse import quote

import httpx

from deskguard.adapters.connectors.bearer import BearerClient
from deskguard.adapters.connectors.client_assertion import JWT_BEARER_GRANT, JwtAssertion, SigningKey
from deskguard.adapters.connectors.http import json_body, send
from deskguard.adapters.connectors.retry import Backoff
from deskguard.adapters.idp._once import DispatchingProvider
from deskguard.adapters.idp.okta import secret
from deskguard.domain.actions import ActionKind, ResponseAction
from deskguard.domain.errors import ConfigurationError, ConnectorError, ConnectorTimeout
from deskguard.domain.model import Person
from deskguard.domain.ports import ExecutionResult, Health, Randomness

VENDOR = "Google Workspace"
DIRECTORY = "https://admin.googleapis.com/admin/directory/v1"
TOKEN_URL = "https://oauth2.googleapis.com/token"
JWT_BEARER = JWT_BEARER_GRANT
SCOPES = (
    "https://www.googleapis.com/auth/admin.directory.user",
    "https://www.googleapis.com/auth/admin.directory.user.security",
)
ASSERTION_LIFETIME_S = 3600  # the longest Google accepts
KEY_FIELD = "google_service_account_key"
DEFAULT_BACKOFF = Backoff()


def seg(value: str) -> str:
    return quote(value, safe="")


class ServiceAccountKey:
    """The parts of a service-account JSON key deskguard uses; the private key never leaves here."""

    def __init__(self, text: str) -> None:
        try:
            data = json.loads(text)
        except ValueError:
            raise ConfigurationError(f"{KEY_FIELD}: the key file is not JSON", field=KEY_FIELD) from None
        if not isinstance(data, dict) or data.get("type") != "service_account":
            raise ConfigurationError(f"{KEY_FIELD}: not a service-account key file", field=KEY_FIELD)
        email, pem = data.get("client_email"), data.get("private_key")
        if not isinstance(email, str) or not email or not isinstance(pem, str):
            raise ConfigurationError(f"{KEY_FIELD}: client_email or private_key is missing", field=KEY_FIELD)
        self.client_email = email
        self.key_id = str(data.get("private_key_id") or "")
        self._key = SigningKey(pem, field=KEY_FIELD, alg="RS256")  # Google signs RS256 only

    def assertion(
        self, *, subject: str, scopes: tuple[str, ...], now: Callable[[], datetime]
    ) -> JwtAssertion:
        """The builder of the JWTs asking for a token that acts as ``subject``: Google's documented
        claim set (no ``jti``, no ``nbf``), valid the hour Google allows at most."""
        return JwtAssertion(
            key=self._key,
            issuer=self.client_email,
            subject=subject,
            audience=TOKEN_URL,
            now=now,
            claims={"scope": " ".join(scopes)},
            header={"kid": self.key_id} if self.key_id else None,
            lifetime_s=ASSERTION_LIFETIME_S,
            jti=None,
            not_before=False,
        )


def check_customer(value: str) -> str:
    if not value or not all(c.isalnum() or c == "_" for c in value):
        raise ConfigurationError(
            f"google_customer: {value!r} is not a customer id (C0…) or my_customer", field="google_customer"
        )
    return value


class GoogleClient(BearerClient):
    """Directory API calls with a cached delegated token; retries only when ``idempotent``."""

    def __init__(
        self,
        *,
        service_account_key: str,
        admin_subject: str,
        now: Callable[[], datetime],
        customer: str = "my_customer",
        client: httpx.Client | None = None,
        backoff: Backoff = DEFAULT_BACKOFF,
        sleep: Callable[[float], None] | None = None,
    ) -> None:
        """``service_account_key`` is a ``SecretRef`` to the JSON key file, resolved here."""
        if "@" not in admin_subject:
            raise ConfigurationError(
                "google_admin_subject: the e-mail of the administrator the service account acts as",
                field="google_admin_subject",
            )
        self.subject = admin_subject
        self.customer = check_customer(customer)
        key = ServiceAccountKey(secret(service_account_key, field=KEY_FIELD))
        self._assertion = key.assertion(subject=admin_subject, scopes=SCOPES, now=now)
        super().__init__(now=now, client=client, backoff=backoff, sleep=sleep)

    vendor, token_vendor = VENDOR, "Google token"

    def _request_token(self) -> httpx.Response:
        """A fresh assertion per attempt: each is valid one hour."""
        return send(self._client, "POST", TOKEN_URL, vendor=self.token_vendor, data=self._assertion.grant())

    def call(self, method: str, path: str, *, idempotent: bool, **kwargs: Any) -> httpx.Response:
        """One call on the Directory API (``path`` under ``/admin/directory/v1``)."""
        if not path.startswith("/"):
            raise ConnectorError(f"{VENDOR}: {path!r} is not a Directory API path")
        return self.authorized(method, DIRECTORY + path, idempotent=idempotent, **kwargs)

    def json(self, method: str, path: str, *, idempotent: bool, **kwargs: Any) -> Any:
        return json_body(self.call(method, path, idempotent=idempotent, **kwargs), vendor=VENDOR)


class GoogleWorkspaceIdentityProvider(DispatchingProvider):
    name = "google"
    vendor = VENDOR

    def __init__(self, *, google: GoogleClient, randomness: Randomness) -> None:
        self.google = google
        self._random = randomness
        super().__init__()

    def health(self) -> Health:
        try:
            body = self.google.json(
                "GET",
                "/users",
                idempotent=True,
                params={"customer": self.google.customer, "maxResults": "1", "fields": "users(id)"},
            )
        except (ConnectorError, ConnectorTimeout) as exc:
            return Health(ok=False, detail=str(exc))
        if not isinstance(body, dict):
            return Health(ok=False, detail=f"{VENDOR} answered a user list that is not an object")
        return Health(
            ok=True,
            detail=f"Directory API reachable; customer {self.google.customer} as {self.google.subject}",
        )

    def _handlers(
        self,
    ) -> dict[ActionKind | ResponseAction, Callable[[Person, dict[str, Any]], ExecutionResult]]:
        return {
            ActionKind.RESET_PASSWORD: self._reset_password,
            ActionKind.RESET_MFA: self._reset_mfa,
            ActionKind.REVOKE_SESSIONS: self._revoke_sessions,
            ResponseAction.SUSPEND_ACCOUNT: self._suspend,
        }

    def user(self, person: Person) -> dict[str, Any]:
        """The Workspace user whose primary address or alias is the person's e-mail."""
        if not person.email:
            raise ConnectorError(f"{VENDOR}: person {person.id} has no e-mail to find their user")
        body = self.google.json(
            "GET",
            f"/users/{seg(person.email)}",
            idempotent=True,
            params={"fields": "id,primaryEmail,suspended,isEnrolledIn2Sv,isEnforcedIn2Sv"},
        )
        if not isinstance(body, dict) or not isinstance(body.get("id"), str) or not body["id"]:
            raise ConnectorError(f"{VENDOR} answered a user without an id (malformed)")
        return body

    def _path(self, person: Person) -> tuple[str, dict[str, Any]]:
        user = self.user(person)
        return f"/users/{seg(user['id'])}", user

    def _sign_out(self, path: str) -> None:
        self.google.call("POST", f"{path}/signOut", idempotent=True)

    def _reset_password(self, person: Person, params: dict[str, Any]) -> ExecutionResult:
        path, _ = self._path(person)
        password = self._random.token(18)  # 144 random bits, 24 URL-safe characters
        force = bool(params.get("force_change_at_next_sign_in", True))
        body = {"password": password, "changePasswordAtNextLogin": force}
        self.google.call("PATCH", path, idempotent=True, json=body)
        return ExecutionResult(
            summary={"password_changed": True, "force_change": force},
            secret=password,
            secret_kind="temporary_password",
        )

    def _reset_mfa(self, person: Person, params: dict[str, Any]) -> ExecutionResult:
        path, user = self._path(person)
        enrolled = user.get("isEnrolledIn2Sv") is not False  # unknown: ask Google to turn it off
        if enrolled:
            self.google.call("POST", f"{path}/twoStepVerification/turnOff", idempotent=False)
        self.google.call("POST", f"{path}/verificationCodes/invalidate", idempotent=True)
        self._sign_out(path)
        return ExecutionResult(
            summary={
                "two_step_verification_turned_off": enrolled,
                "backup_codes_invalidated": True,
                "sessions_revoked": True,
            }
        )

    def _revoke_sessions(self, person: Person, params: dict[str, Any]) -> ExecutionResult:
        path, _ = self._path(person)
        self._sign_out(path)
        return ExecutionResult(summary={"sessions_revoked": True})

    def _suspend(self, person: Person, params: dict[str, Any]) -> ExecutionResult:
        path, _ = self._path(person)
        self.google.call("PATCH", path, idempotent=True, json={"suspended": True})
        self._sign_out(path)
        return ExecutionResult(summary={"suspended": True, "sessions_revoked": True})
