"""STIR/SHAKEN: the PASSporT of a SIP Identity header, parsed and verified (RFC 8224, 8225, 8588).

``parse_identity`` reads ``Identity: <header>.<payload>.<signature>;info=<url>;alg=ES256;ppt=shaken``.
``verify`` checks, given the certificate chain the ``x5u`` URL served (fetched by an adapter) and
the trust anchors deskguard is configured with:

- the JOSE header: ``alg`` ES256, ``typ`` passport, ``ppt`` shaken, ``x5u`` equal to ``info``;
- the claims' types (RFC 8225): ``iat`` a NumericDate - an integer; RFC 8588's printed example
  writes a string, which Errata 6656 corrects - ``orig.tn``, ``dest``, ``attest`` A/B/C, ``origid``;
- freshness: ``iat`` within ``max_age_s`` (60 s, RFC 8224 section 6.2.1) of now;
- ``orig.tn`` against the caller number the call presented;
- the chain: each certificate valid now and signed by the next, the last signed by (or being) a
  trust anchor;
- the ES256 signature over ``header.payload`` with the leaf certificate's P-256 key.

What it does not check yet: revocation, and the TNAuthList (SPC) extension of the certificate.
Pure: the caller passes the chain, the anchors and the time.
"""

from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature

MAX_AGE_S = 60.0
ATTESTS = ("A", "B", "C")


class IdentityError(ValueError):
    """The SIP Identity header does not hold a readable PASSporT."""


@dataclass(frozen=True, slots=True)
class Identity:
    header_b64: str
    payload_b64: str
    signature_b64: str
    jose: dict[str, Any]
    claims: dict[str, Any]
    params: dict[str, str]  # info, alg, ppt from the header field

    @property
    def signing_input(self) -> bytes:
        return f"{self.header_b64}.{self.payload_b64}".encode("ascii")


@dataclass(frozen=True, slots=True)
class Verdict:
    ok: bool
    attestation: str  # the claimed A/B/C when everything holds, else "failed"
    failures: tuple[str, ...]  # what did not hold, in words
    notes: tuple[str, ...] = field(default=())  # what holds but is worth knowing (non-canonical JSON)


def load_chain(data: bytes) -> list[x509.Certificate]:
    """The certificates an ``x5u`` URL served: a PEM bundle (leaf first) or one DER certificate."""
    try:
        if b"-----BEGIN CERTIFICATE-----" in data:
            return x509.load_pem_x509_certificates(data)
        return [x509.load_der_x509_certificate(data)]
    except ValueError as exc:
        raise IdentityError(f"the x5u URL did not serve a certificate: {exc}") from None


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64url(part: str, what: str) -> bytes:
    try:
        return base64.urlsafe_b64decode(part + "=" * (-len(part) % 4))
    except (binascii.Error, ValueError) as exc:
        raise IdentityError(f"the PASSporT {what} is not base64url") from exc


def _json(part: str, what: str) -> dict[str, Any]:
    try:
        value = json.loads(_unb64url(part, what).decode("utf-8"))
    except (ValueError, UnicodeDecodeError) as exc:
        raise IdentityError(f"the PASSporT {what} is not base64url JSON") from exc
    if not isinstance(value, dict):
        raise IdentityError("the PASSporT header and payload must be JSON objects")
    return value


def canonical(value: dict[str, Any]) -> bytes:
    """RFC 8225 section 9: keys in lexicographic order, no whitespace, UTF-8."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def parse_identity(header: str) -> Identity:
    """The parts of an ``Identity`` header value (angle brackets or quotes around the token tolerated)."""
    token, _, rest = header.partition(";")
    parts = token.strip().strip("<>\"' ").split(".")
    if len(parts) != 3:
        raise IdentityError("not a JWS compact serialisation (header.payload.signature)")
    if not parts[1]:
        raise IdentityError("compact form: the claims are not carried in the header")
    params: dict[str, str] = {}
    for item in rest.split(";"):
        name, _, value = item.strip().partition("=")
        if name:
            params[name.strip().lower()] = value.strip().strip('<>"')
    return Identity(
        header_b64=parts[0],
        payload_b64=parts[1],
        signature_b64=parts[2],
        jose=_json(parts[0], "header"),
        claims=_json(parts[1], "payload"),
        params=params,
    )


def verify(
    identity: Identity,
    *,
    chain: list[x509.Certificate],
    anchors: list[x509.Certificate],
    now: float,
    caller_number: str,
    max_age_s: float = MAX_AGE_S,
) -> Verdict:
    failures = [*_header_failures(identity), *_claim_failures(identity.claims, now, max_age_s, caller_number)]
    failures.extend(_chain_failures(chain, anchors, now))
    if chain and not failures:
        failures.extend(_signature_failures(identity, chain[0]))
    notes = []
    if b64url(canonical(identity.jose)) != identity.header_b64 or b64url(canonical(identity.claims)) != (
        identity.payload_b64
    ):
        notes.append("the header or payload is not in RFC 8225 canonical form (the signature still decides)")
    attest = identity.claims.get("attest")
    ok = not failures
    return Verdict(
        ok=ok, attestation=str(attest) if ok else "failed", failures=tuple(failures), notes=tuple(notes)
    )


def _header_failures(identity: Identity) -> list[str]:
    jose, failures = identity.jose, []
    if jose.get("alg") != "ES256":
        failures.append(f"alg is {jose.get('alg')!r}, not ES256")
    if identity.params.get("alg", "ES256") != "ES256":
        failures.append(f"the Identity header's alg parameter is {identity.params['alg']!r}, not ES256")
    if jose.get("typ") != "passport":
        failures.append(f"typ is {jose.get('typ')!r}, not passport")
    if jose.get("ppt") != "shaken":
        failures.append(f"ppt is {jose.get('ppt')!r}, not shaken")
    x5u = jose.get("x5u")
    if not isinstance(x5u, str) or not x5u.startswith("https://"):
        failures.append("x5u is not an https URL")
    elif identity.params.get("info") not in (None, x5u):
        failures.append(f"the info parameter {identity.params['info']!r} is not the x5u {x5u!r}")
    return failures


def _claim_failures(claims: dict[str, Any], now: float, max_age_s: float, caller: str) -> list[str]:
    failures = []
    iat = claims.get("iat")
    if isinstance(iat, bool) or not isinstance(iat, int):
        failures.append(f"iat must be a NumericDate (an integer), not {iat!r}")
    elif not -max_age_s <= now - iat <= max_age_s:
        failures.append(f"iat {iat} is {now - iat:.0f} s from now (allowed: {max_age_s:.0f} s)")
    orig = claims.get("orig")
    orig_tn = orig.get("tn") if isinstance(orig, dict) else None
    if not isinstance(orig_tn, str) or not orig_tn:
        failures.append("orig.tn is missing")
    elif _digits(orig_tn) != _digits(caller):
        failures.append(f"orig.tn {orig_tn} is not the presented caller number {caller or '(none)'}")
    dest = claims.get("dest")
    if not isinstance(dest, dict) or not any(
        isinstance(dest.get(k), list) and dest[k] for k in ("tn", "uri")
    ):
        failures.append("dest must hold a non-empty tn or uri list")
    if claims.get("attest") not in ATTESTS:
        failures.append(f"attest is {claims.get('attest')!r}, not A, B or C")
    if not isinstance(claims.get("origid"), str) or not claims.get("origid"):
        failures.append("origid is missing")
    return failures


def _chain_failures(chain: list[x509.Certificate], anchors: list[x509.Certificate], now: float) -> list[str]:
    if not chain:
        return ["no certificate: the x5u URL gave none"]
    moment = datetime.fromtimestamp(now, UTC)
    failures = []
    for cert in chain:
        if not cert.not_valid_before_utc <= moment <= cert.not_valid_after_utc:
            failures.append(
                f"certificate {cert.subject.rfc4514_string()} is not valid at {moment.isoformat()}"
            )
    for cert, issuer in zip(chain, chain[1:], strict=False):
        if not _signed_by(cert, issuer):
            failures.append(
                f"certificate {cert.subject.rfc4514_string()} is not signed by the next in the chain"
            )
    last = chain[-1]
    fingerprints = {anchor.fingerprint(hashes.SHA256()) for anchor in anchors}
    if last.fingerprint(hashes.SHA256()) not in fingerprints and not any(
        anchor.subject == last.issuer and _signed_by(last, anchor) for anchor in anchors
    ):
        failures.append(f"the chain does not end at a trusted anchor (issuer {last.issuer.rfc4514_string()})")
    return failures


def _signed_by(cert: x509.Certificate, issuer: x509.Certificate) -> bool:
    key = issuer.public_key()
    if not isinstance(key, ec.EllipticCurvePublicKey) or cert.signature_hash_algorithm is None:
        return False
    try:
        key.verify(cert.signature, cert.tbs_certificate_bytes, ec.ECDSA(cert.signature_hash_algorithm))
    except InvalidSignature:
        return False
    return cert.issuer == issuer.subject


def _signature_failures(identity: Identity, leaf: x509.Certificate) -> list[str]:
    key = leaf.public_key()
    if not isinstance(key, ec.EllipticCurvePublicKey) or key.curve.name != "secp256r1":
        return ["the certificate's key is not a P-256 key (ES256)"]
    try:
        raw = _unb64url(identity.signature_b64, "signature")
    except IdentityError:
        return ["the signature is not base64url"]
    if len(raw) != 64:
        return [f"an ES256 signature is 64 bytes, not {len(raw)}"]
    der = encode_dss_signature(int.from_bytes(raw[:32], "big"), int.from_bytes(raw[32:], "big"))
    try:
        key.verify(der, identity.signing_input, ec.ECDSA(hashes.SHA256()))
    except InvalidSignature:
        return ["the signature does not verify with the certificate's key"]
    return []


def _digits(number: str) -> str:
    digits = "".join(ch for ch in number if ch.isdigit())
    return digits.lstrip("0")
