"""A real local OpenID provider for tests: discovery, JWKS, authorize, token, on a loopback port.

``OidcProvider`` is a threaded HTTP server (``http.server``) that behaves as an OpenID Connect
provider does for a confidential web client using the authorization code flow (OpenID Connect
Core 1.0 §3.1, RFC 6749 §4.1, PKCE RFC 7636):

- ``/.well-known/openid-configuration``: the discovery document (issuer, endpoints, ``jwks_uri``);
- ``/jwks``: the public half of an RSA-2048 key generated with ``cryptography`` at start;
- ``/authorize``: checks ``response_type=code``, the client id, ``scope`` with ``openid`` and an S256
  ``code_challenge``, then approves the configured user at once (no login form) and redirects to the
  ``redirect_uri`` with ``code`` and ``state``, remembering the nonce, the challenge and the URI
  (``interactive=True``: a page of the provider with a "Continue" link to that address instead, so
  that the way back is a navigation started by the provider's site, as after a real login form);
- ``/token``: checks the client's HTTP Basic authentication (``client_secret_basic``), that the code
  exists, is unused and was issued for this ``redirect_uri``, and the PKCE verifier against the
  challenge; answers with an access token and an RS256 ID token (``iss``, ``aud``, ``sub``, ``email``,
  ``email_verified``, ``nonce``, ``iat``, ``exp``, ``amr``), signed here with ``cryptography``
  (independently of the joserfc code under test).

Knobs (``provider.misbehave``) make it wrong in one way each: ``wrong_nonce``, ``wrong_aud``,
``wrong_iss``, ``expired``, ``unverified_email``, ``no_mfa``, ``bad_signature`` (signed by another key
under the published ``kid``), ``deny`` (``error=access_denied`` instead of a code). ``rotate()`` starts
signing with a new key that is published too, as a provider does when it rolls its keys.
"""

from __future__ import annotations

import base64
import hashlib
import html
import json
import secrets
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa

KNOBS = frozenset(
    {
        "wrong_nonce",
        "wrong_aud",
        "wrong_iss",
        "expired",
        "unverified_email",
        "no_mfa",
        "bad_signature",
        "deny",
    }
)


def b64u(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _uint(n: int) -> str:
    return b64u(n.to_bytes((n.bit_length() + 7) // 8, "big"))


@dataclass
class SigningKey:
    kid: str
    key: rsa.RSAPrivateKey = field(default_factory=lambda: rsa.generate_private_key(65537, 2048))

    def jwk(self) -> dict[str, str]:
        public = self.key.public_key().public_numbers()
        return {
            "kty": "RSA",
            "kid": self.kid,
            "use": "sig",
            "alg": "RS256",
            "n": _uint(public.n),
            "e": _uint(public.e),
        }

    def sign(self, claims: dict[str, Any], *, kid: str | None = None) -> str:
        header = {"alg": "RS256", "typ": "JWT", "kid": kid or self.kid}
        signing_input = f"{b64u(json.dumps(header).encode())}.{b64u(json.dumps(claims).encode())}"
        signature = self.key.sign(signing_input.encode(), padding.PKCS1v15(), hashes.SHA256())
        return f"{signing_input}.{b64u(signature)}"


@dataclass
class Grant:
    """What ``/authorize`` remembered for one code."""

    redirect_uri: str
    nonce: str
    challenge: str
    used: bool = False


@dataclass
class OidcProvider:
    host: str = "127.0.0.1"
    client_id: str = "deskguard-console"
    client_secret: str = "s3cret-of-the-console"
    email: str = "alice.agent@desk.example"
    sub: str = "00u-alice"
    amr: list[str] = field(default_factory=lambda: ["pwd", "otp"])
    now: Callable[[], float] = time.time
    misbehave: set[str] = field(default_factory=set)
    interactive: bool = False  # /authorize answers with a page whose link goes back (not a redirect)
    keys: list[SigningKey] = field(default_factory=lambda: [SigningKey("k1")])
    grants: dict[str, Grant] = field(default_factory=dict)
    requests: list[str] = field(default_factory=list)  # "METHOD /path" of each request, in order
    port: int = 0

    @property
    def issuer(self) -> str:
        return f"http://{self.host}:{self.port}"

    def rotate(self) -> SigningKey:
        self.keys.append(SigningKey(f"k{len(self.keys) + 1}"))
        return self.keys[-1]

    def discovery(self) -> dict[str, Any]:
        return {
            "issuer": self.issuer,
            "authorization_endpoint": self.issuer + "/authorize",
            "token_endpoint": self.issuer + "/token",
            "jwks_uri": self.issuer + "/jwks",
            "response_types_supported": ["code"],
            "subject_types_supported": ["public"],
            "id_token_signing_alg_values_supported": ["RS256"],
            "token_endpoint_auth_methods_supported": ["client_secret_basic"],
            "code_challenge_methods_supported": ["S256"],
            "scopes_supported": ["openid", "email", "profile"],
            "claims_supported": ["iss", "aud", "sub", "email", "email_verified", "nonce", "amr"],
        }

    def authorize(self, query: dict[str, str]) -> tuple[int, dict[str, str]]:
        """(status, headers or error body): a redirect with a code, or 400 when the request is bad."""
        redirect_uri = query.get("redirect_uri", "")
        if query.get("client_id") != self.client_id or not redirect_uri.startswith(("http://", "https://")):
            return 400, {"error": "invalid_request", "error_description": "unknown client or redirect_uri"}
        state = query.get("state", "")
        if (
            query.get("response_type") != "code"
            or "openid" not in query.get("scope", "").split()
            or query.get("code_challenge_method") != "S256"
            or not query.get("code_challenge")
        ):
            answer = {"error": "invalid_request", "state": state}
        elif "deny" in self.misbehave:
            answer = {"error": "access_denied", "state": state}
        else:
            code = secrets.token_urlsafe(24)
            self.grants[code] = Grant(redirect_uri, query.get("nonce", ""), query["code_challenge"])
            answer = {"code": code, "state": state}
        joiner = "&" if urlsplit(redirect_uri).query else "?"
        return 302, {"Location": redirect_uri + joiner + urlencode(answer)}

    def token(self, form: dict[str, str], authorization: str) -> tuple[int, dict[str, Any]]:
        expected = "Basic " + base64.b64encode(f"{self.client_id}:{self.client_secret}".encode()).decode()
        if not secrets.compare_digest(authorization, expected):
            return 401, {"error": "invalid_client"}
        grant = self.grants.get(form.get("code", ""))
        if form.get("grant_type") != "authorization_code" or grant is None or grant.used:
            return 400, {"error": "invalid_grant", "error_description": "unknown or used code"}
        if form.get("redirect_uri") != grant.redirect_uri:
            return 400, {"error": "invalid_grant", "error_description": "redirect_uri differs"}
        verifier = form.get("code_verifier", "")
        if b64u(hashlib.sha256(verifier.encode()).digest()) != grant.challenge:
            return 400, {"error": "invalid_grant", "error_description": "PKCE verifier does not match"}
        grant.used = True
        return 200, {
            "access_token": secrets.token_urlsafe(24),
            "token_type": "Bearer",
            "expires_in": 300,
            "id_token": self.id_token(grant.nonce),
        }

    def id_token(self, nonce: str) -> str:
        now, bad = int(self.now()), self.misbehave
        claims = {
            "iss": self.issuer + "/other" if "wrong_iss" in bad else self.issuer,
            "aud": "someone-else" if "wrong_aud" in bad else self.client_id,
            "sub": self.sub,
            "email": self.email,
            "email_verified": "unverified_email" not in bad,
            "nonce": "n-" + secrets.token_urlsafe(8) if "wrong_nonce" in bad else nonce,
            "iat": now - 7200 if "expired" in bad else now,
            "exp": now - 3600 if "expired" in bad else now + 300,
            "amr": ["pwd"] if "no_mfa" in bad else self.amr,
        }
        current = self.keys[-1]
        if "bad_signature" in bad:
            return SigningKey("forger").sign(claims, kid=current.kid)
        return current.sign(claims)


def _handler(provider: OidcProvider) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: object) -> None:  # noqa: A002 - the base's name
            pass

        def _answer(self, status: int, body: dict[str, Any], headers: dict[str, str] | None = None) -> None:
            raw = json.dumps(body).encode()
            self.send_response(status)
            for name, value in (headers or {}).items():
                self.send_header(name, value)
            self.send_header("Content-Type", "application/json")
            self.send_header("Cache-Control", "no-store")
            self.send_header("Content-Length", str(len(raw)))
            self.end_headers()
            self.wfile.write(raw)

        def _page(self, location: str) -> None:
            """The provider's own page: the way back is a link the person follows from this site."""
            raw = (
                "<!doctype html><html lang=en><title>Company sign-in</title><h1>Company sign-in</h1>"
                f'<p><a href="{html.escape(location)}">Continue as {html.escape(provider.email)}</a></p>'
            ).encode()
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(raw)))
            self.end_headers()
            self.wfile.write(raw)

        def do_GET(self) -> None:  # noqa: N802 - http.server's name
            parts = urlsplit(self.path)
            provider.requests.append(f"GET {parts.path}")
            query = {k: v[0] for k, v in parse_qs(parts.query).items()}
            if parts.path == "/.well-known/openid-configuration":
                self._answer(200, provider.discovery())
            elif parts.path == "/jwks":
                self._answer(200, {"keys": [k.jwk() for k in provider.keys]})
            elif parts.path == "/authorize":
                status, answer = provider.authorize(query)
                if status == 302 and provider.interactive:
                    self._page(answer["Location"])
                elif status == 302:
                    self._answer(302, {}, answer)
                else:
                    self._answer(status, answer)
            elif parts.path == "/favicon.ico":  # asked by the browser on the provider's page
                self.send_response(204)
                self.end_headers()
            else:
                self._answer(404, {"error": "not_found"})

        def do_POST(self) -> None:  # noqa: N802
            provider.requests.append(f"POST {self.path}")
            if self.path != "/token":
                self._answer(404, {"error": "not_found"})
                return
            length = int(self.headers.get("Content-Length", "0"))
            form = {k: v[0] for k, v in parse_qs(self.rfile.read(length).decode()).items()}
            status, body = provider.token(form, self.headers.get("Authorization", ""))
            self._answer(status, body)

    return Handler


@contextmanager
def oidc_provider(**options: Any) -> Iterator[OidcProvider]:
    """A running provider on a free loopback port; stopped on exit."""
    unknown = set(options.get("misbehave", set())) - KNOBS
    if unknown:
        raise ValueError(f"unknown misbehaviour {sorted(unknown)}; known: {sorted(KNOBS)}")
    provider = OidcProvider(**options)
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(provider))
    server.daemon_threads = True
    provider.port = server.server_address[1]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield provider
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)
