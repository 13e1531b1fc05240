"""The connectors' shared base: secret references, retries with back-off, HTTP answers mapped to errors."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest
import respx
from hypothesis import given
from hypothesis import strategies as st
from pydantic import BaseModel, ValidationError

from deskguard.adapters.connectors.http import retry_after, send
from deskguard.adapters.connectors.retry import Backoff, Retryable, with_retries
from deskguard.adapters.connectors.secrets import SecretRef, resolve
from deskguard.domain.errors import ConfigurationError, ConnectorError, ConnectorTimeout


class _Settings(BaseModel):
    token: SecretRef


@pytest.mark.parametrize(
    "inline", ["hunter2", "ssws 00abc", "env://", "env://A-B", "file://relative/path", ""]
)
def test_an_inline_or_malformed_secret_is_refused_with_the_field(inline: str) -> None:
    with pytest.raises(ValidationError, match="token"):
        _Settings(token=inline)


def test_references_resolve_from_the_environment_and_files(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("DG_TEST_TOKEN", "s3cret")
    assert resolve(_Settings(token="env://DG_TEST_TOKEN").token, field="okta.token") == "s3cret"
    secret = tmp_path / "token"
    secret.write_text("from-a-file\n")
    assert resolve(f"file://{secret}", field="okta.token") == "from-a-file"


def test_a_missing_secret_names_the_field_and_never_the_value(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.delenv("DG_ABSENT", raising=False)
    with pytest.raises(ConfigurationError, match="okta.token: the environment variable DG_ABSENT is not set"):
        resolve("env://DG_ABSENT", field="okta.token")
    with pytest.raises(ConfigurationError, match="ldap.bind_password: .* cannot be read"):
        resolve(f"file://{tmp_path / 'nope'}", field="ldap.bind_password")
    (tmp_path / "empty").write_text("")
    with pytest.raises(ConfigurationError, match="is empty"):
        resolve(f"file://{tmp_path / 'empty'}", field="x")


def _flaky(outcomes: list[BaseException | str]):
    calls = []

    def call() -> str:
        calls.append(1)
        outcome = outcomes.pop(0)
        if isinstance(outcome, BaseException):
            raise outcome
        return outcome

    return call, calls


def test_an_idempotent_call_is_retried_with_growing_waits_and_retry_after_honoured() -> None:
    waits: list[float] = []
    call, calls = _flaky([ConnectorTimeout("slow"), Retryable("busy", retry_after=5.0), "ok"])
    backoff = Backoff(attempts=3, base_s=1.0, cap_s=4.0)
    assert with_retries(call, idempotent=True, backoff=backoff, sleep=waits.append) == "ok"
    assert len(calls) == 3
    assert 0.5 <= waits[0] <= 1.0 and waits[1] == 5.0  # jittered back-off, then the server's word


def test_a_non_idempotent_call_is_never_repeated() -> None:
    call, calls = _flaky([ConnectorTimeout("slow"), "ok"])
    with pytest.raises(ConnectorTimeout):
        with_retries(call, idempotent=False, sleep=lambda _: None)
    assert len(calls) == 1  # the vendor may have acted: the request stays pending


def test_giving_up_keeps_the_meaning_of_the_last_failure() -> None:
    call, _ = _flaky([ConnectorTimeout("a"), ConnectorTimeout("b"), ConnectorTimeout("c")])
    with pytest.raises(ConnectorTimeout, match="c"):
        with_retries(call, idempotent=True, sleep=lambda _: None)
    call, _ = _flaky([Retryable("503"), Retryable("503"), Retryable("503 again")])
    with pytest.raises(ConnectorError, match="503 again"):
        with_retries(call, idempotent=True, sleep=lambda _: None)
    call, calls = _flaky([Retryable("429", retry_after=3600.0), "ok"])
    with pytest.raises(ConnectorError, match="too long"):
        with_retries(call, idempotent=True, sleep=lambda _: None)
    assert len(calls) == 1


def test_a_definite_refusal_is_not_retried() -> None:
    call, calls = _flaky([ConnectorError("403 forbidden"), "ok"])
    with pytest.raises(ConnectorError, match="403"):
        with_retries(call, idempotent=True, sleep=lambda _: None)
    assert len(calls) == 1


@given(attempt=st.integers(1, 30))
def test_the_back_off_is_capped_and_never_negative(attempt: int) -> None:
    backoff = Backoff(base_s=0.5, cap_s=8.0)
    assert 0.0 < backoff.delay(attempt) <= 8.0


@respx.mock
def test_vendor_answers_map_to_domain_errors() -> None:
    route = respx.get("https://idp.example/api")
    with httpx.Client() as client:
        route.mock(return_value=httpx.Response(200, json={"ok": True}))
        assert send(client, "GET", "https://idp.example/api", vendor="Okta").json() == {"ok": True}
        route.mock(return_value=httpx.Response(429, headers={"Retry-After": "7"}, json={}))
        with pytest.raises(Retryable) as busy:
            send(client, "GET", "https://idp.example/api", vendor="Okta")
        assert busy.value.retry_after == 7.0
        route.mock(return_value=httpx.Response(403, json={"errorSummary": "You do not have permission"}))
        with pytest.raises(ConnectorError, match=r"Okta refused \(403\): You do not have permission"):
            send(client, "GET", "https://idp.example/api", vendor="Okta")
        route.mock(return_value=httpx.Response(400, json={"error": {"message": "Invalid user id"}}))
        with pytest.raises(ConnectorError, match="Invalid user id"):
            send(client, "GET", "https://idp.example/api", vendor="Graph")
        route.mock(side_effect=httpx.ReadTimeout("slow"))
        with pytest.raises(ConnectorTimeout, match="did not answer in time"):
            send(client, "GET", "https://idp.example/api", vendor="Okta")
        route.mock(side_effect=httpx.ConnectError("refused"))
        with pytest.raises(ConnectorTimeout, match="could not be reached"):
            send(client, "GET", "https://idp.example/api", vendor="Okta")


def test_retry_after_reads_seconds_dates_and_okta_reset() -> None:
    assert retry_after(httpx.Response(429, headers={"Retry-After": "12"})) == 12.0
    assert retry_after(httpx.Response(429, headers={"Retry-After": "Wed, 21 Oct 2015 07:28:00 GMT"})) == 0.0
    assert retry_after(httpx.Response(429, headers={"Retry-After": "soon"})) is None
    assert retry_after(httpx.Response(429, headers={"X-Rate-Limit-Reset": "1"})) == 0.0
    assert retry_after(httpx.Response(429)) is None
