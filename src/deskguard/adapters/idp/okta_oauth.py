"""Okta without an API token: an OAuth 2.0 service app authenticated by ``private_key_jwt``.

``OktaSettings`` is the connector's settings model (per tenant, and the deployment's
``DESKGUARD_OKTA_*`` composed into it): the org URL and exactly one of ``api_token`` (the legacy
``SSWS`` token) or ``oauth`` (``OktaOAuth``: client id, private key reference, key id, scopes,
DPoP). Secrets are ``SecretRef`` only.

``OktaTokenClient`` asks ``https://{org}/oauth2/v1/token`` for a token with the client-credentials
grant, authenticated by a client assertion signed with the app's private key
(``connectors.client_assertion``: ``iss`` = ``sub`` = client id, ``aud`` = the token endpoint,
``kid`` header, unique ``jti``, 5 minutes). The token is cached until a minute before it expires
(``connectors.bearer``); a call refused with 401 fetches a new one and is sent once more. With
``dpop`` (Okta's default for new service apps: "Require Demonstrating Proof of Possession"), the
token is DPoP-bound (RFC 9449, ``connectors.dpop``): a proof on the token request, the
``use_dpop_nonce`` retry, and ``Authorization: DPoP <token>`` plus a proof with ``ath`` on every
API call. Token refusals name Okta's error code (``connectors.oauth_token``) and never quote the
key, the assertion or a proof.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import datetime

import httpx
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from deskguard.adapters.connectors.bearer import BearerClient
from deskguard.adapters.connectors.client_assertion import ClientAssertion, SigningKey
from deskguard.adapters.connectors.dpop import DPoP
from deskguard.adapters.connectors.oauth_token import request_token
from deskguard.adapters.connectors.retry import Backoff
from deskguard.adapters.connectors.secrets import SecretRef

# What the adapter's calls need: users and their factors, lifecycle and sessions (users.*), group
# membership for grant_privilege (groups.*), the System Log poller (logs.read).
DEFAULT_SCOPES = (
    "okta.users.read",
    "okta.users.manage",
    "okta.groups.read",
    "okta.groups.manage",
    "okta.logs.read",
)
SCOPE = re.compile(r"^okta\.[A-Za-z]+\.[A-Za-z]+$")
KEY_FIELD = "okta_private_key"


class OktaOAuth(BaseModel):
    """The service app: its client id, the private key whose public half is registered on it."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    client_id: str = Field(min_length=1, pattern=r"^[A-Za-z0-9_-]+$", description="the app's client id")
    private_key: SecretRef = Field(description="reference to the PEM private key (RSA or EC P-256)")
    key_id: str = Field(default="", description="the kid of the public key registered on the app")
    scopes: tuple[str, ...] = Field(default=DEFAULT_SCOPES, min_length=1)
    dpop: bool = Field(default=False, description="the app requires DPoP-bound tokens")

    @field_validator("scopes", mode="before")
    @classmethod
    def _split(cls, value: object) -> object:
        return tuple(value.replace(",", " ").split()) if isinstance(value, str) else value

    @field_validator("scopes")
    @classmethod
    def _okta_scopes(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        wrong = [s for s in value if not SCOPE.match(s)]
        if wrong:
            raise ValueError(f"not Okta API scopes (okta.<resource>.<read|manage>): {', '.join(wrong)}")
        return value


class OktaSettings(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    org_url: str = Field(pattern=r"^https://", description="https://{org}.okta.com")
    api_token: SecretRef | None = Field(default=None, description="an API token (SSWS), legacy")
    oauth: OktaOAuth | None = Field(default=None, description="an OAuth 2.0 service app (recommended)")

    @model_validator(mode="after")
    def _one_credential(self) -> OktaSettings:
        if (self.api_token is None) == (self.oauth is None):
            raise ValueError("api_token or oauth: give exactly one of them (oauth is recommended)")
        return self


class OktaTokenClient(BearerClient):
    vendor, token_vendor = "Okta", "Okta token"
    retry_unauthorized = True

    def __init__(
        self,
        *,
        base: str,
        oauth: OktaOAuth,
        now: Callable[[], datetime],
        client: httpx.Client | None,
        backoff: Backoff,
        sleep: Callable[[float], None] | None,
    ) -> None:
        """``base`` is the org's origin, already checked; the private key is read here."""
        key = SigningKey.from_reference(oauth.private_key, field=KEY_FIELD)
        self.token_url = f"{base}/oauth2/v1/token"
        self.client_id = oauth.client_id
        self.scopes = oauth.scopes
        self._assertion = ClientAssertion(
            key=key,
            client_id=oauth.client_id,
            audience=self.token_url,
            now=now,
            header={"kid": oauth.key_id} if oauth.key_id else None,
        )
        self.dpop = DPoP(now=now) if oauth.dpop else None
        super().__init__(now=now, client=client, backoff=backoff, sleep=sleep)

    def _form(self) -> dict[str, str]:
        return {"grant_type": "client_credentials", "scope": " ".join(self.scopes), **self._assertion.form()}

    def _request_token(self) -> httpx.Response:
        return request_token(
            self._client, self.token_url, form=self._form, vendor=self.token_vendor, dpop=self.dpop
        )

    def _authorization(self, method: str, url: str, token: str) -> dict[str, str]:
        if self.dpop is None:
            return {"Authorization": f"Bearer {token}"}
        return {"Authorization": f"DPoP {token}", "DPoP": self.dpop.proof(method, url, access_token=token)}

    def _nonce_asked(self, response: httpx.Response) -> bool:
        if self.dpop is None or not DPoP.asks_nonce(response):
            return False
        self.dpop.remember(response)
        return True

    def describe(self) -> str:
        bound = "DPoP-bound" if self.dpop is not None else "bearer"
        return f"OAuth service app {self.client_id} ({bound} token, scopes {' '.join(self.scopes)})"
