"""Signed JWT assertions (RFC 7523): how a connector proves it is the registered OAuth client
(``private_key_jwt``) or obtains a token with a signed grant, without a shared secret.

A ``SigningKey`` is a private key read from a ``SecretRef`` (PEM: PKCS#8, PKCS#1 or SEC1; RSA of
2048 bits or more, or EC P-256). It signs compact JWS with ``cryptography`` (RS256, ES256);
the key object never leaves this module and is never logged. A ``ClientAssertion`` builds, for each
token request, a fresh JWT with ``iss`` = ``sub`` = the client id, ``aud`` = the token endpoint, a
unique ``jti`` and a short life (5 minutes by default, 1 hour at most), plus the header that names
the key: ``kid`` for Okta, the certificate thumbprints ``x5t#S256`` / ``x5t`` for Entra
(``certificate_header``). ``JwtAssertion``, which ``ClientAssertion`` specialises, is the general
form: a ``sub`` other than ``iss``, extra claims, ``jti``/``nbf`` optional, and ``grant()`` for the
JWT-bearer grant; Google's service-account assertion (``iss`` = the account, ``sub`` = the
impersonated admin, ``scope``, no ``jti``) is one. Okta, Entra and Google share this module; the
DPoP proofs (``connectors.dpop``) sign with the same ``SigningKey``.
"""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature

from deskguard.adapters.connectors.secrets import resolve
from deskguard.domain.errors import ConfigurationError

ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
JWT_BEARER_GRANT = "urn:ietf:params:oauth:grant-type:jwt-bearer"
REGISTERED_CLAIMS = frozenset({"iss", "sub", "aud", "jti", "iat", "nbf", "exp"})
DEFAULT_LIFETIME_S = 300
MAX_LIFETIME_S = 3600  # Okta refuses a longer one; Entra recommends 5 to 10 minutes
MIN_RSA_BITS = 2048
PEM_CERTIFICATE = "-----BEGIN CERTIFICATE-----"


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _json(part: Mapping[str, Any]) -> bytes:
    return json.dumps(dict(part), separators=(",", ":"), sort_keys=True).encode()


def _fail(field: str, message: str) -> ConfigurationError:
    return ConfigurationError(f"{field}: {message}", field=field)


class SigningKey:
    """A private key that signs JWS; ``alg`` is RS256 for RSA, ES256 for EC P-256."""

    def __init__(self, pem: str, *, field: str, alg: str | None = None) -> None:
        try:
            key = serialization.load_pem_private_key(pem.encode(), password=None)
        except TypeError:
            raise _fail(field, "the private key is encrypted; give it unencrypted (PKCS#8 PEM)") from None
        except ValueError:
            raise _fail(field, "not a PEM private key (-----BEGIN PRIVATE KEY-----)") from None
        if isinstance(key, rsa.RSAPrivateKey):
            if key.key_size < MIN_RSA_BITS:
                raise _fail(
                    field, f"an RSA key of {key.key_size} bits is too short ({MIN_RSA_BITS} at least)"
                )
            chosen = alg or "RS256"
            if chosen != "RS256":
                raise _fail(field, f"an RSA key signs RS256, not {chosen}")
        elif isinstance(key, ec.EllipticCurvePrivateKey) and isinstance(key.curve, ec.SECP256R1):
            chosen = alg or "ES256"
            if chosen != "ES256":
                raise _fail(field, f"an EC P-256 key signs ES256, not {chosen}")
        else:
            raise _fail(field, "the private key must be RSA (2048 bits or more) or EC P-256")
        self.alg = chosen
        self.field = field
        self._key: rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey = key

    @classmethod
    def from_reference(cls, reference: str, *, field: str, alg: str | None = None) -> SigningKey:
        """The key a ``SecretRef`` points to; an inline key is refused naming ``field``."""
        return cls(_resolved(reference, field=field), field=field, alg=alg)

    @classmethod
    def generate(cls) -> SigningKey:
        """A fresh EC P-256 key held in memory only (DPoP proofs)."""
        pem = ec.generate_private_key(ec.SECP256R1()).private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
        return cls(pem.decode(), field="dpop_key")

    def public_key(self) -> rsa.RSAPublicKey | ec.EllipticCurvePublicKey:
        return self._key.public_key()

    def public_jwk(self) -> dict[str, str]:
        """The public half as a JWK (RFC 7517): what a DPoP proof carries in its header."""
        public = self._key.public_key()
        if isinstance(public, rsa.RSAPublicKey):
            numbers = public.public_numbers()
            return {"kty": "RSA", "e": b64url(_unsigned(numbers.e)), "n": b64url(_unsigned(numbers.n))}
        point = public.public_numbers()
        return {"kty": "EC", "crv": "P-256", "x": b64url(point.x.to_bytes(32, "big")),
                "y": b64url(point.y.to_bytes(32, "big"))}  # fmt: skip

    def sign(self, header: Mapping[str, Any], claims: Mapping[str, Any]) -> str:
        """A compact JWS of ``claims``; ``alg`` is set here, the rest of the header is the caller's."""
        signing_input = f"{b64url(_json({**header, 'alg': self.alg}))}.{b64url(_json(claims))}"
        data = signing_input.encode("ascii")
        if isinstance(self._key, rsa.RSAPrivateKey):
            signature = self._key.sign(data, padding.PKCS1v15(), hashes.SHA256())
        else:  # JWS wants r || s, 32 bytes each, not the DER sequence cryptography returns
            r, s = decode_dss_signature(self._key.sign(data, ec.ECDSA(hashes.SHA256())))
            signature = r.to_bytes(32, "big") + s.to_bytes(32, "big")
        return f"{signing_input}.{b64url(signature)}"


def _unsigned(value: int) -> bytes:
    return value.to_bytes((value.bit_length() + 7) // 8, "big")


def _resolved(reference: str, *, field: str) -> str:
    try:
        return resolve(reference, field=field)
    except ValueError as exc:
        raise _fail(field, str(exc)) from None


def load_certificate(text: str, *, field: str) -> x509.Certificate:
    """The first PEM certificate in ``text``."""
    start = text.find(PEM_CERTIFICATE)
    if start < 0:
        raise _fail(field, "no PEM certificate (-----BEGIN CERTIFICATE-----) found")
    try:
        return x509.load_pem_x509_certificate(text[start:].encode())
    except ValueError:
        raise _fail(field, "the PEM certificate cannot be read") from None


def certificate_header(cert: x509.Certificate, key: SigningKey, *, field: str) -> dict[str, str]:
    """``x5t#S256`` and ``x5t`` of ``cert``, once checked that it certifies ``key``."""
    ours = key.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    theirs = cert.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    if ours != theirs:
        raise _fail(field, "the certificate is not the private key's (their public keys differ)")
    der = cert.public_bytes(serialization.Encoding.DER)
    return {"x5t#S256": b64url(hashlib.sha256(der).digest()), "x5t": b64url(hashlib.sha1(der).digest())}


def thumbprint_header(thumbprint: str, *, field: str) -> dict[str, str]:
    """A hex thumbprint as the portal shows it: 40 digits (SHA-1) -> ``x5t``, 64 (SHA-256) -> ``x5t#S256``."""
    digits = thumbprint.replace(":", "").replace(" ", "").strip()
    try:
        raw = bytes.fromhex(digits)
    except ValueError:
        raise _fail(field, f"{thumbprint!r} is not a hexadecimal thumbprint") from None
    if len(raw) == 20:
        return {"x5t": b64url(raw)}
    if len(raw) == 32:
        return {"x5t#S256": b64url(raw)}
    raise _fail(field, "a thumbprint is 40 hex digits (SHA-1) or 64 (SHA-256)")


def new_jti() -> str:
    return secrets.token_urlsafe(24)


class JwtAssertion:
    """Builds one signed JWT per request (RFC 7523 section 3): ``iss``, ``sub`` (``subject``, else
    the issuer), ``aud``, ``iat`` and ``exp``, by default also ``nbf`` and a fresh ``jti`` (never used
    twice), plus the caller's other ``claims`` (Google's ``scope``), which may not replace these."""

    def __init__(
        self,
        *,
        key: SigningKey,
        issuer: str,
        audience: str,
        now: Callable[[], datetime],
        subject: str | None = None,
        claims: Mapping[str, Any] | None = None,
        header: Mapping[str, str] | None = None,
        lifetime_s: int = DEFAULT_LIFETIME_S,
        jti: Callable[[], str] | None = new_jti,
        not_before: bool = True,
    ) -> None:
        """``jti=None`` and ``not_before=False`` leave those claims out, for a token endpoint whose
        documented claim set has neither (Google's)."""
        if not issuer or not audience or subject == "":
            raise ValueError("an assertion needs an issuer, an audience and a non-empty subject")
        if not 30 <= lifetime_s <= MAX_LIFETIME_S:
            raise ValueError(f"an assertion lives 30 s to {MAX_LIFETIME_S} s, not {lifetime_s}")
        clash = sorted(REGISTERED_CLAIMS.intersection(claims or {}))
        if clash:
            raise ValueError(f"claims {clash} are set by the assertion itself, not by the caller")
        self.key = key
        self.issuer = issuer
        self.subject = subject or issuer
        self.audience = audience
        self._now = now
        self._claims = dict(claims or {})
        self._header = {"typ": "JWT", **(header or {})}
        self._lifetime = lifetime_s
        self._jti = jti
        self._not_before = not_before

    def __call__(self) -> str:
        issued = int(self._now().astimezone(UTC).timestamp())
        claims: dict[str, Any] = {"iss": self.issuer, "sub": self.subject, "aud": self.audience}
        if self._jti is not None:
            claims["jti"] = self._jti()
        claims["iat"] = issued
        if self._not_before:
            claims["nbf"] = issued
        claims["exp"] = issued + self._lifetime
        return self.key.sign(self._header, {**self._claims, **claims})

    def grant(self) -> dict[str, str]:
        """The fields of a token request that uses the assertion as the grant (RFC 7523 section 2.1)."""
        return {"grant_type": JWT_BEARER_GRANT, "assertion": self()}


class ClientAssertion(JwtAssertion):
    """A client authentication assertion (RFC 7523 section 2.2): ``iss`` = ``sub`` = the client id."""

    def __init__(
        self,
        *,
        key: SigningKey,
        client_id: str,
        audience: str,
        now: Callable[[], datetime],
        header: Mapping[str, str] | None = None,
        lifetime_s: int = DEFAULT_LIFETIME_S,
        jti: Callable[[], str] = new_jti,
    ) -> None:
        if not client_id:
            raise ConfigurationError("client_id is required for a client assertion", field="client_id")
        super().__init__(
            key=key,
            issuer=client_id,
            audience=audience,
            now=now,
            header=header,
            lifetime_s=lifetime_s,
            jti=jti,
        )
        self.client_id = client_id

    def form(self) -> dict[str, str]:
        """The client-authentication fields of a token request, with a fresh assertion."""
        return {"client_assertion_type": ASSERTION_TYPE, "client_assertion": self()}
