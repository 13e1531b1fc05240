"""STIR/SHAKEN PASSporT verification against RFC 8225 / RFC 8588 (with Errata 6656) and our own chain.

The RFC 8225 Appendix A signature cannot serve as a pass vector (the published key does not verify
it, see ../shared/reference/test-vectors.md section 2.4), so the appendix is used for the canonical
serialisation and signing input, and signatures are checked by a sign -> verify round trip with a
certificate chain made here.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature

from deskguard.detection.passport import IdentityError, b64url, canonical, parse_identity, verify
from stir_pki import SHAKEN_HEADER, Pki, make_pki, sign

VECTORS = (
    Path(__file__).resolve().parents[3].parent / "shared" / "reference" / "test-vectors.md"
).read_text()
RFC8225_HEADER = {"alg": "ES256", "typ": "passport", "x5u": "https://cert.example.org/passport.cer"}
RFC8225_PAYLOAD = {
    "dest": {"uri": ["sip:alice@example.com"]},
    "iat": 1471375418,
    "orig": {"tn": "12155551212"},
}
SHAKEN_PAYLOAD = {
    "attest": "A",
    "dest": {"tn": ["12125551213"]},
    "iat": 1443208345,
    "orig": {"tn": "12155551212"},
    "origid": "123e4567-e89b-12d3-a456-426655440000",
}
NOW = 1443208345.0 + 5


def test_rfc8225_appendix_a_canonical_serialisation() -> None:
    header, payload = b64url(canonical(RFC8225_HEADER)), b64url(canonical(RFC8225_PAYLOAD))
    assert header in VECTORS and payload in VECTORS  # the appendix's exact base64url strings
    assert header.startswith("eyJhbGciOiJFUzI1NiIsInR5cCI6InBhc3Nwb3J0Iiwie")
    identity = parse_identity(
        f"{header}.{payload}.sig;info=<https://cert.example.org/passport.cer>;alg=ES256"
    )
    assert identity.signing_input == f"{header}.{payload}".encode()
    assert identity.params == {"info": "https://cert.example.org/passport.cer", "alg": "ES256"}


@pytest.fixture(scope="module")
def pki() -> Pki:
    return make_pki(NOW)


def _sign(key: ec.EllipticCurvePrivateKey, header: dict, payload: dict, *, info: str | None = None) -> str:
    return sign(key, header, payload, info=info)


def _verify(pki: Pki, header_value: str, **kw: object):
    options = {"chain": [pki.leaf], "anchors": [pki.root], "now": NOW, "caller_number": "+12155551212"}
    options.update(kw)
    return verify(parse_identity(header_value), **options)  # type: ignore[arg-type]


def test_a_signed_shaken_passport_verifies_to_its_attestation(pki: Pki) -> None:
    verdict = _verify(pki, _sign(pki.key, SHAKEN_HEADER, SHAKEN_PAYLOAD))
    assert verdict.ok and verdict.attestation == "A" and verdict.failures == () and verdict.notes == ()


def test_rfc8588_example_as_printed_is_refused_and_the_corrected_one_accepted(pki: Pki) -> None:
    printed = {**SHAKEN_PAYLOAD, "iat": "1443208345"}  # the string Errata 6656 corrects
    verdict = _verify(pki, _sign(pki.key, SHAKEN_HEADER, printed))
    assert not verdict.ok and verdict.attestation == "failed"
    assert "iat must be a NumericDate (an integer), not '1443208345'" in verdict.failures
    assert _verify(pki, _sign(pki.key, SHAKEN_HEADER, SHAKEN_PAYLOAD)).ok


@pytest.mark.parametrize(
    ("case", "expected"),
    [
        ("tampered", "the signature does not verify"),
        ("stale", "s from now (allowed: 60 s)"),
        ("spoofed number", "is not the presented caller number"),
        ("untrusted", "does not end at a trusted anchor"),
        ("expired", "is not valid at"),
        ("wrong alg", "alg is 'RS256', not ES256"),
        ("info mismatch", "the info parameter"),
        ("no attest", "attest is None"),
        ("wrong key", "the signature does not verify"),
    ],
)
def test_each_broken_property_fails_with_its_reason(pki: Pki, case: str, expected: str) -> None:
    header, payload, kw = dict(SHAKEN_HEADER), dict(SHAKEN_PAYLOAD), {}
    key = pki.key
    info = None
    if case == "stale":
        kw["now"] = NOW + 120
    elif case == "spoofed number":
        kw["caller_number"] = "+447700900123"
    elif case == "untrusted":
        kw["anchors"] = [pki.other_root]
    elif case == "expired":
        kw["now"] = NOW + 60 * 86400
        payload["iat"] = int(NOW + 60 * 86400)
    elif case == "wrong alg":
        header["alg"] = "RS256"
    elif case == "info mismatch":
        info = "https://evil.example/cert.pem"
    elif case == "no attest":
        del payload["attest"]
    elif case == "wrong key":
        key = pki.root_key
    value = _sign(key, header, payload, info=info)
    if case == "tampered":
        token, rest = value.split(";", 1)
        h, _, s = token.split(".")
        forged = b64url(canonical({**payload, "orig": {"tn": "12155559999"}}))
        value = f"{h}.{forged}.{s};{rest}"
        kw["caller_number"] = "+12155559999"
    verdict = _verify(pki, value, **kw)
    assert not verdict.ok and verdict.attestation == "failed"
    assert any(expected in failure for failure in verdict.failures), verdict.failures


def test_non_canonical_json_is_noted_not_refused(pki: Pki) -> None:
    header_b64 = b64url(json.dumps(SHAKEN_HEADER, indent=1).encode())
    payload_b64 = b64url(canonical(SHAKEN_PAYLOAD))
    signing_input = f"{header_b64}.{payload_b64}"
    r, s = decode_dss_signature(pki.key.sign(signing_input.encode(), ec.ECDSA(hashes.SHA256())))
    signature = b64url(r.to_bytes(32, "big") + s.to_bytes(32, "big"))
    value = f"{signing_input}.{signature};info=<{SHAKEN_HEADER['x5u']}>"
    verdict = _verify(pki, value)
    assert verdict.ok and verdict.notes and "canonical" in verdict.notes[0]


@pytest.mark.parametrize("value", ["", "a.b", "a..c", "%%%.e30.c2ln", "W10.W10.c2ln"])
def test_unreadable_headers_are_identity_errors(value: str) -> None:
    with pytest.raises(IdentityError):
        parse_identity(value)
