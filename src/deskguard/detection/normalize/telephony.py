"""The generic call record any PBX or CPaaS can emit (documented in ``docs/formats/telephony.md``).

``{"type": "call", "call_id", "started_at", "caller_number", "called_number", "direction",
"attestation", "sip_identity", "claimed_identity", "ticket_id", "agent", "duration_s",
"voice_synthetic_score", "notes", "transcript", "tenant"}``. Only ``call_id`` and ``started_at``
are required; the other fields may be absent or null. Unknown fields are ignored (they stay in ``raw``).

When ``attestation`` is absent and ``sip_identity`` holds the SIP Identity header, the PASSporT's
``attest`` and ``orig.tn`` claims are read from its payload; the signature is verified at ingest
when STIR/SHAKEN trust anchors are configured (``app.stir``). A header that cannot be read gives
attestation ``""`` and ``extra["sip_identity_error"]``.

This is the last parser tried, so its ``detect`` is the most forgiving: ``type == "call"``, or a
``call_id`` with a ``caller_number`` or ``started_at``.
"""

from __future__ import annotations

from typing import Any

from deskguard.detection.event import Event
from deskguard.detection.normalize._calls import ATTESTATIONS, call_event, passport_facts
from deskguard.detection.normalize._common import ident, keys_of, strict_text, when
from deskguard.detection.parsing import Quarantined, Record, e164

SOURCE = "telephony"
RECORD_TYPE = "call"
DIRECTIONS = ("inbound", "outbound")
MAX_TEXT = 20_000  # characters of notes and transcript scored for pressure (a long call's start)


def detect(raw: dict[str, Any]) -> bool:
    if not isinstance(raw, dict):
        return False
    if raw.get("type") == RECORD_TYPE:
        return True
    keys = keys_of(raw)
    return "type" not in raw and "callid" in keys and bool(keys & {"callernumber", "startedat"})


def parse(raw: dict[str, Any]) -> list[Event]:
    if not isinstance(raw, dict):
        raise Quarantined("wrong_shape", "a call record is an object")
    rec = Record(raw)
    kind = rec.get("type")
    if kind not in (None, RECORD_TYPE):
        raise Quarantined("wrong_shape", f"type must be {RECORD_TYPE!r}, not {kind!r}")
    call_id = ident(rec.get("call_id"), "call_id")
    time = when(rec.get("started_at"), "started_at")
    caller = strict_text(rec.get("caller_number"), "caller_number")
    direction = strict_text(rec.get("direction"), "direction", numbers=False).lower() or "inbound"
    if direction not in DIRECTIONS:
        raise Quarantined("bad_value", f"direction must be inbound or outbound, not {direction!r}")
    attestation = _attestation(rec.get("attestation"))
    identity = strict_text(rec.get("sip_identity"), "sip_identity", numbers=False)
    ticket = rec.get("ticket_id")
    extra: dict[str, Any] = {
        "called_number": e164(strict_text(rec.get("called_number"), "called_number")),
        "direction": direction,
        "agent": strict_text(rec.get("agent"), "agent"),
        "duration_s": _number(rec.get("duration_s"), "duration_s", low=0.0),
        "voice_synthetic_score": _number(rec.get("voice_synthetic_score"), "voice_synthetic_score", 0.0, 1.0),
        "attestation_source": "record" if attestation else "",
    }
    # the agent's notes and the call's transcript: scored for social-engineering pressure
    said = [strict_text(rec.get(name), name, numbers=False) for name in ("notes", "transcript")]
    if any(said):
        extra["text"] = "\n".join(part for part in said if part)[:MAX_TEXT]
    if identity:
        claimed, facts = passport_facts(identity, e164(caller))
        extra.update(facts)
        if not attestation and claimed:
            attestation = claimed
            extra["attestation_source"] = "passport"
    return [
        call_event(
            source=SOURCE,
            id=call_id,
            time=time,
            type=RECORD_TYPE,
            raw=raw,
            inbound=direction == "inbound",
            caller_number=caller,
            attestation=attestation,
            tenant=strict_text(rec.get("tenant"), "tenant"),
            claimed_identity=strict_text(rec.get("claimed_identity"), "claimed_identity"),
            ticket_id=ident(ticket, "ticket_id") if ticket not in (None, "") else "",
            extra=extra,
        )
    ]


def _attestation(value: Any) -> str:
    text = strict_text(value, "attestation", numbers=False)
    if not text:
        return ""
    for known in ATTESTATIONS:
        if text.lower() == known.lower():
            return known
    raise Quarantined("bad_value", f"attestation must be A, B, C, failed or null, not {text!r}")


def _number(value: Any, field: str, low: float, high: float | None = None) -> float | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise Quarantined("wrong_type", f"{field} must be a number, not {type(value).__name__}")
    number = float(value)
    if number != number or number < low or (high is not None and number > high):
        bounds = f"between {low:g} and {high:g}" if high is not None else f"at least {low:g}"
        raise Quarantined("bad_value", f"{field} must be {bounds}, not {value!r}")
    return number
