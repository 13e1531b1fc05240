"""A tiny STIR/SHAKEN PKI for tests: a root, a carrier's signing certificate, signed PASSporTs."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature
from cryptography.x509.oid import NameOID

from deskguard.detection.passport import b64url, canonical

X5U = "https://cert.example.org/passport.cer"
SHAKEN_HEADER = {"alg": "ES256", "ppt": "shaken", "typ": "passport", "x5u": X5U}


def name(cn: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)])


def certificate(
    subject: str,
    key: ec.EllipticCurvePrivateKey,
    issuer: str,
    signer: ec.EllipticCurvePrivateKey,
    *,
    at: float,
    ca: bool,
) -> x509.Certificate:
    start = datetime.fromtimestamp(at, UTC) - timedelta(days=1)
    return (
        x509.CertificateBuilder()
        .subject_name(name(subject))
        .issuer_name(name(issuer))
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(start)
        .not_valid_after(start + timedelta(days=30))
        .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
        .sign(signer, hashes.SHA256())
    )


@dataclass(frozen=True)
class Pki:
    root: x509.Certificate
    root_key: ec.EllipticCurvePrivateKey
    leaf: x509.Certificate
    key: ec.EllipticCurvePrivateKey
    other_root: x509.Certificate

    def chain_pem(self) -> bytes:
        return self.leaf.public_bytes(serialization.Encoding.PEM)


def make_pki(at: float) -> Pki:
    root_key, leaf_key, other_key = (ec.generate_private_key(ec.SECP256R1()) for _ in range(3))
    return Pki(
        root=certificate("STI-PA test root", root_key, "STI-PA test root", root_key, at=at, ca=True),
        root_key=root_key,
        leaf=certificate("carrier SP-1234", leaf_key, "STI-PA test root", root_key, at=at, ca=False),
        key=leaf_key,
        other_root=certificate("another root", other_key, "another root", other_key, at=at, ca=True),
    )


def sign(key: ec.EllipticCurvePrivateKey, header: dict, payload: dict, *, info: str | None = None) -> str:
    """A SIP Identity header value: canonical header and payload, ES256 over them, RFC 8224 params."""
    signing_input = f"{b64url(canonical(header))}.{b64url(canonical(payload))}"
    r, s = decode_dss_signature(key.sign(signing_input.encode(), ec.ECDSA(hashes.SHA256())))
    signature = b64url(r.to_bytes(32, "big") + s.to_bytes(32, "big"))
    return f"{signing_input}.{signature};info=<{info or header['x5u']}>;alg=ES256;ppt=shaken"
