"""Synthetic-voice scores from a third-party detector, as a webhook (``docs/formats/voice.md``).

``{"type": "voice_score", "call_id", "scored_at", "score": 0..1, "detector", "caller_number",
"claimed_identity", "ticket_id"}``: a detector that listens to the call posts its verdict, during or
after the call, to ``POST /api/v1/hooks/voice/{tenant}`` (signed) or ``/api/v1/ingest/voice``.
``call_id``, ``scored_at`` and ``score`` are required. The event's activity is ``voice_scored``;
the score is ``extra.voice_synthetic_score``, the same field a call record carries, so one rule
reads both.
"""

from __future__ import annotations

from typing import Any

from deskguard.detection.event import Event
from deskguard.detection.normalize._common import ident, strict_text, when
from deskguard.detection.parsing import Quarantined, Record, e164, lower

SOURCE = "voice"
RECORD_TYPE = "voice_score"


def detect(raw: dict[str, Any]) -> bool:
    return isinstance(raw, dict) and raw.get("type") == RECORD_TYPE


def parse(raw: dict[str, Any]) -> list[Event]:
    if not isinstance(raw, dict):
        raise Quarantined("wrong_shape", "a voice score is an object")
    rec = Record(raw)
    if rec.get("type") not in (None, RECORD_TYPE):
        raise Quarantined("wrong_shape", f"type must be {RECORD_TYPE!r}")
    call_id = ident(rec.get("call_id"), "call_id")
    time = when(rec.get("scored_at"), "scored_at")
    score = rec.get("score")
    if isinstance(score, bool) or not isinstance(score, int | float) or not 0.0 <= score <= 1.0:
        raise Quarantined("bad_value", f"score must be a number from 0 to 1, not {score!r}")
    detector = strict_text(rec.get("detector"), "detector") or "unknown"
    claimed = lower(strict_text(rec.get("claimed_identity"), "claimed_identity", numbers=False)).strip()
    return [
        Event(
            id=f"{call_id}:voice:{detector}",
            time=time,
            source=SOURCE,
            product="telephony",
            service=SOURCE,
            class_name="call_activity",
            activity="voice_scored",
            type=RECORD_TYPE,
            raw=raw,
            outcome="success",
            target_user=claimed,
            claimed_identity=claimed,
            caller_number=e164(strict_text(rec.get("caller_number"), "caller_number")),
            ticket_id=strict_text(rec.get("ticket_id"), "ticket_id"),
            extra={"voice_synthetic_score": float(score), "detector": detector, "call_id": call_id},
        )
    ]
