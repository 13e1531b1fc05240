"""Twilio Voice webhooks: the incoming-call request and status callbacks, as a JSON object.

Twilio posts form fields in PascalCase (``CallSid``, ``AccountSid``, ``From``, ``To``, ``CallStatus``,
``Direction``, ``CallerName``, ``StirVerstat``, ``StirPassportToken``, ``CallDuration``, ``Timestamp``,
``SipHeader_<name>``); the forwarder turns them into one JSON object. Lower-cased or snake-cased keys
(``callsid``, ``call_sid``) are read as well.

- ``id`` is the ``CallSid`` (status callbacks of one call share it: ``extra["sequence_number"]``
  tells them apart).
- Time: ``Timestamp`` is RFC 2822 (``Wed, 01 May 2024 09:00:00 +0000``) on status callbacks. The
  incoming-call request carries no time: the forwarder must add ``received_at`` (ISO 8601 or epoch),
  else the record is quarantined (``bad_timestamp``); detection has no clock of its own.
- Attestation from ``StirVerstat`` (``TN-Validation-Passed-A``/``-B``/``-C`` -> A/B/C,
  ``TN-Validation-Failed...`` -> failed, ``No-TN-Validation`` -> ``""``): Twilio's verification result.
  Without it, the PASSporT of ``StirPassportToken`` or ``SipHeader_Identity`` is decoded (unverified;
  ``extra["attestation_source"] = "passport"``).
- ``Direction`` ``inbound`` (or absent) is ``call_received``; ``outbound-api``/``outbound-dial`` (a
  call-back placed through Twilio) is ``other``.
"""

from __future__ import annotations

from datetime import UTC
from email.utils import parsedate_to_datetime
from typing import Any

from deskguard.detection.event import Event
from deskguard.detection.normalize._calls import attestation_from_verstat, call_event, passport_facts
from deskguard.detection.normalize._common import ident, integer, keys_of, scalar, when
from deskguard.detection.parsing import Quarantined, Record, e164

SOURCE = "twilio"

_SUCCESS = frozenset({"completed"})
_FAILURE = frozenset({"busy", "failed", "no-answer", "canceled"})


def detect(raw: dict[str, Any]) -> bool:
    keys = keys_of(raw)
    return "callsid" in keys and "accountsid" in keys


def parse(raw: dict[str, Any]) -> list[Event]:
    if not isinstance(raw, dict):
        raise Quarantined("wrong_shape", "a Twilio webhook is an object")
    rec = Record(raw)
    call_sid = ident(rec.get("CallSid"), "CallSid")
    time = _time(rec.first("Timestamp", "received_at", "time", "@timestamp"))
    caller = scalar(rec.get("From"))
    status = scalar(rec.get("CallStatus")).lower()
    direction = scalar(rec.get("Direction")).lower()
    verstat = scalar(rec.get("StirVerstat"))
    attestation = attestation_from_verstat(verstat)
    extra: dict[str, Any] = {
        "account_sid": scalar(rec.get("AccountSid")),
        "called_number": e164(scalar(rec.get("To"))),
        "call_status": status,
        "direction": direction,
        "duration": integer(rec.get("CallDuration")),
        "caller_name": scalar(rec.get("CallerName")),
        "caller_country": scalar(rec.get("FromCountry")),
        "forwarded_from": e164(scalar(rec.get("ForwardedFrom"))),
        "answered_by": scalar(rec.get("AnsweredBy")),
        "parent_call_sid": scalar(rec.get("ParentCallSid")),
        "sequence_number": integer(rec.get("SequenceNumber")),
        "stir_verstat": verstat,
        "attestation_source": "verstat" if attestation else "",
    }
    identity = rec.first("SipHeader_Identity", "StirPassportToken")
    if isinstance(identity, str) and identity.strip():
        claimed, facts = passport_facts(identity, e164(caller))
        extra.update(facts)
        if not attestation and not verstat and claimed:
            attestation = claimed
            extra["attestation_source"] = "passport"
    elif identity is not None:
        extra["sip_identity_error"] = "the Identity header is not a string"
    outcome = "success" if status in _SUCCESS else "failure" if status in _FAILURE else "unknown"
    return [
        call_event(
            source=SOURCE,
            id=call_sid,
            time=time,
            type=status or "call",
            raw=raw,
            inbound=direction in ("", "inbound"),
            caller_number=caller,
            attestation=attestation,
            outcome=outcome,
            extra=extra,
        )
    ]


def _time(value: Any) -> float:
    """RFC 2822 (what Twilio writes), else ISO 8601 or epoch (what a forwarder adds)."""
    try:
        return when(value, "Timestamp")
    except Quarantined:
        if not isinstance(value, str):
            raise
        try:
            parsed = parsedate_to_datetime(value.strip())
            if parsed.tzinfo is None:  # "-0000": UTC, origin unknown (RFC 5322 section 3.3)
                parsed = parsed.replace(tzinfo=UTC)
            return parsed.timestamp()
        except (TypeError, ValueError, IndexError, OverflowError, OSError):
            detail = f"Timestamp is not RFC 2822, ISO 8601 or epoch: {value!r}"
            raise Quarantined("bad_timestamp", detail) from None
