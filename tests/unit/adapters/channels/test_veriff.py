"""Veriff ``POST /v1/sessions`` and the webhook signature, against respx fixtures that follow
Veriff's published API reference (``tests/veriff_station.py``): request shape, error bodies, 429
with ``Retry-After``, 5xx and timeouts never repeated (a session may exist), and real
HMAC-SHA256 signatures over the raw body (valid, tampered, wrong key, missing)."""

from __future__ import annotations

import json

import httpx
import pytest
import respx

from deskguard.adapters.channels.veriff import VeriffIdentityVerification
from deskguard.adapters.connectors.retry import Backoff
from deskguard.bootstrap_channels import identity_verification
from deskguard.domain.errors import (
    ConfigurationError,
    ConnectorError,
    ConnectorTimeout,
    Unauthenticated,
    ValidationFailed,
)
from deskguard.domain.model import Person
from deskguard.domain.ports_idv import IdvSession
from deskguard.settings import load_settings
from veriff_station import (
    API_KEY,
    SESSIONS,
    SHARED_SECRET,
    Station,
    created,
    decision,
    person_url,
    signature,
)


@pytest.fixture
def slept() -> list[float]:
    return []


@pytest.fixture
def veriff(monkeypatch: pytest.MonkeyPatch, slept: list[float]) -> VeriffIdentityVerification:
    monkeypatch.setenv("VERIFF_KEY", API_KEY)
    monkeypatch.setenv("VERIFF_SECRET", SHARED_SECRET)
    return VeriffIdentityVerification(
        api_key="env://VERIFF_KEY",
        shared_secret="env://VERIFF_SECRET",
        callback_url="https://desk.example/portal/idv-done",
        backoff=Backoff(attempts=3),
        sleep=slept.append,
    )


ALICE = Person(
    id="p-alice",
    tenant_id="t-acme",
    employee_id="E-1",
    email="alice@acme.example",
    display_name="Alice Martin",
)


def _start(veriff: VeriffIdentityVerification) -> IdvSession:
    return veriff.start(tenant_id="t-acme", person=ALICE, reference="req_42")


@respx.mock
def test_the_session_request_follows_the_reference(veriff) -> None:
    station = Station()
    respx.post(SESSIONS).side_effect = station
    session = _start(veriff)
    (request,) = station.requests
    assert request.headers["X-AUTH-CLIENT"] == API_KEY
    assert request.headers["Content-Type"] == "application/json"
    assert "x-hmac-signature" not in request.headers  # POST /sessions takes none
    assert json.loads(request.content) == {
        "verification": {
            "vendorData": "t-acme:req_42",
            "person": {"firstName": "Alice", "lastName": "Martin"},
            "callback": "https://desk.example/portal/idv-done",
        }
    }
    assert session.session_id == station.created[0]["id"]


@respx.mock
def test_the_persons_link_is_parsed_and_kept_out_of_the_repr(veriff) -> None:
    station = Station()
    respx.post(SESSIONS).side_effect = station
    session = _start(veriff)
    assert session.url == person_url(session.session_id)
    assert session.url.startswith("https://alchemy.veriff.com/v/eyJ")
    assert session.expires_at is None  # Veriff's answer gives none: the proof's lifetime bounds it
    assert session.url not in repr(session) and session.session_id in repr(session)


@respx.mock
@pytest.mark.parametrize(
    "url",
    [None, "", "http://alchemy.veriff.com/v/eyJ.tok.sig", 42, "https://alchemy.veriff.com/v/" + "x" * 2100],
    ids=["missing", "empty", "not-https", "not-a-string", "too-long"],
)
def test_an_answer_without_an_https_person_link_is_malformed_and_not_quoted(veriff, url) -> None:
    body = created("0b7f2c4e-1111-4d4b-9c5c-5b1b0e1a2c3d", "t-acme:req_42")
    if url is None:
        del body["verification"]["url"]
    else:
        body["verification"]["url"] = url
    respx.post(SESSIONS).mock(return_value=httpx.Response(201, json=body))
    with pytest.raises(ConnectorError, match=r"without an https verification.url") as raised:
        _start(veriff)
    assert "0b7f2c4e-1111" in raised.value.message
    assert not isinstance(url, str) or not url or url not in raised.value.message


@respx.mock
def test_a_refusal_carries_veriffs_words_and_is_not_repeated(veriff) -> None:
    route = respx.post(SESSIONS).mock(
        return_value=httpx.Response(
            400, json={"status": "fail", "code": "1104", "message": "Mandatory parameters are missing."}
        )
    )
    with pytest.raises(
        ConnectorError, match=r"refused \(400\): Mandatory parameters are missing. \(code 1104\)"
    ):
        _start(veriff)
    assert route.call_count == 1


@respx.mock
def test_a_wrong_api_key_is_refused(monkeypatch, veriff) -> None:
    monkeypatch.setenv("VERIFF_KEY", "not-the-key")
    station = Station()
    respx.post(SESSIONS).side_effect = station
    wrong = VeriffIdentityVerification(api_key="env://VERIFF_KEY", shared_secret="env://VERIFF_SECRET")
    with pytest.raises(ConnectorError, match=r"\(401\).*X-AUTH-CLIENT"):
        _start(wrong)
    assert station.created == []


@respx.mock
def test_429_waits_for_retry_after_then_creates_one_session(veriff, slept) -> None:
    station = Station()
    answers = iter([httpx.Response(429, headers={"Retry-After": "3"}, json={"status": "fail"})])
    respx.post(SESSIONS).side_effect = lambda r: next(answers, None) or station(r)
    session = _start(veriff)
    assert len(station.created) == 1 and session.session_id == station.created[0]["id"]
    assert slept and slept[0] >= 3


@respx.mock
def test_a_retry_after_too_long_is_not_waited_for(veriff, slept) -> None:
    respx.post(SESSIONS).mock(return_value=httpx.Response(429, headers={"Retry-After": "3600"}))
    with pytest.raises(ConnectorError, match="too long"):
        _start(veriff)
    assert slept == []


@respx.mock
def test_a_5xx_is_not_repeated_the_session_may_exist(veriff) -> None:
    route = respx.post(SESSIONS).mock(
        return_value=httpx.Response(502, json={"status": "fail", "code": "5000", "message": "Bad gateway"})
    )
    with pytest.raises(ConnectorError, match="502.*not repeated"):
        _start(veriff)
    assert route.call_count == 1


@respx.mock
def test_a_timeout_is_not_repeated(veriff) -> None:
    route = respx.post(SESSIONS).mock(side_effect=httpx.ReadTimeout("slow"))
    with pytest.raises(ConnectorTimeout):
        _start(veriff)
    assert route.call_count == 1


@respx.mock
@pytest.mark.parametrize(
    "answer",
    [
        httpx.Response(201, json={"status": "success", "verification": {"url": "https://x"}}),
        httpx.Response(201, json={"status": "success"}),
        httpx.Response(201, content=b"<html>ok</html>"),
    ],
)
def test_an_answer_without_a_session_id_is_malformed(veriff, answer) -> None:
    respx.post(SESSIONS).mock(return_value=answer)
    with pytest.raises(ConnectorError, match="session id|not JSON"):
        _start(veriff)


def test_a_signed_decision_is_read(veriff) -> None:
    body = decision("sess-1", "approved", 9001)
    got = veriff.decision(body=body, signature=signature(body))
    assert (got.session_id, got.status, got.verified, got.code) == ("sess-1", "approved", True, 9001)
    upper = veriff.decision(body=body, signature=signature(body).upper())
    assert upper.verified is True  # hex is hex, whatever its case


@pytest.mark.parametrize(
    ("status", "code", "verified"),
    [
        ("declined", 9102, False),
        ("expired", 9104, False),
        ("abandoned", 9104, False),
        ("resubmission_requested", 9103, None),
        ("review", 9121, None),
    ],
)
def test_statuses_map_to_verdicts_or_not_yet(veriff, status, code, verified) -> None:
    body = decision("sess-1", status, code, reason="Physical document not used")
    assert veriff.decision(body=body, signature=signature(body)).verified is verified


def test_an_event_webhook_is_not_a_verdict(veriff) -> None:
    body = json.dumps(
        {
            "id": "sess-1",
            "attemptId": "a",
            "feature": "selfid",
            "code": 7002,
            "action": "submitted",
            "vendorData": "t_a:req",
        }
    ).encode()
    got = veriff.decision(body=body, signature=signature(body))
    assert (got.session_id, got.status, got.verified) == ("sess-1", "submitted", None)


def test_tampered_wrongly_keyed_or_unsigned_bodies_are_refused(veriff) -> None:
    body = decision("sess-1", "declined", 9102)
    good = signature(body)
    tampered = body.replace(b'"declined"', b'"approved"')
    for payload, sig in [
        (tampered, good),
        (body, signature(body, "another-secret")),
        (body, ""),
        (body, good[:-2]),
    ]:
        with pytest.raises(Unauthenticated, match="X-HMAC-SIGNATURE"):
            veriff.decision(body=payload, signature=sig)


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        (b"not json", "body"),
        (b"[1]", "body"),
        (b'{"status": "success"}', "verification"),
        (b'{"verification": {"status": "approved"}}', "verification.id"),
        (b'{"verification": {"id": "s", "status": "maybe"}}', "verification.status"),
        (b'{"id": "s", "action": "poked"}', "action"),
    ],
)
def test_a_signed_body_that_is_not_veriffs_names_the_field(veriff, payload, field) -> None:
    with pytest.raises(ValidationFailed) as caught:
        veriff.decision(body=payload, signature=signature(payload))
    assert caught.value.field == field


def _settings(**values: object):  # noqa: ANN202
    return load_settings(demo=True, **values)


def test_settings_secrets_are_references_and_both_are_required(monkeypatch) -> None:
    monkeypatch.setenv("VERIFF_KEY", API_KEY)
    monkeypatch.setenv("VERIFF_SECRET", SHARED_SECRET)
    assert identity_verification(_settings()) is None
    with pytest.raises(ConfigurationError, match="DESKGUARD_VERIFF_SHARED_SECRET"):
        identity_verification(_settings(veriff_api_key="env://VERIFF_KEY"))
    with pytest.raises(ConfigurationError, match="veriff_api_key"):
        identity_verification(_settings(veriff_api_key=API_KEY, veriff_shared_secret="env://VERIFF_SECRET"))
    with pytest.raises(ConfigurationError, match="veriff_api_url"):
        identity_verification(
            _settings(
                veriff_api_key="env://VERIFF_KEY",
                veriff_shared_secret="env://VERIFF_SECRET",
                veriff_api_url="http://plain.example",
            )
        )
    built = identity_verification(
        _settings(veriff_api_key="env://VERIFF_KEY", veriff_shared_secret="env://VERIFF_SECRET")
    )
    assert isinstance(built, VeriffIdentityVerification)
