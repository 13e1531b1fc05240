"""Asterisk ARI call flow against the fake ARI server: the events (JSON as ARI sends them on
``/ari/events``) drive answer, play and hang-up, and settle the outcome. The WebSocket transport and
the worker that runs it are exercised in ``test_ari_event_stream.py``."""

from __future__ import annotations

import pytest
from fake_ari import fake_ari
from test_telephony_contract import ari


def _channel(channel_id: str) -> dict[str, object]:
    return {"id": channel_id, "name": "PJSIP/trunk-00000001", "state": "Up", "caller": {"number": ""}}


def _dtmf(channel_id: str, digit: str) -> dict[str, object]:
    return {
        "type": "ChannelDtmfReceived",
        "digit": digit,
        "duration_ms": 120,
        "channel": _channel(channel_id),
    }


@pytest.mark.parametrize(("typed", "confirmed"), [("42", True), ("41", False)])
def test_the_keypad_answer_settles_the_call(
    monkeypatch: pytest.MonkeyPatch, typed: str, confirmed: bool
) -> None:
    with fake_ari() as far:
        t = ari(far.url, monkeypatch)
        cid = t.place_verification_call(
            tenant_id="a", to_number="+33612345678", reference="prf_1", spoken_code="42"
        )
        method, path, query = far.requests[0]
        assert (method, path) == ("POST", "/ari/channels")
        assert query["endpoint"] == ["PJSIP/+33612345678@trunk"] and query["appArgs"] == ["prf_1"]
        start = {"type": "StasisStart", "args": ["prf_1"], "channel": _channel(cid)}
        assert t.handle_event(start) is None
        assert [(m, p) for m, p, _ in far.requests[1:]] == [
            ("POST", f"/ari/channels/{cid}/answer"),
            ("POST", f"/ari/channels/{cid}/play"),
        ]
        assert far.requests[2][2]["media"] == ["digits:42", "digits:42"]
        assert t.handle_event(_dtmf(cid, typed[0])) is None
        outcome = t.handle_event(_dtmf(cid, typed[1]))
        assert outcome is not None and outcome.call_id == cid and outcome.confirmed is confirmed
        assert far.requests[-1][:2] == ("DELETE", f"/ari/channels/{cid}") and cid not in far.channels
        assert t.handle_event({"type": "StasisEnd", "channel": _channel(cid)}) is None  # settled once


def test_a_hang_up_before_the_code_is_not_confirmed(monkeypatch: pytest.MonkeyPatch) -> None:
    with fake_ari() as far:
        t = ari(far.url, monkeypatch)
        cid = t.place_verification_call(
            tenant_id="a", to_number="+33612345678", reference="prf_1", spoken_code="42"
        )
        outcome = t.handle_event({"type": "StasisEnd", "channel": _channel(cid)})
        assert outcome is not None and outcome.confirmed is False
        assert t.handle_event({"type": "StasisStart", "channel": _channel("other")}) is None


def test_a_number_cannot_reach_the_dial_string(monkeypatch: pytest.MonkeyPatch) -> None:
    from deskguard.domain.errors import ConnectorError

    with fake_ari() as far:
        t = ari(far.url, monkeypatch)
        with pytest.raises(ConnectorError):
            t.place_verification_call(tenant_id="a", to_number="123&app=x", reference="r", spoken_code="42")
        assert far.requests == []
