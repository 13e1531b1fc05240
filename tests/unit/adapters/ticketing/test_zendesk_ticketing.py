"""The Zendesk ticketing adapter against respx fixtures built from the Support API reference."""

from __future__ import annotations

import base64
import json
from collections.abc import Callable

import httpx
import pytest
import respx

from deskguard.adapters.connectors.retry import Backoff
from deskguard.adapters.ticketing._base import TicketingSettings
from deskguard.adapters.ticketing.zendesk import ZendeskTicketing
from deskguard.domain.errors import ConfigurationError, ConnectorError, ConnectorTimeout

BASE = "https://acme.zendesk.com"
TICKET = f"{BASE}/api/v2/tickets/35436"
FOUND = {"ticket": {"id": 35436, "status": "open"}}
UPDATED = {"ticket": {"id": 35436, "status": "open"}, "audit": {"id": 9001, "events": []}}


@pytest.fixture(autouse=True)
def _token(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ZD_T", "zd-token")


def adapter(sleep: Callable[[float], None] = lambda _s: None, **kw: str) -> ZendeskTicketing:
    fields = {"username": "soc@acme.example", **kw}
    settings = TicketingSettings(vendor="zendesk", url=BASE, token="env://ZD_T", **fields)  # type: ignore[arg-type]
    return ZendeskTicketing(settings, client=httpx.Client(), backoff=Backoff(attempts=3), sleep=sleep)


def comment(zd: ZendeskTicketing, ref: str = "35436", key: str = "k") -> str:
    return zd.comment(tenant_id="acme", ticket_ref=ref, text="held", idempotency_key=key)


@respx.mock
def test_email_token_basic_and_a_private_comment_by_put() -> None:
    read = respx.get(TICKET).respond(json=FOUND)
    put = respx.put(TICKET).respond(json=UPDATED)
    assert comment(adapter()) == "35436/audit/9001"
    expected = "Basic " + base64.b64encode(b"soc@acme.example/token:zd-token").decode()
    assert read.calls.last.request.headers["authorization"] == expected
    assert json.loads(put.calls.last.request.content) == {
        "ticket": {"comment": {"body": "held", "public": False}}
    }


@respx.mock
def test_open_posts_a_ticket_with_a_private_first_comment() -> None:
    post = respx.post(f"{BASE}/api/v2/tickets").respond(201, json={"ticket": {"id": 35437}, "audit": {}})
    assert adapter().open(tenant_id="acme", title="T", text="D", idempotency_key="o") == "35437"
    assert json.loads(post.calls.last.request.content) == {
        "ticket": {"subject": "T", "comment": {"body": "D", "public": False}}
    }


@respx.mock
def test_a_429_on_the_read_is_retried_then_succeeds() -> None:
    waits: list[float] = []
    respx.get(TICKET).mock(
        side_effect=[httpx.Response(429, headers={"Retry-After": "4"}), httpx.Response(200, json=FOUND)]
    )
    respx.put(TICKET).respond(json=UPDATED)
    assert comment(adapter(sleep=waits.append))
    assert waits and waits[0] >= 4


@respx.mock
def test_unknown_5xx_and_timeout_of_the_comment() -> None:
    respx.get(f"{BASE}/api/v2/tickets/1").respond(
        404, json={"error": "RecordNotFound", "description": "Not found"}
    )
    with pytest.raises(ConnectorError, match="RecordNotFound"):
        comment(adapter(), ref="1")
    respx.get(TICKET).respond(json=FOUND)
    put = respx.put(TICKET).respond(503, headers={"Retry-After": "1"})
    with pytest.raises(ConnectorError, match="503"):
        comment(adapter())
    put.mock(side_effect=httpx.ConnectTimeout("slow"))
    with pytest.raises(ConnectorTimeout):
        comment(adapter())
    assert put.call_count == 2


@respx.mock
def test_malformed_answers_and_bad_references() -> None:
    respx.get(TICKET).respond(json=FOUND)
    respx.put(TICKET).respond(json={"ticket": {"id": 35436}})  # no audit
    with pytest.raises(ConnectorError, match="malformed"):
        comment(adapter())
    with pytest.raises(ConnectorError, match="not a ticket id"):
        comment(adapter(), ref="35436/../../users")
    with pytest.raises(ConfigurationError, match="ticketing_username"):
        adapter(username="")


@respx.mock
def test_set_state_puts_the_status_retried() -> None:
    respx.get(TICKET).respond(json=FOUND)
    put = respx.put(TICKET).mock(
        side_effect=[
            httpx.Response(500),
            httpx.Response(200, json={"ticket": {"id": 35436, "status": "solved"}}),
        ]
    )
    ref = adapter().set_state(tenant_id="acme", ticket_ref="35436", state="solved", idempotency_key="s")
    assert ref == "35436/status/solved" and put.call_count == 2
    assert json.loads(put.calls.last.request.content) == {"ticket": {"status": "solved"}}
    with pytest.raises(ConnectorError, match="not a ticket status"):
        adapter().set_state(tenant_id="acme", ticket_ref="35436", state="done", idempotency_key="s2")
