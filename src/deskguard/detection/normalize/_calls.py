"""What the telephony parsers share: caller attestation from a verstat or a SIP Identity header.

STIR/SHAKEN attestation (RFC 8588) is ``A`` (the carrier knows the customer and their right to the
number), ``B`` (knows the customer, not the number), ``C`` (a gateway: knows neither) or ``failed``
(the terminating carrier's verification failed). ``""`` means unknown: no attestation was carried.

The PASSporT inside a SIP Identity header (RFC 8224/8225) is **parsed, not verified** here: no
certificate is fetched by a parser (detection is pure, and a claim is only a risk signal);
``detection.passport.verify`` checks it against the certificate chain when the chain is at hand.
``extra["attestation_source"]`` says where the value came from: ``verstat`` (the carrier's
verification result), ``record`` (the record's own field) or ``passport`` (the unverified claim).
"""

from __future__ import annotations

from typing import Any

from deskguard.detection.event import Event
from deskguard.detection.normalize._common import compact
from deskguard.detection.parsing import e164, lower
from deskguard.detection.passport import IdentityError, parse_identity

ATTESTATIONS = ("A", "B", "C", "failed")


def attestation_from_verstat(value: Any) -> str:
    """``TN-Validation-Passed-A`` -> ``A``; ``TN-Validation-Failed[-x]`` -> ``failed``; else ``""``."""
    if not isinstance(value, str):
        return ""
    text = value.strip().lower()
    if text.startswith("tn-validation-failed"):
        return "failed"
    if text.startswith("tn-validation-passed"):
        level = text[len("tn-validation-passed") :].strip("-").upper()
        return level if level in ("A", "B", "C") else ""
    return ""


def decode_identity(header: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """The (JOSE header, claims) of a SIP Identity header value, without any verification.

    ``header`` is the value of ``Identity:``: ``<JWS compact>;info=<https://...>;alg=ES256;ppt=shaken``
    (RFC 8224; angle brackets or quotes around the token are tolerated). The compact form of RFC 8224
    section 4.1 (payload left out, to be rebuilt from the SIP message) carries no claims to read.
    ``detection.passport.verify`` checks the signature and the certificate chain."""
    identity = parse_identity(header)
    return identity.jose, identity.claims


def passport_facts(header: str, caller_number: str) -> tuple[str, dict[str, Any]]:
    """The attestation claimed in a SIP Identity header, and what else it says, for ``extra``.

    A malformed header gives attestation ``""`` and ``sip_identity_error``."""
    try:
        jose, claims = decode_identity(header)
    except IdentityError as exc:
        return "", {"sip_identity_error": str(exc)}
    attest = claims.get("attest")
    attestation = attest.upper() if isinstance(attest, str) and attest.upper() in ("A", "B", "C") else ""
    orig = claims.get("orig")
    orig_tn = e164(_tn(orig.get("tn") if isinstance(orig, dict) else None))
    dest = claims.get("dest")
    dest_tn = dest.get("tn") if isinstance(dest, dict) else None
    dests = [e164(_tn(tn)) for tn in dest_tn] if isinstance(dest_tn, list) else [e164(_tn(dest_tn))]
    facts: dict[str, Any] = {
        "passport_ppt": jose.get("ppt") if isinstance(jose.get("ppt"), str) else "",
        "passport_x5u": jose.get("x5u") if isinstance(jose.get("x5u"), str) else "",
        "passport_attest": attestation,
        "passport_orig_tn": orig_tn,
        "passport_dest_tn": [tn for tn in dests if tn],
        "passport_origid": claims.get("origid") if isinstance(claims.get("origid"), str) else "",
        "passport_iat": claims.get("iat") if isinstance(claims.get("iat"), int | float) else None,
        "passport_verified": False,
        "sip_identity": header,  # kept whole: the ingest path verifies it when it can fetch the chain
    }
    if not attestation:
        facts["sip_identity_error"] = "the PASSporT carries no SHAKEN attest claim"
    if orig_tn and caller_number:
        facts["passport_orig_matches"] = _digits(orig_tn) == _digits(caller_number)
    return attestation, facts


def _tn(value: Any) -> str:
    # PASSporT "tn" values are digit strings without "+" (RFC 8225 section 5.2.1): they are E.164.
    if isinstance(value, int) and not isinstance(value, bool):
        value = str(value)
    if not isinstance(value, str) or not value:
        return ""
    return value if value.startswith("+") else "+" + value


def _digits(number: str) -> str:
    return "".join(ch for ch in number if ch.isdigit())


def call_event(
    *,
    source: str,
    id: str,
    time: float,
    type: str,
    raw: dict[str, Any],
    inbound: bool,
    caller_number: str,
    attestation: str,
    outcome: str = "unknown",
    tenant: str = "",
    claimed_identity: str = "",
    ticket_id: str = "",
    extra: dict[str, Any] | None = None,
) -> Event:
    """A ``call_activity`` event: ``call_received`` for an inbound call, ``other`` for an outbound one
    (a call-back deskguard or an agent placed is not a caller reaching the helpdesk)."""
    claimed = lower(claimed_identity).strip()
    return Event(
        id=id,
        time=time,
        source=source,
        product="telephony",
        service=source,
        class_name="call_activity",
        activity="call_received" if inbound else "other",
        type=type,
        raw=raw,
        tenant=tenant,
        outcome=outcome,
        target_user=claimed,
        claimed_identity=claimed,
        caller_number=e164(caller_number),
        ticket_id=ticket_id,
        attestation=attestation,
        extra=compact(dict(extra or {})),
    )
