"""OpenID Connect sign-in to the console (authorization code flow with PKCE, state and nonce).

Authlib builds the authorization request and exchanges the code; joserfc checks the ID token: its
RS256/ES256 signature against the provider's JWKS (fetched from the discovery document, fetched
again once when a token names an unknown key: rotation; a bad signature does not refetch), and the
``iss``, ``aud``, ``exp``, ``iat`` and ``nonce`` claims. What comes back is the validated claims;
mapping them to a console account is ``app.console_oidc``. The client secret is a reference (``env://`` / ``file://``).
"""

from __future__ import annotations

import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import httpx
from authlib.common.security import generate_token
from authlib.oauth2.rfc7636 import create_s256_code_challenge
from joserfc import jwt
from joserfc.errors import InvalidKeyIdError, JoseError
from joserfc.jwk import KeySet

from deskguard.adapters.connectors.http import DEFAULT_TIMEOUT, json_body, send
from deskguard.adapters.connectors.secrets import resolve
from deskguard.domain.errors import ConnectorError, Unauthenticated

VENDOR = "the OpenID provider"
ALGORITHMS = ("RS256", "ES256")


def _oauth2_client() -> Any:
    """Authlib's httpx OAuth 2 client, imported on first use: Authlib 1.9 announces (at import, on every
    run) that it prefers ``httpx2``, which deskguard does not use; the announcement is not for our users."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        from authlib.integrations.httpx_client import OAuth2Client
    return OAuth2Client


@dataclass(frozen=True, slots=True, kw_only=True)
class Transaction:
    """What the callback must find again: kept sealed in a short-lived cookie of the browser."""

    state: str
    nonce: str
    verifier: str

    def as_dict(self) -> dict[str, str]:
        return {"state": self.state, "nonce": self.nonce, "verifier": self.verifier}


@dataclass
class OidcSignIn:
    issuer: str
    client_id: str
    client_secret_ref: str
    scopes: str = "openid email profile"
    require_mfa: bool = True  # the ID token must show MFA (app.console_oidc.shows_mfa)
    now: Callable[[], float] = time.time
    _discovery: dict[str, Any] = field(default_factory=dict)
    _keys: KeySet | None = None

    def _http(self) -> httpx.Client:
        return httpx.Client(timeout=DEFAULT_TIMEOUT)

    def discovery(self) -> dict[str, Any]:
        if not self._discovery:
            url = self.issuer.rstrip("/") + "/.well-known/openid-configuration"
            with self._http() as client:
                found = json_body(send(client, "GET", url, vendor=VENDOR), vendor=VENDOR)
            if not isinstance(found, dict) or found.get("issuer") != self.issuer:
                raise ConnectorError(f"{VENDOR}'s discovery document does not name the issuer {self.issuer}")
            self._discovery = found
        return self._discovery

    def _jwks(self, *, refresh: bool = False) -> KeySet:
        if self._keys is None or refresh:
            with self._http() as client:
                data = json_body(
                    send(client, "GET", self.discovery()["jwks_uri"], vendor=VENDOR), vendor=VENDOR
                )
            self._keys = KeySet.import_key_set(data)
        return self._keys

    def begin(self, *, redirect_uri: str) -> tuple[str, Transaction]:
        """The provider's authorization URL, and the transaction the callback will check."""
        tx = Transaction(state=generate_token(32), nonce=generate_token(32), verifier=generate_token(64))
        client = _oauth2_client()(self.client_id, scope=self.scopes, redirect_uri=redirect_uri)
        url, _ = client.create_authorization_url(
            self.discovery()["authorization_endpoint"],
            state=tx.state,
            nonce=tx.nonce,
            code_challenge=create_s256_code_challenge(tx.verifier),
            code_challenge_method="S256",
        )
        return url, tx

    def finish(self, *, code: str, redirect_uri: str, tx: Transaction) -> dict[str, Any]:
        """Exchange the code (with the PKCE verifier) and return the ID token's validated claims."""
        secret = resolve(self.client_secret_ref, field="oidc_client_secret")
        with _oauth2_client()(
            self.client_id, secret, redirect_uri=redirect_uri, timeout=DEFAULT_TIMEOUT
        ) as client:
            try:
                token = client.fetch_token(
                    self.discovery()["token_endpoint"], code=code, code_verifier=tx.verifier
                )
            except Exception as exc:  # noqa: BLE001 - Authlib raises OAuthError or httpx errors: all refusals
                raise Unauthenticated(f"{VENDOR} refused the code: {exc}") from None
        id_token = token.get("id_token")
        if not isinstance(id_token, str):
            raise Unauthenticated(f"{VENDOR} sent no ID token")
        return self.validate(id_token, nonce=tx.nonce)

    def validate(self, id_token: str, *, nonce: str) -> dict[str, Any]:
        try:
            try:
                decoded = jwt.decode(id_token, self._jwks(), algorithms=list(ALGORITHMS))
            except InvalidKeyIdError:  # a key the provider rolled in since: fetch the set again, once
                decoded = jwt.decode(id_token, self._jwks(refresh=True), algorithms=list(ALGORITHMS))
            jwt.JWTClaimsRegistry(
                now=int(self.now()),
                leeway=60,
                iss={"essential": True, "value": self.issuer},
                aud={"essential": True, "value": self.client_id},
                exp={"essential": True},
                iat={"essential": True},
                sub={"essential": True},
                nonce={"essential": True, "value": nonce},
            ).validate(decoded.claims)
        except (ValueError, JoseError) as exc:
            raise Unauthenticated(f"the ID token is not valid: {exc}") from None
        return dict(decoded.claims)
