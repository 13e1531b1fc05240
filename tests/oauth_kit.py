"""Token endpoints of Okta and Entra for respx, following their published contracts (no network).

Keys and certificates are generated here with ``cryptography`` (none is committed). The far ends
check what a real server checks, with ``joserfc`` (an implementation independent of the one that
signs):

- ``OktaAuthServer``: ``POST https://{org}/oauth2/v1/token``, form ``grant_type=client_credentials``,
  ``scope``, ``client_assertion_type=urn:ietf:params:oauth:client-assertion-type:jwt-bearer``,
  ``client_assertion`` = a JWT signed (RS256/ES256) by the key registered on the app, header
  ``kid``, ``iss`` = ``sub`` = client id, ``aud`` = the token URL, ``exp`` at most 1 h ahead, a
  ``jti`` never seen before. Refusals are ``{"error", "error_description"}`` (``invalid_client``,
  ``invalid_scope``, ``invalid_dpop_proof``, ``use_dpop_nonce`` + ``DPoP-Nonce``). With ``dpop``
  the app requires DPoP (RFC 9449): a proof on the token request (``typ dpop+jwt``, ``jwk``,
  ``htm``, ``htu``, ``iat``, ``jti``, then the server's nonce), ``token_type: DPoP``, and on API
  calls ``Authorization: DPoP <token>`` with a proof bound to the same key carrying ``ath``.
- ``EntraAuthServer``: ``POST https://login.microsoftonline.com/{tenant}/oauth2/v2.0/token`` with a
  client secret or a certificate assertion (RS256, ``x5t#S256`` or ``x5t`` of the uploaded
  certificate, ``aud`` = the token URL, ``iss`` = ``sub`` = client id, ``jti``, ``nbf``, ``exp``);
  AADSTS errors in ``error_description``.

``protect(handler)`` wraps an API route's answer: a call without a live token of this server is
answered 401 before the handler runs.
"""

from __future__ import annotations

import base64
import hashlib
import itertools
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit, urlunsplit

import httpx
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import NameOID
from joserfc import jws
from joserfc.jwk import ECKey, RSAKey

ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
Key = rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey


@lru_cache(maxsize=4)
def rsa_key(n: int = 0) -> rsa.RSAPrivateKey:
    """An RSA 2048 key; ``n`` picks another one (cached: generating keys is slow)."""
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def ec_key() -> ec.EllipticCurvePrivateKey:
    return ec.generate_private_key(ec.SECP256R1())


def pem(key: Key) -> str:
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()


def certificate(key: Key, *, cn: str = "deskguard-graph", days: int = 365, start: datetime | None = None):
    """A self-signed certificate of ``key`` (what one uploads to an app registration)."""
    begin = start or datetime(2026, 1, 1, tzinfo=UTC)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)])
    return (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(begin)
        .not_valid_after(begin + timedelta(days=days))
        .sign(key, hashes.SHA256())
    )


def cert_pem(cert: x509.Certificate) -> str:
    return cert.public_bytes(serialization.Encoding.PEM).decode()


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def thumbprints(cert: x509.Certificate) -> tuple[str, str]:
    """(SHA-1, SHA-256) hex thumbprints of the certificate's DER, as a portal shows them."""
    der = cert.public_bytes(serialization.Encoding.DER)
    return hashlib.sha1(der).hexdigest().upper(), hashlib.sha256(der).hexdigest().upper()


def secret_file(tmp_path: Path, name: str, text: str) -> str:
    """A ``file://`` reference to ``text``."""
    path = tmp_path / name
    path.write_text(text)
    return f"file://{path}"


def verify(token: str, public: Any, *, algs: tuple[str, ...]) -> tuple[dict[str, Any], dict[str, Any]]:
    """(header, claims) of a compact JWS whose signature ``public`` verifies; ``ValueError`` else."""
    if isinstance(public, dict):
        jwk = ECKey.import_key(public) if public.get("kty") == "EC" else RSAKey.import_key(public)
    else:
        raw = public.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        jwk = (
            ECKey.import_key(raw) if isinstance(public, ec.EllipticCurvePublicKey) else RSAKey.import_key(raw)
        )
    try:
        obj = jws.deserialize_compact(token, jwk, algorithms=list(algs))
    except Exception as exc:  # joserfc raises its own errors: a bad signature or alg
        raise ValueError(f"signature refused: {type(exc).__name__}") from None
    return dict(obj.headers()), json.loads(obj.payload)


def _oauth_error(status: int, error: str, description: str, **headers: str) -> httpx.Response:
    return httpx.Response(status, json={"error": error, "error_description": description}, headers=headers)


def _form(request: httpx.Request) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(request.content.decode()).items()}


def _htu(url: str) -> str:
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, parts.path, "", ""))


@dataclass
class _Server:
    now: Callable[[], datetime]
    expires_in: int = 3600
    issued: list[str] = field(default_factory=list)
    assertions: list[tuple[dict[str, Any], dict[str, Any]]] = field(default_factory=list)
    revoked: set[str] = field(default_factory=set)
    jtis: set[str] = field(default_factory=set)
    _count: Any = field(default_factory=itertools.count)

    def _claims_ok(self, claims: dict[str, Any], *, client_id: str, audience: str) -> str:
        """'' when the claims are what the contract asks, else the server's description."""
        at = int(self.now().timestamp())
        if claims.get("iss") != client_id or claims.get("sub") != client_id:
            return "The iss and sub claims must be the client_id."
        if claims.get("aud") != audience:
            return "The audience claim for client_assertion must be the endpoint invoked for the request."
        exp = claims.get("exp")
        if not isinstance(exp, int) or exp <= at:
            return "The client_assertion token is expired."
        if exp - at > 3600:
            return "The client_assertion token has an expiration too far into the future."
        jti = claims.get("jti")
        if not isinstance(jti, str) or not jti:
            return "The client_assertion token must have a jti claim."
        if jti in self.jtis:
            return "The client_assertion token has already been used."
        self.jtis.add(jti)
        return ""

    def _issue(self, token_type: str = "Bearer") -> httpx.Response:
        token = f"at-{next(self._count)}"
        self.issued.append(token)
        return httpx.Response(
            200, json={"token_type": token_type, "expires_in": self.expires_in, "access_token": token}
        )

    def live(self, token: str) -> bool:
        return bool(self.issued) and token == self.issued[-1] and token not in self.revoked


@dataclass
class OktaAuthServer(_Server):
    org: str = "https://acme.okta.com"
    client_id: str = "0oa1serviceapp"
    public_key: Any = None
    kid: str = "key-1"
    granted: tuple[str, ...] = (
        "okta.users.read",
        "okta.users.manage",
        "okta.groups.read",
        "okta.groups.manage",
        "okta.logs.read",
    )
    dpop: bool = False
    resource_nonce: str = ""  # set: API calls need this nonce in their proof (RFC 9449 9)
    nonce: str = "n-1"
    dpop_proofs: list[tuple[dict[str, Any], dict[str, Any]]] = field(default_factory=list)
    jkt: str = ""

    @property
    def token_url(self) -> str:
        return f"{self.org}/oauth2/v1/token"

    def __call__(self, request: httpx.Request) -> httpx.Response:
        form = _form(request)
        if form.get("grant_type") != "client_credentials":
            return _oauth_error(400, "unsupported_grant_type", "The grant type is not supported.")
        if form.get("client_assertion_type") != ASSERTION_TYPE or "client_assertion" not in form:
            return _oauth_error(401, "invalid_client", "Client authentication failed.")
        try:
            header, claims = verify(form["client_assertion"], self.public_key, algs=("RS256", "ES256"))
        except ValueError:
            return _oauth_error(401, "invalid_client", "The client_assertion signature is invalid.")
        if header.get("kid") != self.kid:
            return _oauth_error(401, "invalid_client", "The client_assertion kid does not match a key.")
        problem = self._claims_ok(claims, client_id=self.client_id, audience=self.token_url)
        if problem:
            return _oauth_error(401, "invalid_client", problem)
        self.assertions.append((header, claims))
        asked = form.get("scope", "").split()
        refused = [s for s in asked if s not in self.granted]
        if not asked or refused:
            return _oauth_error(
                400, "invalid_scope", f"The following scopes are not allowed: {' '.join(refused)}"
            )
        if not self.dpop:
            return self._issue()
        proof = request.headers.get("DPoP")
        if not proof:
            return _oauth_error(400, "invalid_dpop_proof", "The DPoP proof JWT header is missing.")
        checked = self._proof(proof, method="POST", url=self.token_url, nonce=self.nonce)
        if isinstance(checked, httpx.Response):
            return checked
        self.jkt = checked
        return self._issue("DPoP")

    def _proof(
        self, proof: str, *, method: str, url: str, nonce: str, token: str = ""
    ) -> str | httpx.Response:
        """The proof key's thumbprint, or the refusal."""
        try:
            unverified = json.loads(base64.urlsafe_b64decode(proof.split(".")[0] + "=="))
            jwk = unverified["jwk"]
            header, claims = verify(proof, jwk, algs=("ES256", "RS256"))
        except (ValueError, KeyError, IndexError):
            return _oauth_error(400, "invalid_dpop_proof", "The DPoP proof JWT is invalid.")
        self.dpop_proofs.append((header, claims))
        if header.get("typ") != "dpop+jwt" or "d" in jwk:
            return _oauth_error(400, "invalid_dpop_proof", "The DPoP proof JWT header is invalid.")
        if claims.get("htm") != method or claims.get("htu") != _htu(url) or not claims.get("jti"):
            return _oauth_error(400, "invalid_dpop_proof", "The DPoP proof htm or htu does not match.")
        if abs(int(self.now().timestamp()) - int(claims.get("iat", 0))) > 60:
            return _oauth_error(400, "invalid_dpop_proof", "The DPoP proof iat is out of range.")
        if token and claims.get("ath") != b64url(hashlib.sha256(token.encode()).digest()):
            return _oauth_error(400, "invalid_dpop_proof", "The DPoP proof ath does not match the token.")
        if nonce and claims.get("nonce") != nonce:
            headers = {"DPoP-Nonce": nonce}
            if token:
                headers["WWW-Authenticate"] = 'DPoP error="use_dpop_nonce", error_description="nonce"'
                return httpx.Response(401, headers=headers)
            return _oauth_error(
                400, "use_dpop_nonce", "Authorization server requires nonce in DPoP proof.", **headers
            )
        return json.dumps(jwk, sort_keys=True)

    def protect(self, handler: Callable[[httpx.Request], httpx.Response]):
        def answer(request: httpx.Request) -> httpx.Response:
            scheme, _, token = request.headers.get("Authorization", "").partition(" ")
            if scheme != ("DPoP" if self.dpop else "Bearer") or not self.live(token):
                return httpx.Response(
                    401, json={"errorCode": "E0000011", "errorSummary": "Invalid token provided"}
                )
            if self.dpop:
                checked = self._proof(
                    request.headers.get("DPoP", ""),
                    method=request.method,
                    url=str(request.url),
                    nonce=self.resource_nonce,
                    token=token,
                )
                if isinstance(checked, httpx.Response):
                    return checked
                if checked != self.jkt:
                    return httpx.Response(401, json={"errorSummary": "The DPoP proof key is not the token's"})
            return handler(request)

        return answer


@dataclass
class EntraAuthServer(_Server):
    tenant: str = "contoso.onmicrosoft.com"
    client_id: str = "11111111-aaaa-bbbb-cccc-222222222222"
    secret: str = ""
    cert: x509.Certificate | None = None

    @property
    def token_url(self) -> str:
        return f"https://login.microsoftonline.com/{self.tenant}/oauth2/v2.0/token"

    def __call__(self, request: httpx.Request) -> httpx.Response:
        form = _form(request)
        if form.get("grant_type") != "client_credentials" or form.get("client_id") != self.client_id:
            return _oauth_error(400, "unauthorized_client", "AADSTS700016: Application not found.")
        if form.get("scope") != "https://graph.microsoft.com/.default":
            return _oauth_error(
                400, "invalid_scope", "AADSTS1002012: The provided value for scope is not valid."
            )
        if "client_secret" in form:
            if not self.secret or form["client_secret"] != self.secret:
                return _oauth_error(401, "invalid_client", "AADSTS7000215: Invalid client secret provided.")
            return self._issue()
        if form.get("client_assertion_type") != ASSERTION_TYPE or self.cert is None:
            return _oauth_error(401, "invalid_client", "AADSTS7000216: client_assertion is required.")
        try:
            header, claims = verify(form["client_assertion"], self.cert.public_key(), algs=("RS256",))
        except ValueError:
            return _oauth_error(
                401, "invalid_client", "AADSTS700027: Client assertion failed signature validation."
            )
        sha1, sha256 = thumbprints(self.cert)
        known = {b64url(bytes.fromhex(sha256)), b64url(bytes.fromhex(sha1))}
        if not {header.get("x5t#S256"), header.get("x5t")} & known:
            return _oauth_error(
                401,
                "invalid_client",
                "AADSTS700027: The certificate with identifier used to sign is not registered.",
            )
        if not isinstance(claims.get("nbf"), int) or claims["nbf"] > int(self.now().timestamp()) + 60:
            return _oauth_error(
                401, "invalid_client", "AADSTS700024: Client assertion is not within its valid time range."
            )
        problem = self._claims_ok(claims, client_id=self.client_id, audience=self.token_url)
        if problem:
            return _oauth_error(401, "invalid_client", f"AADSTS700027: {problem}")
        self.assertions.append((header, claims))
        return self._issue()

    def protect(self, handler: Callable[[httpx.Request], httpx.Response]):
        def answer(request: httpx.Request) -> httpx.Response:
            scheme, _, token = request.headers.get("Authorization", "").partition(" ")
            if scheme != "Bearer" or not self.live(token):
                return httpx.Response(
                    401,
                    json={
                        "error": {
                            "code": "InvalidAuthenticationToken",
                            "message": "Lifetime validation failed",
                        }
                    },
                )
            return handler(request)

        return answer


class Clock:
    def __init__(self, at: datetime | None = None) -> None:
        self.at = at or datetime(2026, 12, 1, 10, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.at


# --- the adapters under each credential mode, for suites parametrised over them -------------------

OKTA_MODES = ("api_token", "oauth", "oauth_dpop")
ENTRA_MODES = ("client_secret", "certificate")


def okta_for(
    mode: str,
    *,
    mock: Any,
    tmp_path: Path,
    monkeypatch: Any,
    now: Callable[[], datetime],
    org: str = "https://acme.okta.com",
    **provider: Any,
) -> tuple[Any, OktaAuthServer | None]:
    """An ``OktaIdentityProvider`` of ``org`` authenticated the ``mode`` way, and its token server
    (served on ``mock``; None with an API token, whose value is ``t``)."""
    from deskguard.adapters.idp.okta import OktaIdentityProvider
    from deskguard.adapters.idp.okta_oauth import OktaOAuth

    if mode == "api_token":
        monkeypatch.setenv("KIT_OKTA_TOKEN", "t")
        return OktaIdentityProvider(org_url=org, api_token="env://KIT_OKTA_TOKEN", **provider), None
    key = rsa_key()
    server = OktaAuthServer(now=now, org=org, public_key=key.public_key(), dpop=mode == "oauth_dpop")
    mock.post(server.token_url).mock(side_effect=server)
    oauth = OktaOAuth(
        client_id=server.client_id,
        private_key=secret_file(tmp_path, "okta-app.pem", pem(key)),
        key_id=server.kid,
        dpop=server.dpop,
    )
    return OktaIdentityProvider(org_url=org, oauth=oauth, now=now, **provider), server


def entra_graph_for(
    mode: str,
    *,
    mock: Any,
    tmp_path: Path,
    monkeypatch: Any,
    now: Callable[[], datetime],
    tenant: str = "contoso.onmicrosoft.com",
    **graph: Any,
) -> tuple[Any, EntraAuthServer]:
    """A ``GraphClient`` authenticated with a client secret or a certificate, and its token server."""
    from deskguard.adapters.idp.entra import GraphClient
    from deskguard.adapters.idp.entra_auth import EntraCertificate

    server = EntraAuthServer(now=now, tenant=tenant)
    mock.post(server.token_url).mock(side_effect=server)
    if mode == "client_secret":
        server.secret = "s3cret-value"
        monkeypatch.setenv("KIT_ENTRA_SECRET", server.secret)
        credential: dict[str, Any] = {"client_secret": "env://KIT_ENTRA_SECRET"}
    else:
        key = rsa_key(1)
        server.cert = certificate(key)
        credential = {
            "client_certificate": EntraCertificate(
                private_key=secret_file(tmp_path, "graph.key", pem(key)),
                certificate=secret_file(tmp_path, "graph.crt", cert_pem(server.cert)),
            )
        }
    client = GraphClient(tenant_id=tenant, client_id=server.client_id, now=now, **credential, **graph)
    return client, server


def answer(route: Any, server: _Server | None, status: int = 200, **response: Any) -> Any:
    """``route`` answers ``status`` / ``response``; behind ``server``'s token check when there is one."""
    if server is None:
        return route.respond(status, **response)
    route.mock(side_effect=server.protect(lambda _request: httpx.Response(status, **response)))
    return route
