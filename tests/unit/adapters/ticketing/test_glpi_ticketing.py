"""The GLPI ticketing adapter against respx fixtures built from GLPI's apirest.md."""

from __future__ import annotations

import json
from collections.abc import Callable

import httpx
import pytest
import respx

from deskguard.adapters.connectors.retry import Backoff
from deskguard.adapters.ticketing._base import TicketingSettings
from deskguard.adapters.ticketing.glpi import GlpiTicketing
from deskguard.domain.errors import ConfigurationError, ConnectorError, ConnectorTimeout

API = "https://glpi.acme.example/glpi/apirest.php"
SESSION = {"session_token": "83af7e620c83a50a18d3eac2f6ed05a3ca0bea62"}


@pytest.fixture(autouse=True)
def _tokens(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GLPI_USER", "u-token")
    monkeypatch.setenv("GLPI_APP", "a-token")


def adapter(sleep: Callable[[float], None] = lambda _s: None, **kw: str | None) -> GlpiTicketing:
    fields = {"app_token": "env://GLPI_APP", **kw}
    settings = TicketingSettings(
        vendor="glpi", url="https://glpi.acme.example/glpi/", token="env://GLPI_USER", **fields
    )  # type: ignore[arg-type]
    return GlpiTicketing(settings, client=httpx.Client(), backoff=Backoff(attempts=3), sleep=sleep)


def comment(glpi: GlpiTicketing, ref: str = "7", key: str = "k") -> str:
    return glpi.comment(tenant_id="acme", ticket_ref=ref, text="held", idempotency_key=key)


def session_routes() -> tuple[respx.Route, respx.Route]:
    return respx.get(f"{API}/initSession").respond(json=SESSION), respx.get(f"{API}/killSession").respond(
        json=True
    )


@respx.mock
def test_session_tokens_a_private_followup_and_the_session_killed() -> None:
    init, kill = session_routes()
    read = respx.get(f"{API}/Ticket/7").respond(json={"id": 7, "status": 2})
    post = respx.post(f"{API}/ITILFollowup").respond(201, json={"id": 501, "message": ""})
    assert comment(adapter()) == "7/followup/501"
    first = init.calls.last.request.headers
    assert first["app-token"] == "a-token" and first["authorization"] == "user_token u-token"
    for call in (read, post, kill):
        sent = call.calls.last.request.headers
        assert sent["session-token"] == SESSION["session_token"] and sent["app-token"] == "a-token"
        assert "authorization" not in sent
    assert json.loads(post.calls.last.request.content) == {
        "input": {"itemtype": "Ticket", "items_id": 7, "content": "held", "is_private": 1}
    }


@respx.mock
def test_open_posts_a_ticket() -> None:
    session_routes()
    post = respx.post(f"{API}/Ticket").respond(201, json={"id": 8, "message": ""})
    assert adapter().open(tenant_id="acme", title="T", text="D", idempotency_key="o") == "8"
    assert json.loads(post.calls.last.request.content) == {"input": {"name": "T", "content": "D"}}


@respx.mock
def test_a_429_on_the_read_is_retried_then_succeeds() -> None:
    waits: list[float] = []
    session_routes()
    respx.get(f"{API}/Ticket/7").mock(
        side_effect=[httpx.Response(429, headers={"Retry-After": "2"}), httpx.Response(200, json={"id": 7})]
    )
    respx.post(f"{API}/ITILFollowup").respond(201, json={"id": 502})
    assert comment(adapter(sleep=waits.append)) == "7/followup/502"
    assert waits and waits[0] >= 2


@respx.mock
def test_unknown_ticket_refusal_5xx_and_timeout_still_kill_the_session() -> None:
    _, kill = session_routes()
    respx.get(f"{API}/Ticket/404").respond(404, json=["ERROR_ITEM_NOT_FOUND", "Item not found"])
    with pytest.raises(ConnectorError, match="Item not found"):
        comment(adapter(), ref="404")
    respx.get(f"{API}/Ticket/7").respond(json={"id": 7})
    post = respx.post(f"{API}/ITILFollowup").respond(
        400, json=["ERROR_GLPI_ADD", "You don't have permission to perform this action."]
    )
    with pytest.raises(ConnectorError, match="permission to perform"):
        comment(adapter())
    post.respond(502)
    with pytest.raises(ConnectorError, match="502"):
        comment(adapter())
    post.mock(side_effect=httpx.ReadTimeout("slow"))
    with pytest.raises(ConnectorTimeout):
        comment(adapter())
    assert post.call_count == 3 and kill.call_count == 4


@respx.mock
def test_malformed_answers_and_bad_settings() -> None:
    respx.get(f"{API}/initSession").respond(json={"token": "x"})
    with pytest.raises(ConnectorError, match="session_token"):
        comment(adapter())
    with pytest.raises(ConfigurationError, match="ticketing_app_token"):
        adapter(app_token=None)


@respx.mock
def test_set_state_puts_the_status() -> None:
    session_routes()
    respx.get(f"{API}/Ticket/7").respond(json={"id": 7})
    put = respx.put(f"{API}/Ticket/7").respond(json=[{"7": True, "message": ""}])
    assert (
        adapter().set_state(tenant_id="acme", ticket_ref="7", state="5", idempotency_key="s") == "7/status/5"
    )
    assert json.loads(put.calls.last.request.content) == {"input": {"status": 5}}
    with pytest.raises(ConnectorError, match="1 to 6"):
        adapter().set_state(tenant_id="acme", ticket_ref="7", state="solved", idempotency_key="s2")
