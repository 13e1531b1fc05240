"""Okta: the ``IdentityProvider`` port over the Okta management API (httpx, no SDK).

Authentication is either an OAuth 2.0 service app (``oauth``: client-credentials grant with
``private_key_jwt``, optionally DPoP-bound; ``okta_oauth.OktaTokenClient``), which Okta recommends,
or the legacy API token (``Authorization: SSWS <token>``). Both credentials are ``SecretRef``s.

The user is found by login (``GET /api/v1/users/{login}``, the login being the person's e-mail);
each action is one management call on that user's id. Retries (``connectors.retry``) are for calls
whose repetition changes nothing:

- reads (``GET``), ``PUT`` of a group membership, its ``DELETE`` when a ``grant_privilege`` expires
  (``revoke_privilege``; a 404 means the user is not a member any more, a success), ``DELETE`` of
  the sessions: retried on 429/5xx
  and timeouts, honouring ``Retry-After`` / ``X-Rate-Limit-Reset``;
- the ``POST .../lifecycle/*`` calls are not documented as idempotent (a second ``reset_password``
  mails a new link and voids the first; a second ``suspend`` or ``unlock`` is refused), and the
  ``DELETE`` of one factor answers 404 the second time, which would misreport a success: tried once.
  A timeout there raises ``ConnectorTimeout`` and the broker keeps the request pending.

A repeated idempotency key answers the first result without calling Okta (``_once.Once``).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote, urlsplit

import httpx

from deskguard.adapters.connectors.http import DEFAULT_TIMEOUT, json_body, send
from deskguard.adapters.connectors.retry import Backoff, with_retries
from deskguard.adapters.connectors.secrets import resolve
from deskguard.adapters.idp._once import DispatchingProvider
from deskguard.adapters.idp.okta_oauth import OktaOAuth, OktaTokenClient
from deskguard.domain.actions import ActionKind, ResponseAction
from deskguard.domain.errors import ConfigurationError, ConnectorError, ConnectorTimeout
from deskguard.domain.model import Person
from deskguard.domain.ports import ExecutionResult, Health

VENDOR = "Okta"


def org_base(url: str, *, field: str = "okta_org_url") -> str:
    """``https://host[:port]`` of an Okta org; anything else (http, a path, a query) is refused."""
    parts = urlsplit(url.strip())
    if parts.scheme != "https" or not parts.hostname:
        raise ConfigurationError(
            f"{field}: an Okta org URL is https://{{org}}.okta.com, not {url!r}", field=field
        )
    if parts.path not in ("", "/") or parts.query or parts.fragment or parts.username:
        raise ConfigurationError(
            f"{field}: give the org's origin only, without path or query: {url!r}", field=field
        )
    return f"https://{parts.netloc}"


def secret(reference: str, *, field: str) -> str:
    """The secret behind a ``SecretRef``; an inline value is a ``ConfigurationError`` naming ``field``."""
    try:
        return resolve(reference, field=field)
    except ValueError as exc:
        raise ConfigurationError(f"{field}: {exc}", field=field) from None


DEFAULT_BACKOFF = Backoff()


def _utc_now() -> datetime:
    return datetime.now(UTC)


def seg(value: str) -> str:
    """One path segment, fully escaped (a login or id never reaches another path)."""
    return quote(value, safe="")


class OktaIdentityProvider(DispatchingProvider):
    name = "okta"
    vendor = VENDOR

    def __init__(
        self,
        *,
        org_url: str,
        api_token: str | None = None,
        oauth: OktaOAuth | None = None,
        now: Callable[[], datetime] | None = None,
        client: httpx.Client | None = None,
        backoff: Backoff = DEFAULT_BACKOFF,
        sleep: Callable[[float], None] | None = None,
    ) -> None:
        """Exactly one credential: ``api_token`` (a ``SecretRef``, resolved here) or ``oauth`` (its
        private key read here). ``now`` dates the assertions and the token's expiry."""
        self.base = org_base(org_url)
        if (api_token is None) == (oauth is None):
            raise ConfigurationError(
                "okta_api_token or okta_oauth: give exactly one credential", field="okta_api_token"
            )
        self._client = client or httpx.Client(timeout=DEFAULT_TIMEOUT)
        self._backoff = backoff
        self._sleep = sleep
        self._oauth: OktaTokenClient | None = None
        self._headers = {"Accept": "application/json"}
        if oauth is not None:
            self._oauth = OktaTokenClient(
                base=self.base,
                oauth=oauth,
                now=now or _utc_now,
                client=self._client,
                backoff=backoff,
                sleep=sleep,
            )
        else:
            token = secret(str(api_token), field="okta_api_token")
            self._headers["Authorization"] = f"SSWS {token}"
        super().__init__()

    @property
    def client(self) -> httpx.Client:
        return self._client

    @property
    def oauth(self) -> OktaTokenClient | None:
        """The service app's token client, or None with an API token."""
        return self._oauth

    def call(self, method: str, path_or_url: str, *, idempotent: bool, **kwargs: Any) -> httpx.Response:
        """One Okta call, retried only when ``idempotent``. ``path_or_url`` is a path or an absolute
        URL on this org (a pagination link)."""
        url = path_or_url if path_or_url.startswith("https://") else self.base + path_or_url
        self.check_own(url)
        if self._oauth is not None:
            return self._oauth.authorized(method, url, idempotent=idempotent, **kwargs)
        headers = {**self._headers, **kwargs.pop("headers", {})}

        def once() -> httpx.Response:
            return send(self._client, method, url, vendor=VENDOR, headers=headers, **kwargs)

        extra = {"sleep": self._sleep} if self._sleep is not None else {}
        return with_retries(once, idempotent=idempotent, backoff=self._backoff, **extra)

    def check_own(self, url: str) -> None:
        """``ConnectorError`` unless ``url`` is on this org: the token never goes to another host."""
        if not url.startswith(self.base + "/"):
            raise ConnectorError(f"{VENDOR}: refusing to send the token to {urlsplit(url).netloc or url!r}")

    # --- the port --------------------------------------------------------------------------------

    def health(self) -> Health:
        """API token: ``GET /api/v1/users/me``. A service app has no user of its own, so it reads one
        user (``GET /api/v1/users?limit=1``, scope ``okta.users.read``)."""
        if self._oauth is not None:
            return self._oauth_health(self._oauth)
        try:
            body = json_body(self.call("GET", "/api/v1/users/me", idempotent=True), vendor=VENDOR)
        except (ConnectorError, ConnectorTimeout) as exc:
            return Health(ok=False, detail=str(exc))
        login = body.get("profile", {}).get("login", "?") if isinstance(body, dict) else "?"
        return Health(ok=True, detail=f"{self.base} reachable; token acts as {login}")

    def _oauth_health(self, oauth: OktaTokenClient) -> Health:
        try:
            body = json_body(
                self.call("GET", "/api/v1/users", idempotent=True, params={"limit": "1"}), vendor=VENDOR
            )
        except (ConnectorError, ConnectorTimeout) as exc:
            return Health(ok=False, detail=f"{oauth.describe()}: {exc}")
        if not isinstance(body, list):
            return Health(ok=False, detail=f"{VENDOR} answered a user list that is not a list (malformed)")
        return Health(ok=True, detail=f"{self.base} reachable; {oauth.describe()} reads users")

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
        """The Okta user whose login is the person's e-mail; ``ConnectorError`` when there is none."""
        if not person.email:
            raise ConnectorError(f"{VENDOR}: person {person.id} has no e-mail to find their Okta login")
        body = json_body(
            self.call("GET", f"/api/v1/users/{seg(person.email)}", idempotent=True), vendor=VENDOR
        )
        if not isinstance(body, dict) or not isinstance(body.get("id"), str) or not body["id"]:
            raise ConnectorError(f"{VENDOR} answered a user without an id (malformed)")
        return body

    def _user_path(self, person: Person) -> tuple[str, str]:
        user = self.user(person)
        return f"/api/v1/users/{seg(user['id'])}", str(user.get("status", ""))

    def _reset_password(self, person: Person, params: dict[str, Any]) -> ExecutionResult:
        if params.get("deliver_to", "verified_channel") != "verified_channel":
            raise ConnectorError(
                f"{VENDOR} resets are mailed by Okta to the user's verified e-mail; "
                "deskguard never holds a reset link or password to give an agent",
            )
        path, _ = self._user_path(person)
        self.call("POST", f"{path}/lifecycle/reset_password", idempotent=False, params={"sendEmail": "true"})
        return ExecutionResult(
            summary={
                "password_reset": True,
                "delivered_by": "okta_email_to_verified_address",
                "deskguard_received_link": False,
            }
        )

    def _reset_mfa(self, person: Person, params: dict[str, Any]) -> ExecutionResult:
        path, _ = self._user_path(person)
        self.call("POST", f"{path}/lifecycle/reset_factors", idempotent=False)
        return ExecutionResult(summary={"factors_reset": True})

    def _remove_factor(self, person: Person, params: dict[str, Any]) -> ExecutionResult:
        path, _ = self._user_path(person)
        factor = str(params["factor_id"])
        self.call("DELETE", f"{path}/factors/{seg(factor)}", idempotent=False)
        return ExecutionResult(summary={"factor_removed": factor})

    def _revoke_sessions(self, person: Person, params: dict[str, Any]) -> ExecutionResult:
        path, _ = self._user_path(person)
        self.call("DELETE", f"{path}/sessions", idempotent=True, params={"oauthTokens": "true"})
        return ExecutionResult(summary={"sessions_revoked": True, "oauth_tokens_revoked": True})

    def _unlock(self, person: Person, params: dict[str, Any]) -> ExecutionResult:
        path, status = self._user_path(person)
        if status != "LOCKED_OUT":  # Okta refuses to unlock a user that is not locked
            return ExecutionResult(summary={"unlocked": True, "was_locked": False, "okta_status": status})
        self.call("POST", f"{path}/lifecycle/unlock", idempotent=False)
        return ExecutionResult(summary={"unlocked": True, "was_locked": True})

    def _suspend(self, person: Person, params: dict[str, Any]) -> ExecutionResult:
        path, status = self._user_path(person)
        if status == "SUSPENDED":  # Okta refuses to suspend twice; the account is as asked
            return ExecutionResult(summary={"suspended": True, "already_suspended": True})
        self.call("POST", f"{path}/lifecycle/suspend", idempotent=False)
        return ExecutionResult(summary={"suspended": True})

    def _grant(self, person: Person, params: dict[str, Any]) -> ExecutionResult:
        user = self.user(person)
        group_id = self._group_id(str(params["group"]))
        self.call("PUT", f"/api/v1/groups/{seg(group_id)}/users/{seg(user['id'])}", idempotent=True)
        return ExecutionResult(
            summary={
                "group_added": params["group"],
                "okta_group_id": group_id,
                "duration_minutes": params.get("duration_minutes"),
            }
        )

    def _revoke_privilege(self, person: Person, params: dict[str, Any]) -> ExecutionResult:
        user = self.user(person)
        group_id = self._group_id(str(params["group"]))
        path = f"/api/v1/groups/{seg(group_id)}/users/{seg(user['id'])}"
        response = self.call("DELETE", path, idempotent=True, accept=(404,))  # 404: already gone
        return ExecutionResult(
            summary={
                "group_removed": params["group"],
                "okta_group_id": group_id,
                "was_member": response.status_code != 404,
            }
        )

    def _group_id(self, group: str) -> str:
        """An Okta group id (``00g…``) as given, else the one group whose name is exactly ``group``."""
        if group.startswith("00g") and group.isalnum():
            return group
        body = json_body(
            self.call("GET", "/api/v1/groups", idempotent=True, params={"q": group, "limit": "200"}),
            vendor=VENDOR,
        )
        if not isinstance(body, list):
            raise ConnectorError(f"{VENDOR} answered a group search that is not a list (malformed)")
        ids = [
            g["id"]
            for g in body
            if isinstance(g, dict)
            and isinstance(g.get("id"), str)
            and (g.get("profile") or {}).get("name") == group
        ]
        if len(ids) != 1:
            raise ConnectorError(f"{VENDOR}: {len(ids)} groups are named {group!r}; give the group id")
        return ids[0]
