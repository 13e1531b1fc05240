"""The Jira Service Management ticketing adapter against respx fixtures built from the
servicedeskapi reference."""

from __future__ import annotations

import base64
import json
from collections.abc import Callable

import httpx
import pytest
import respx

from deskguard.adapters.connectors.retry import Backoff
from deskguard.adapters.ticketing._base import TicketingSettings
from deskguard.adapters.ticketing.jsm import JsmTicketing
from deskguard.domain.errors import ConfigurationError, ConnectorError, ConnectorTimeout

BASE = "https://acme.atlassian.net"
REQ = f"{BASE}/rest/servicedeskapi/request"
FOUND = {"issueId": "10001", "issueKey": "HD-1"}


@pytest.fixture(autouse=True)
def _token(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("JSM_T", "atl-token")


def adapter(sleep: Callable[[float], None] = lambda _s: None, **kw: str) -> JsmTicketing:
    fields = {"username": "soc@acme.example", "service_desk_id": "1", "request_type_id": "10", **kw}
    settings = TicketingSettings(vendor="jsm", url=BASE, token="env://JSM_T", **fields)  # type: ignore[arg-type]
    return JsmTicketing(settings, client=httpx.Client(), backoff=Backoff(attempts=3), sleep=sleep)


def comment(jsm: JsmTicketing, ref: str = "HD-1", key: str = "k") -> str:
    return jsm.comment(tenant_id="acme", ticket_ref=ref, text="held", idempotency_key=key)


@respx.mock
def test_basic_email_token_and_an_internal_comment() -> None:
    read = respx.get(f"{REQ}/HD-1").respond(json=FOUND)
    post = respx.post(f"{REQ}/HD-1/comment").respond(
        201, json={"id": "1000", "body": "held", "public": False}
    )
    assert comment(adapter()) == "HD-1/comment/1000"
    expected = "Basic " + base64.b64encode(b"soc@acme.example:atl-token").decode()
    assert read.calls.last.request.headers["authorization"] == expected
    assert json.loads(post.calls.last.request.content) == {"body": "held", "public": False}


@respx.mock
def test_open_raises_a_request_in_the_configured_desk() -> None:
    post = respx.post(REQ).respond(201, json={"issueId": "10002", "issueKey": "HD-2"})
    assert adapter().open(tenant_id="acme", title="T", text="D", idempotency_key="o") == "HD-2"
    assert json.loads(post.calls.last.request.content) == {
        "serviceDeskId": "1",
        "requestTypeId": "10",
        "requestFieldValues": {"summary": "T", "description": "D"},
    }
    with pytest.raises(ConnectorError, match="service_desk_id"):
        adapter(service_desk_id="").open(tenant_id="acme", title="T", text="D", idempotency_key="o")


@respx.mock
def test_a_429_on_the_read_is_retried_then_succeeds() -> None:
    waits: list[float] = []
    respx.get(f"{REQ}/HD-1").mock(
        side_effect=[httpx.Response(429, headers={"Retry-After": "3"}), httpx.Response(200, json=FOUND)]
    )
    respx.post(f"{REQ}/HD-1/comment").respond(201, json={"id": "1001"})
    assert comment(adapter(sleep=waits.append)) == "HD-1/comment/1001"
    assert waits and waits[0] >= 3


@respx.mock
def test_refusals_5xx_and_timeouts_on_the_comment_are_tried_once() -> None:
    respx.get(f"{REQ}/HD-1").respond(json=FOUND)
    post = respx.post(f"{REQ}/HD-1/comment").respond(
        403, json={"errorMessage": "You do not have permission to comment on this request."}
    )
    with pytest.raises(ConnectorError, match="permission to comment"):
        comment(adapter())
    post.respond(500, text="Internal Server Error")
    with pytest.raises(ConnectorError, match="500"):
        comment(adapter())
    post.mock(side_effect=httpx.ReadTimeout("slow"))
    with pytest.raises(ConnectorTimeout):
        comment(adapter())
    assert post.call_count == 3


@respx.mock
def test_malformed_answers_and_bad_keys() -> None:
    respx.get(f"{REQ}/HD-1").respond(json={"issueId": "10001"})
    with pytest.raises(ConnectorError, match="malformed"):
        comment(adapter())
    with pytest.raises(ConnectorError, match="not an issue key"):
        comment(adapter(), ref="../../api/3/issue/HD-1")
    with pytest.raises(ConfigurationError, match="ticketing_username"):
        adapter(username="")


@respx.mock
def test_set_state_follows_the_transition_by_name() -> None:
    respx.get(f"{REQ}/HD-1").respond(json=FOUND)
    respx.get(f"{REQ}/HD-1/transition").respond(
        json={"values": [{"id": "11", "name": "Resolve this issue"}, {"id": "21", "name": "Escalate"}]}
    )
    move = respx.post(f"{REQ}/HD-1/transition").respond(204)
    ref = adapter().set_state(tenant_id="acme", ticket_ref="HD-1", state="escalate", idempotency_key="s")
    assert ref == "HD-1/transition/21" and json.loads(move.calls.last.request.content) == {"id": "21"}
    with pytest.raises(ConnectorError, match="no transition"):
        adapter().set_state(tenant_id="acme", ticket_ref="HD-1", state="Close", idempotency_key="s2")
