"""Microsoft Entra ID: the ``IdentityProvider`` port over Microsoft Graph v1.0 (httpx, no SDK).

Authentication: OAuth 2.0 client credentials with a certificate credential (a client assertion
signed with the app's private key, ``entra_auth``; what Microsoft recommends) or a client secret,
exactly one, both read from ``SecretRef``s. The token is cached until a minute before it expires; a
call refused with 401 fetches a new one and is sent once more.

Actions (the user is found by userPrincipalName = the person's e-mail):

- ``reset_password``: ``PATCH /users/{id}`` with a ``passwordProfile`` holding a password deskguard
  generates (the app-only route; ``authenticationMethods/resetPassword`` is delegated-only). The
  password is returned as ``ExecutionResult.secret`` for the broker to deliver to the verified
  channel, never stored. Retried: the same body twice sets the same password.
- ``issue_temporary_access_pass``: ``POST …/temporaryAccessPassMethods``; the pass is the secret.
  Not retried: a second POST replaces the first pass, whose answer may have been lost.
- ``revoke_sessions``: ``POST …/revokeSignInSessions`` (retried: it only moves a timestamp to now).
- ``reset_mfa``: delete every authentication method except the password and the e-mail (the
  recovery address, kept as the other connectors keep it), then revoke sessions. ``remove_factor``:
  delete one method by id. Deletes are not retried (the second answers 404).
- ``grant_privilege``: ``POST /roleManagement/directory/roleAssignments`` (role definition id, or a
  role's exact display name). Not retried (a second assignment conflicts). The time box is the
  broker's: Entra does not expire this assignment by itself.
- ``revoke_privilege`` (at the grant's expiry): ``GET …/roleAssignments?$filter=principalId eq … and
  roleDefinitionId eq …``, then ``DELETE …/roleAssignments/{id}`` of each tenant-wide one (retried;
  404 = already gone). No assignment left is a success.
- ``suspend_account``: ``PATCH accountEnabled=false`` then revoke sessions (both repeatable).

``unlock_account`` (Entra smart lockout has no admin unlock call) and the other kinds are refused.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any
from urllib.parse import quote, urlsplit

import httpx

from deskguard.adapters.connectors.bearer import BearerClient
from deskguard.adapters.connectors.http import json_body
from deskguard.adapters.connectors.oauth_token import request_token
from deskguard.adapters.connectors.retry import Backoff
from deskguard.adapters.idp._once import DispatchingProvider
from deskguard.adapters.idp.entra_auth import (
    CertificateCredential,
    EntraCertificate,
    EntraSettings,
    certificate_credential,
)
from deskguard.adapters.idp.okta import secret
from deskguard.domain.actions import ActionKind, ResponseAction
from deskguard.domain.errors import ConfigurationError, ConnectorError, ConnectorTimeout
from deskguard.domain.model import Person
from deskguard.domain.ports import ExecutionResult, Health, Randomness

VENDOR = "Microsoft Graph"
GRAPH = "https://graph.microsoft.com/v1.0"
LOGIN = "https://login.microsoftonline.com"
SCOPE = "https://graph.microsoft.com/.default"

# @odata.type of an authentication method -> its collection under /users/{id}/authentication
METHODS = {
    "#microsoft.graph.phoneAuthenticationMethod": "phoneMethods",
    "#microsoft.graph.microsoftAuthenticatorAuthenticationMethod": "microsoftAuthenticatorMethods",
    "#microsoft.graph.fido2AuthenticationMethod": "fido2Methods",
    "#microsoft.graph.softwareOathAuthenticationMethod": "softwareOathMethods",
    "#microsoft.graph.emailAuthenticationMethod": "emailMethods",
    "#microsoft.graph.windowsHelloForBusinessAuthenticationMethod": "windowsHelloForBusinessMethods",
    "#microsoft.graph.temporaryAccessPassAuthenticationMethod": "temporaryAccessPassMethods",
    "#microsoft.graph.platformCredentialAuthenticationMethod": "platformCredentialMethods",
}
KEPT_ON_RESET = {
    "#microsoft.graph.passwordAuthenticationMethod",
    "#microsoft.graph.emailAuthenticationMethod",
}


DEFAULT_BACKOFF = Backoff()


def seg(value: str) -> str:
    return quote(value, safe="")


def check_tenant(value: str) -> str:
    """A directory (tenant) id or a verified domain: one path segment, nothing else."""
    if not value or not all(c.isalnum() or c in "-." for c in value):
        raise ConfigurationError(
            f"entra_tenant_id: {value!r} is not a tenant id or domain", field="entra_tenant_id"
        )
    return value


class GraphClient(BearerClient):
    """Graph calls with a cached client-credentials token; shared by the adapter and the pollers."""

    retry_unauthorized = True

    def __init__(
        self,
        *,
        tenant_id: str,
        client_id: str,
        now: Callable[[], datetime],
        client_secret: str | None = None,
        client_certificate: EntraCertificate | None = None,
        client: httpx.Client | None = None,
        backoff: Backoff = DEFAULT_BACKOFF,
        sleep: Callable[[float], None] | None = None,
    ) -> None:
        """Exactly one credential: ``client_secret`` (a ``SecretRef``, resolved here) or
        ``client_certificate`` (its key and certificate read and checked here)."""
        if not client_id:
            raise ConfigurationError("entra_client_id is required", field="entra_client_id")
        if (client_secret is None) == (client_certificate is None):
            raise ConfigurationError(
                "entra_client_secret or entra_client_certificate: give exactly one credential",
                field="entra_client_secret",
            )
        self.tenant = check_tenant(tenant_id)
        self._client_id = client_id
        self._secret: str | None = None
        self.certificate: CertificateCredential | None = None
        if client_certificate is not None:
            self.certificate = certificate_credential(
                client_certificate, tenant=self.tenant, client_id=client_id, now=now
            )
        else:
            self._secret = secret(str(client_secret), field="entra_client_secret")
        super().__init__(now=now, client=client, backoff=backoff, sleep=sleep)

    vendor, token_vendor = VENDOR, "Entra token"

    @property
    def token_url(self) -> str:
        return f"{LOGIN}/{self.tenant}/oauth2/v2.0/token"

    def _form(self) -> dict[str, str]:
        form = {"client_id": self._client_id, "scope": SCOPE, "grant_type": "client_credentials"}
        if self.certificate is not None:
            return {**form, **self.certificate.assertion.form()}
        return {**form, "client_secret": str(self._secret)}

    def _request_token(self) -> httpx.Response:
        return request_token(self._client, self.token_url, form=self._form, vendor=self.token_vendor)

    def credential(self) -> tuple[bool, str]:
        """(usable, words) of the credential, for ``health``: a certificate past its end is not."""
        if self.certificate is None:
            return True, "client secret"
        return self.certificate.describe(self._now())

    def check_own(self, url: str) -> None:
        if not url.startswith(GRAPH + "/"):
            raise ConnectorError(f"{VENDOR}: refusing to send the token to {urlsplit(url).netloc or url!r}")

    def call(self, method: str, path_or_url: str, *, idempotent: bool, **kwargs: Any) -> httpx.Response:
        url = path_or_url if path_or_url.startswith("https://") else GRAPH + path_or_url
        self.check_own(url)
        return self.authorized(method, url, idempotent=idempotent, **kwargs)


def graph_client(settings: EntraSettings, *, now: Callable[[], datetime]) -> GraphClient:
    """The Graph client the settings describe (per tenant, or the deployment's)."""
    return GraphClient(
        tenant_id=settings.tenant_id,
        client_id=settings.client_id,
        client_secret=settings.client_secret,
        client_certificate=settings.client_certificate,
        now=now,
    )


class EntraIdentityProvider(DispatchingProvider):
    name = "entra"
    vendor = VENDOR

    def __init__(self, *, graph: GraphClient, randomness: Randomness) -> None:
        self.graph = graph
        self._random = randomness
        super().__init__()

    def health(self) -> Health:
        usable, credential = self.graph.credential()
        if not usable:
            return Health(ok=False, detail=credential)
        try:
            body = json_body(
                self.graph.call(
                    "GET", "/organization", idempotent=True, params={"$select": "id,displayName"}
                ),
                vendor=VENDOR,
            )
        except (ConnectorError, ConnectorTimeout) as exc:
            return Health(ok=False, detail=f"{exc} ({credential})")
        orgs = body.get("value") if isinstance(body, dict) else None
        name = (
            orgs[0].get("displayName", "?")
            if isinstance(orgs, list) and orgs and isinstance(orgs[0], dict)
            else "?"
        )
        return Health(ok=True, detail=f"Graph reachable; tenant {self.graph.tenant} ({name}); {credential}")

    def _handlers(
        self,
    ) -> dict[ActionKind | ResponseAction, Callable[[Person, dict[str, Any]], ExecutionResult]]:
        return {
            ActionKind.RESET_PASSWORD: self._reset_password,
            ActionKind.ISSUE_TEMPORARY_ACCESS_PASS: self._tap,
            ActionKind.REVOKE_SESSIONS: self._revoke_sessions,
            ActionKind.RESET_MFA: self._reset_mfa,
            ActionKind.REMOVE_FACTOR: self._remove_factor,
            ActionKind.GRANT_PRIVILEGE: self._grant,
            ResponseAction.REVOKE_PRIVILEGE: self._revoke_privilege,
            ResponseAction.SUSPEND_ACCOUNT: self._suspend,
        }

    def _json(self, response: httpx.Response) -> Any:
        return json_body(response, vendor=VENDOR)

    def user_id(self, person: Person) -> str:
        if not person.email:
            raise ConnectorError(f"Entra: person {person.id} has no e-mail to find their userPrincipalName")
        body = self._json(
            self.graph.call("GET", f"/users/{seg(person.email)}", idempotent=True, params={"$select": "id"})
        )
        if not isinstance(body, dict) or not isinstance(body.get("id"), str) or not body["id"]:
            raise ConnectorError(f"{VENDOR} answered a user without an id (malformed)")
        return body["id"]

    def _reset_password(self, person: Person, params: dict[str, Any]) -> ExecutionResult:
        uid = self.user_id(person)
        password = (
            f"{self._random.token(15)}-Aa1"  # ~120 random bits; the suffix meets Entra's complexity rule
        )
        force = bool(params.get("force_change_at_next_sign_in", True))
        profile = {"password": password, "forceChangePasswordNextSignIn": force}
        self.graph.call("PATCH", f"/users/{seg(uid)}", idempotent=True, json={"passwordProfile": profile})
        return ExecutionResult(
            summary={"password_changed": True, "force_change": force},
            secret=password,
            secret_kind="temporary_password",
        )

    def _tap(self, person: Person, params: dict[str, Any]) -> ExecutionResult:
        uid = self.user_id(person)
        body = {
            "lifetimeInMinutes": int(params["lifetime_minutes"]),
            "isUsableOnce": bool(params["one_time"]),
        }
        answer = self._json(
            self.graph.call(
                "POST",
                f"/users/{seg(uid)}/authentication/temporaryAccessPassMethods",
                idempotent=False,
                json=body,
            )
        )
        if not isinstance(answer, dict) or not isinstance(answer.get("temporaryAccessPass"), str):
            raise ConnectorError(
                f"{VENDOR} created a Temporary Access Pass but did not return it (malformed)"
            )
        return ExecutionResult(
            summary={
                "lifetime_minutes": answer.get("lifetimeInMinutes", body["lifetimeInMinutes"]),
                "one_time": answer.get("isUsableOnce", body["isUsableOnce"]),
                "method_id": answer.get("id", ""),
                "usable": answer.get("isUsable"),
            },
            secret=answer["temporaryAccessPass"],
            secret_kind="temporary_access_pass",
        )

    def _revoke(self, uid: str) -> None:
        self.graph.call("POST", f"/users/{seg(uid)}/revokeSignInSessions", idempotent=True)

    def _revoke_sessions(self, person: Person, params: dict[str, Any]) -> ExecutionResult:
        self._revoke(self.user_id(person))
        return ExecutionResult(summary={"sessions_revoked": True})

    def _methods(self, uid: str) -> list[dict[str, Any]]:
        body = self._json(
            self.graph.call("GET", f"/users/{seg(uid)}/authentication/methods", idempotent=True)
        )
        items = body.get("value") if isinstance(body, dict) else None
        if not isinstance(items, list):
            raise ConnectorError(f"{VENDOR} answered authentication methods without a value list (malformed)")
        return [m for m in items if isinstance(m, dict) and isinstance(m.get("id"), str)]

    def _delete(self, uid: str, method: dict[str, Any]) -> None:
        kind = method.get("@odata.type", "")
        collection = METHODS.get(kind)
        if collection is None:
            raise ConnectorError(
                f"Entra: authentication method type {kind or '?'} cannot be deleted by deskguard"
            )
        self.graph.call(
            "DELETE", f"/users/{seg(uid)}/authentication/{collection}/{seg(method['id'])}", idempotent=False
        )

    def _reset_mfa(self, person: Person, params: dict[str, Any]) -> ExecutionResult:
        uid = self.user_id(person)
        removed: list[str] = []
        for method in self._methods(uid):
            if method.get("@odata.type") in KEPT_ON_RESET:
                continue
            try:
                self._delete(uid, method)
            except ConnectorError as exc:
                raise ConnectorError(f"{exc} (after removing {len(removed)} method(s): {removed})") from None
            removed.append(str(method.get("@odata.type", "")).rsplit(".", 1)[-1])
        self._revoke(uid)
        return ExecutionResult(
            summary={"factors_removed": len(removed), "methods": removed, "sessions_revoked": True}
        )

    def _remove_factor(self, person: Person, params: dict[str, Any]) -> ExecutionResult:
        uid = self.user_id(person)
        factor = str(params["factor_id"])
        method = next((m for m in self._methods(uid) if m["id"] == factor), None)
        if method is None:
            raise ConnectorError(f"Entra: authentication method {factor} is not registered for this user")
        self._delete(uid, method)
        return ExecutionResult(summary={"factor_removed": factor})

    def _role_id(self, role: str) -> str:
        if len(role) == 36 and role.count("-") == 4:
            return role
        escaped = role.replace("'", "''")
        body = self._json(
            self.graph.call(
                "GET",
                "/roleManagement/directory/roleDefinitions",
                idempotent=True,
                params={"$filter": f"displayName eq '{escaped}'", "$select": "id,displayName"},
            )
        )
        items = body.get("value") if isinstance(body, dict) else None
        ids = [
            i["id"]
            for i in items or []
            if isinstance(i, dict) and i.get("displayName") == role and i.get("id")
        ]
        if len(ids) != 1:
            raise ConnectorError(
                f"Entra: {len(ids)} directory roles are named {role!r}; give the role definition id"
            )
        return str(ids[0])

    def _grant(self, person: Person, params: dict[str, Any]) -> ExecutionResult:
        uid = self.user_id(person)
        role_id = self._role_id(str(params["group"]))
        body = {"principalId": uid, "roleDefinitionId": role_id, "directoryScopeId": "/"}
        answer = self._json(
            self.graph.call("POST", "/roleManagement/directory/roleAssignments", idempotent=False, json=body)
        )
        return ExecutionResult(
            summary={
                "group_added": params["group"],
                "role_definition_id": role_id,
                "assignment_id": answer.get("id", "") if isinstance(answer, dict) else "",
                "duration_minutes": params.get("duration_minutes"),
            }
        )

    def _revoke_privilege(self, person: Person, params: dict[str, Any]) -> ExecutionResult:
        """The grant's assignment (this principal, this role, tenant-wide scope), deleted."""
        uid = self.user_id(person)
        role_id = self._role_id(str(params["group"]))
        body = self._json(
            self.graph.call(
                "GET",
                "/roleManagement/directory/roleAssignments",
                idempotent=True,
                params={"$filter": f"principalId eq '{uid}' and roleDefinitionId eq '{role_id}'"},
            )
        )
        items = body.get("value") if isinstance(body, dict) else None
        if not isinstance(items, list):
            raise ConnectorError(f"{VENDOR} answered role assignments without a value list (malformed)")
        ids = [
            str(i["id"])
            for i in items
            if isinstance(i, dict) and i.get("id") and i.get("directoryScopeId", "/") == "/"
        ]
        for assignment in ids:  # 404: deleted meanwhile, which is what was asked
            path = f"/roleManagement/directory/roleAssignments/{seg(assignment)}"
            self.graph.call("DELETE", path, idempotent=True, accept=(404,))
        return ExecutionResult(
            summary={
                "group_removed": params["group"],
                "role_definition_id": role_id,
                "assignments_removed": ids,
                "was_member": bool(ids),
            }
        )

    def _suspend(self, person: Person, params: dict[str, Any]) -> ExecutionResult:
        uid = self.user_id(person)
        self.graph.call("PATCH", f"/users/{seg(uid)}", idempotent=True, json={"accountEnabled": False})
        self._revoke(uid)
        return ExecutionResult(summary={"suspended": True, "sessions_revoked": True})
