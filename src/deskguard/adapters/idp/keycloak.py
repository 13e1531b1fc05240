"""Keycloak: the ``IdentityProvider`` port over the Keycloak Admin REST API (httpx, no SDK).

Authentication: a confidential client with a service account, OAuth 2.0 client credentials on
``/realms/{realm}/protocol/openid-connect/token`` with a client secret (a ``SecretRef``); the token
is cached until a minute before it expires and dropped when Keycloak refuses a call. The service
account needs the ``realm-management`` roles ``manage-users`` and ``view-users``.

The user is found by e-mail (``GET /users?email=…&exact=true``, exactly one match). Actions:

- ``reset_password``: ``PUT /users/{id}/execute-actions-email`` with ``["UPDATE_PASSWORD"]``:
  Keycloak mails the user a link to set a new password. deskguard never holds a password or link,
  so there is no secret; a user whose e-mail Keycloak has not verified is refused. Not retried (a
  second call mails a second link).
- ``reset_mfa``: delete every credential but the password (OTP, WebAuthn…), then log the user out.
  ``remove_factor``: delete one non-password credential by id. Deletes are not retried (the second
  answers 404).
- ``revoke_sessions``: ``POST /users/{id}/logout`` (retried: it ends whatever sessions there are).
- ``unlock_account``: ``DELETE /attack-detection/brute-force/users/{id}`` clears the brute-force
  lockout (retried). It never re-enables an account an administrator or a runbook disabled.
- ``grant_privilege``: ``PUT /users/{id}/groups/{groupId}`` (a group id, or the one group whose
  name is exactly the one given); retried, joining twice changes nothing.
- ``revoke_privilege`` (a ``grant_privilege`` that expired): ``DELETE /users/{id}/groups/{groupId}``;
  retried, and a 404 (not a member any more) is a success.
- ``suspend_account``: ``PUT /users/{id}`` ``{"enabled": false}``, then logout (both repeatable).

Other kinds are refused with a ``ConnectorError`` naming the action. A repeated idempotency key
answers the first result without calling Keycloak (``_once.Once``).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any
from urllib.parse import quote, urlsplit

import httpx

from deskguard.adapters.connectors.bearer import BearerClient
from deskguard.adapters.connectors.http import json_body, send
from deskguard.adapters.connectors.retry import Backoff
from deskguard.adapters.idp._once import DispatchingProvider
from deskguard.adapters.idp.okta import secret
from deskguard.domain.actions import ActionKind, ResponseAction
from deskguard.domain.errors import ConfigurationError, ConnectorError, ConnectorTimeout
from deskguard.domain.model import Person
from deskguard.domain.ports import ExecutionResult, Health

VENDOR = "Keycloak"
KEPT_ON_RESET = {"password"}  # reset_mfa removes every other credential type (otp, webauthn…)
DEFAULT_BACKOFF = Backoff()


def seg(value: str) -> str:
    """One path segment, fully escaped (an id or a realm never reaches another path)."""
    return quote(value, safe="")


def server_base(url: str, *, field: str = "keycloak_url") -> str:
    """``https://host[:port][/prefix]`` of a Keycloak server (``/auth`` before Keycloak 17)."""
    parts = urlsplit(url.strip())
    if parts.scheme != "https" or not parts.hostname:
        raise ConfigurationError(f"{field}: Keycloak is reached over https://, not {url!r}", field=field)
    if parts.query or parts.fragment or parts.username:
        raise ConfigurationError(f"{field}: give the server URL without query or user: {url!r}", field=field)
    return f"https://{parts.netloc}{parts.path.rstrip('/')}"


def check_realm(realm: str) -> str:
    if not realm or realm.strip() != realm or "/" in realm:
        raise ConfigurationError(f"keycloak_realm: {realm!r} is not a realm name", field="keycloak_realm")
    return realm


class KeycloakClient(BearerClient):
    """Admin REST calls with a cached client-credentials token; retries only when ``idempotent``."""

    def __init__(
        self,
        *,
        url: str,
        realm: str,
        client_id: str,
        client_secret: str,
        now: Callable[[], datetime],
        client: httpx.Client | None = None,
        backoff: Backoff = DEFAULT_BACKOFF,
        sleep: Callable[[float], None] | None = None,
    ) -> None:
        """``client_secret`` is a ``SecretRef`` (``env://`` or ``file://``), resolved here."""
        if not client_id:
            raise ConfigurationError("keycloak_client_id is required", field="keycloak_client_id")
        self.base = server_base(url)
        self.realm = check_realm(realm)
        self.admin = f"{self.base}/admin/realms/{seg(self.realm)}"
        self._token_url = f"{self.base}/realms/{seg(self.realm)}/protocol/openid-connect/token"
        self._client_id = client_id
        self._secret = secret(client_secret, field="keycloak_client_secret")
        super().__init__(now=now, client=client, backoff=backoff, sleep=sleep)

    vendor, token_vendor = VENDOR, f"{VENDOR} token"

    def _request_token(self) -> httpx.Response:
        form = {
            "grant_type": "client_credentials",
            "client_id": self._client_id,
            "client_secret": self._secret,
        }
        return send(self._client, "POST", self._token_url, vendor=self.token_vendor, data=form)

    def call(self, method: str, path: str, *, idempotent: bool, **kwargs: Any) -> httpx.Response:
        """One call on ``/admin/realms/{realm}{path}``: the token only ever goes to this realm."""
        if not path.startswith("/"):
            raise ConnectorError(f"{VENDOR}: {path!r} is not a path of the realm's admin API")
        return self.authorized(method, self.admin + path, idempotent=idempotent, **kwargs)

    def json(self, method: str, path: str, *, idempotent: bool, **kwargs: Any) -> Any:
        return json_body(self.call(method, path, idempotent=idempotent, **kwargs), vendor=VENDOR)


class KeycloakIdentityProvider(DispatchingProvider):
    name = "keycloak"
    vendor = VENDOR

    def __init__(self, *, keycloak: KeycloakClient) -> None:
        self.keycloak = keycloak
        super().__init__()

    # --- the port --------------------------------------------------------------------------------

    def health(self) -> Health:
        try:
            count = self.keycloak.json("GET", "/users/count", idempotent=True)
        except (ConnectorError, ConnectorTimeout) as exc:
            return Health(ok=False, detail=str(exc))
        if not isinstance(count, int):
            return Health(ok=False, detail=f"{VENDOR} answered a user count that is not a number")
        return Health(ok=True, detail=f"{self.keycloak.base} reachable; realm {self.keycloak.realm}")

    # --- actions ---------------------------------------------------------------------------------
    def _handlers(
        self,
    ) -> dict[ActionKind | ResponseAction, Callable[[Person, dict[str, Any]], ExecutionResult]]:
        return {
            ActionKind.RESET_PASSWORD: self._reset_password,
            ActionKind.RESET_MFA: self._reset_mfa,
            ActionKind.REMOVE_FACTOR: self._remove_factor,
            ActionKind.REVOKE_SESSIONS: self._revoke_sessions,
            ActionKind.UNLOCK_ACCOUNT: self._unlock,
            ActionKind.GRANT_PRIVILEGE: self._grant,
            ResponseAction.REVOKE_PRIVILEGE: self._revoke_privilege,
            ResponseAction.SUSPEND_ACCOUNT: self._suspend,
        }

    def user(self, person: Person) -> dict[str, Any]:
        """The one realm user whose e-mail is the person's; ``ConnectorError`` for none or several."""
        if not person.email:
            raise ConnectorError(f"{VENDOR}: person {person.id} has no e-mail to find their user")
        body = self.keycloak.json(
            "GET", "/users", idempotent=True, params={"email": person.email, "exact": "true"}
        )
        if not isinstance(body, list):
            raise ConnectorError(f"{VENDOR} answered a user search that is not a list (malformed)")
        email = person.email.lower()
        users = [
            u
            for u in body
            if isinstance(u, dict)
            and isinstance(u.get("id"), str)
            and u["id"]
            and str(u.get("email", "")).lower() == email
        ]
        if len(users) != 1:
            raise ConnectorError(f"{VENDOR}: {len(users)} users of the realm have the e-mail {person.email}")
        return users[0]

    def _path(self, user: dict[str, Any]) -> str:
        return f"/users/{seg(user['id'])}"

    def _reset_password(self, person: Person, params: dict[str, Any]) -> ExecutionResult:
        if params.get("deliver_to", "verified_channel") != "verified_channel":
            raise ConnectorError(
                f"{VENDOR} resets are mailed by Keycloak to the user's verified e-mail; "
                "deskguard never holds a reset link or password to give an agent",
            )
        user = self.user(person)
        if user.get("emailVerified") is not True:
            raise ConnectorError(
                f"{VENDOR}: the user's e-mail is not verified; "
                "a reset link is sent only to a verified address"
            )
        self.keycloak.call(
            "PUT", f"{self._path(user)}/execute-actions-email", idempotent=False, json=["UPDATE_PASSWORD"]
        )
        return ExecutionResult(
            summary={
                "password_reset": True,
                "required_action": "UPDATE_PASSWORD",
                "delivered_by": "keycloak_email_to_verified_address",
                "deskguard_received_link": False,
            }
        )

    def _credentials(self, user: dict[str, Any]) -> list[dict[str, Any]]:
        body = self.keycloak.json("GET", f"{self._path(user)}/credentials", idempotent=True)
        if not isinstance(body, list):
            raise ConnectorError(f"{VENDOR} answered credentials that are not a list (malformed)")
        return [c for c in body if isinstance(c, dict) and isinstance(c.get("id"), str) and c["id"]]

    def _delete(self, user: dict[str, Any], credential: dict[str, Any]) -> None:
        path = f"{self._path(user)}/credentials/{seg(credential['id'])}"
        self.keycloak.call("DELETE", path, idempotent=False)

    def _logout(self, user: dict[str, Any]) -> None:
        self.keycloak.call("POST", f"{self._path(user)}/logout", idempotent=True)

    def _reset_mfa(self, person: Person, params: dict[str, Any]) -> ExecutionResult:
        user = self.user(person)
        removed: list[str] = []
        for credential in self._credentials(user):
            if credential.get("type") in KEPT_ON_RESET:
                continue
            try:
                self._delete(user, credential)
            except ConnectorError as exc:
                raise ConnectorError(
                    f"{exc} (after removing {len(removed)} credential(s): {removed})"
                ) from None
            removed.append(str(credential.get("type", "?")))
        self._logout(user)
        return ExecutionResult(
            summary={"factors_removed": len(removed), "credential_types": removed, "sessions_revoked": True}
        )

    def _remove_factor(self, person: Person, params: dict[str, Any]) -> ExecutionResult:
        user = self.user(person)
        factor = str(params["factor_id"])
        credential = next((c for c in self._credentials(user) if c["id"] == factor), None)
        if credential is None:
            raise ConnectorError(f"{VENDOR}: credential {factor} is not registered for this user")
        if credential.get("type") in KEPT_ON_RESET:
            raise ConnectorError(f"{VENDOR}: credential {factor} is the password, not a second factor")
        self._delete(user, credential)
        return ExecutionResult(summary={"factor_removed": factor, "credential_type": credential.get("type")})

    def _revoke_sessions(self, person: Person, params: dict[str, Any]) -> ExecutionResult:
        self._logout(self.user(person))
        return ExecutionResult(summary={"sessions_revoked": True})

    def _unlock(self, person: Person, params: dict[str, Any]) -> ExecutionResult:
        user = self.user(person)
        path = f"/attack-detection/brute-force/users/{seg(user['id'])}"
        status = self.keycloak.json("GET", path, idempotent=True)
        locked = bool(status.get("disabled")) if isinstance(status, dict) else None
        self.keycloak.call("DELETE", path, idempotent=True)
        return ExecutionResult(
            summary={
                "unlocked": True,
                "was_locked": locked,
                # An account disabled by an administrator or a runbook stays disabled.
                "account_enabled": user.get("enabled"),
            }
        )

    def _suspend(self, person: Person, params: dict[str, Any]) -> ExecutionResult:
        user = self.user(person)
        self.keycloak.call("PUT", self._path(user), idempotent=True, json={"enabled": False})
        self._logout(user)
        return ExecutionResult(summary={"suspended": True, "sessions_revoked": True})

    def _grant(self, person: Person, params: dict[str, Any]) -> ExecutionResult:
        user = self.user(person)
        group_id = self._group_id(str(params["group"]))
        self.keycloak.call("PUT", f"{self._path(user)}/groups/{seg(group_id)}", idempotent=True)
        return ExecutionResult(
            summary={
                "group_added": params["group"],
                "keycloak_group_id": group_id,
                "duration_minutes": params.get("duration_minutes"),
            }
        )

    def _revoke_privilege(self, person: Person, params: dict[str, Any]) -> ExecutionResult:
        user = self.user(person)
        group_id = self._group_id(str(params["group"]))
        path = f"{self._path(user)}/groups/{seg(group_id)}"
        response = self.keycloak.call("DELETE", path, idempotent=True, accept=(404,))  # 404: already gone
        return ExecutionResult(
            summary={
                "group_removed": params["group"],
                "keycloak_group_id": group_id,
                "was_member": response.status_code != 404,
            }
        )

    def _group_id(self, group: str) -> str:
        """A group id (a UUID) as given, else the one group (or subgroup) named exactly ``group``."""
        if len(group) == 36 and group.count("-") == 4:
            return group
        body = self.keycloak.json(
            "GET", "/groups", idempotent=True, params={"search": group, "exact": "true"}
        )
        if not isinstance(body, list):
            raise ConnectorError(f"{VENDOR} answered a group search that is not a list (malformed)")
        ids = [g["id"] for g in _walk(body) if g.get("name") == group and isinstance(g.get("id"), str)]
        if len(ids) != 1:
            raise ConnectorError(f"{VENDOR}: {len(ids)} groups are named {group!r}; give the group id")
        return str(ids[0])


def _walk(groups: list[Any]) -> list[dict[str, Any]]:
    """The groups of a search answer and their ``subGroups``, flattened."""
    found: list[dict[str, Any]] = []
    stack = [g for g in groups if isinstance(g, dict)]
    while stack:
        group = stack.pop()
        found.append(group)
        subs = group.get("subGroups")
        if isinstance(subs, list):
            stack.extend(g for g in subs if isinstance(g, dict))
    return found
