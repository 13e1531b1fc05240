"""At ingest, a call's SIP Identity is verified against its signer's chain; a failure is a signal."""

from __future__ import annotations

from dataclasses import dataclass, field

import orjson
import pytest

from deskguard.app import detection
from deskguard.app.detection import Detector
from deskguard.app.stir import StirVerifier
from deskguard.domain.errors import ConnectorTimeout
from stir_pki import SHAKEN_HEADER, X5U, make_pki, sign
from world import World, build_world, detection_content, runbooks

STARTED = 1_764_493_200  # the call's start, 2025-11-30 09:00 UTC
PLAIN = "plain@t_a.example"


@dataclass
class ServedChain:
    """The x5u URL's answer (the HTTPS fetcher has its own test against a real server)."""

    body: bytes
    fail: bool = False
    asked: list[str] = field(default_factory=list)

    def fetch(self, url: str) -> bytes:
        self.asked.append(url)
        if self.fail:
            raise ConnectorTimeout(f"{url} did not answer in time")
        return self.body


REGISTERED = "+33611111111"  # plain's number in the directory: only the attestation is in question


def _call(identity: str, number: str = REGISTERED) -> dict:
    return {
        "type": "call",
        "call_id": "c-1",
        "started_at": STARTED,
        "caller_number": number,
        "called_number": "+33180000000",
        "sip_identity": identity,
        "claimed_identity": PLAIN,
    }


def _passport(key, *, orig: str = REGISTERED[1:]) -> str:
    payload = {
        "attest": "A",
        "dest": {"tn": ["33180000000"]},
        "iat": STARTED,
        "orig": {"tn": orig},
        "origid": "x",
    }
    return sign(key, SHAKEN_HEADER, payload)


@pytest.fixture
def setup(uow_factory) -> tuple[World, ServedChain, object]:
    world = build_world(uow_factory)
    pki = make_pki(STARTED)
    served = ServedChain(pki.chain_pem())
    stir = StirVerifier(fetcher=served, anchors=(pki.root,))
    object.__setattr__(world.ctx, "detector", Detector(detection_content(), runbooks=runbooks(), stir=stir))
    return world, served, pki


def _ingest(world: World, *records: dict) -> detection.IngestResult:
    body = b"\n".join(orjson.dumps(r) for r in records)
    return detection.ingest(
        world.ctx, actor=world.operator("analyst"), tenant_id="t_a", source=None, body=body
    )


def _reset(uuid: str) -> dict:
    return {
        "uuid": uuid,
        "published": "2025-11-30T09:10:00.000Z",
        "eventType": "user.account.reset_password",
        "actor": {"id": "0oa1", "type": "PublicClientApp", "alternateId": "deskguard-connector"},
        "target": [{"id": "00u", "type": "User", "alternateId": PLAIN}],
        "outcome": {"result": "SUCCESS"},
    }


def test_a_valid_passport_keeps_its_attestation_verified(setup) -> None:
    world, served, pki = setup
    result = _ingest(world, _call(_passport(pki.key)), _reset("r1"))
    assert served.asked == [X5U]
    rules = {a.rule_id for a in result.alerts}
    assert "Telephony.Call.RiskyCallThenSensitiveRequest" not in rules  # A, verified: no risky call


@pytest.mark.parametrize("broken", ["spoofed number", "unknown signer", "unreachable x5u"])
def test_a_passport_that_does_not_verify_is_a_failed_attestation(setup, broken: str) -> None:
    world, served, pki = setup
    identity = _passport(pki.key)
    if broken == "spoofed number":
        identity = _passport(pki.key, orig="12125550000")  # signed for another number
    elif broken == "unknown signer":
        identity = _passport(pki.root_key)  # not the key of the certificate x5u serves
    else:
        served.fail = True
    result = _ingest(world, _call(identity), _reset("r2"))
    risky = [a for a in result.alerts if a.rule_id == "Telephony.Call.RiskyCallThenSensitiveRequest"]
    assert risky and "STIR/SHAKEN verification failed" in risky[0].explanation
