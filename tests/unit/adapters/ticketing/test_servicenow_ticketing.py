"""The ServiceNow ticketing adapter against respx fixtures built from the Table API reference."""

from __future__ import annotations

import base64
import json
from collections.abc import Callable

import httpx
import pytest
import respx

from deskguard.adapters.connectors.retry import Backoff
from deskguard.adapters.ticketing._base import TicketingSettings
from deskguard.adapters.ticketing.servicenow import ServiceNowTicketing
from deskguard.domain.errors import ConfigurationError, ConnectorError, ConnectorTimeout

BASE = "https://acme.service-now.com"
TABLE = f"{BASE}/api/now/table/incident"
SYS_ID = "9d385017c611228701d22104cc95c371"
FOUND = {"result": [{"sys_id": SYS_ID, "number": "INC0010001"}]}
PATCHED = {"result": {"sys_id": SYS_ID, "number": "INC0010001", "sys_updated_on": "2026-12-03 21:00:00"}}


@pytest.fixture(autouse=True)
def _token(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SN_T", "s3cret")


def adapter(sleep: Callable[[float], None] = lambda _s: None, **kw: str) -> ServiceNowTicketing:
    settings = TicketingSettings(
        vendor="servicenow", url=BASE, token="env://SN_T", **{"username": "dg.integration", **kw}
    )  # type: ignore[arg-type]
    return ServiceNowTicketing(settings, client=httpx.Client(), backoff=Backoff(attempts=3), sleep=sleep)


def comment(sn: ServiceNowTicketing, ref: str = "INC0010001", key: str = "k") -> str:
    return sn.comment(tenant_id="acme", ticket_ref=ref, text="held: call-back failed", idempotency_key=key)


@respx.mock
def test_basic_auth_lookup_by_number_then_one_patch_of_work_notes() -> None:
    lookup = respx.get(TABLE).respond(json=FOUND)
    patch = respx.patch(f"{TABLE}/{SYS_ID}").respond(json=PATCHED)
    assert comment(adapter()) == "INC0010001@2026-12-03 21:00:00"
    sent = lookup.calls.last.request
    assert sent.headers["authorization"] == "Basic " + base64.b64encode(b"dg.integration:s3cret").decode()
    assert sent.url.params["sysparm_query"] == "number=INC0010001"
    assert json.loads(patch.calls.last.request.content) == {"work_notes": "held: call-back failed"}


@respx.mock
def test_bearer_auth_comments_field_and_sys_id_read_directly() -> None:
    read = respx.get(f"{TABLE}/{SYS_ID}").respond(json={"result": FOUND["result"][0]})
    patch = respx.patch(f"{TABLE}/{SYS_ID}").respond(json=PATCHED)
    comment(adapter(auth="bearer", username="", comment_field="comments"), ref=SYS_ID)
    assert read.calls.last.request.headers["authorization"] == "Bearer s3cret"
    assert json.loads(patch.calls.last.request.content) == {"comments": "held: call-back failed"}


@respx.mock
def test_open_posts_the_incident_and_returns_its_number() -> None:
    post = respx.post(TABLE).respond(201, json={"result": {"sys_id": SYS_ID, "number": "INC0010002"}})
    ref = adapter().open(tenant_id="acme", title="Takeover chain", text="details", idempotency_key="o")
    assert ref == "INC0010002"
    assert json.loads(post.calls.last.request.content) == {
        "short_description": "Takeover chain",
        "description": "details",
    }


@respx.mock
def test_a_429_on_the_read_is_retried_after_retry_after_then_succeeds() -> None:
    waits: list[float] = []
    sn = adapter(sleep=waits.append)
    respx.get(TABLE).mock(
        side_effect=[httpx.Response(429, headers={"Retry-After": "2"}), httpx.Response(200, json=FOUND)]
    )
    respx.patch(f"{TABLE}/{SYS_ID}").respond(json=PATCHED)
    assert comment(sn)
    assert waits and waits[0] >= 2


@respx.mock
def test_a_5xx_or_a_timeout_on_the_comment_is_not_repeated() -> None:
    respx.get(TABLE).respond(json=FOUND)
    patch = respx.patch(f"{TABLE}/{SYS_ID}").respond(503, json={"error": {"message": "busy"}})
    with pytest.raises(ConnectorError, match="503: busy"):
        comment(adapter())
    assert patch.call_count == 1
    patch.mock(side_effect=httpx.ReadTimeout("slow"))
    with pytest.raises(ConnectorTimeout):
        comment(adapter(), key="k2")
    assert patch.call_count == 2


@respx.mock
def test_a_malformed_answer_is_a_connector_error() -> None:
    respx.get(TABLE).respond(200, text="<html>login</html>")
    with pytest.raises(ConnectorError, match="not JSON"):
        comment(adapter())
    respx.get(TABLE).respond(json={"result": {"oops": 1}})
    with pytest.raises(ConnectorError, match="malformed"):
        comment(adapter())


@respx.mock
def test_set_state_patches_the_state_and_is_retried() -> None:
    respx.get(TABLE).respond(json=FOUND)
    patch = respx.patch(f"{TABLE}/{SYS_ID}").mock(
        side_effect=[httpx.Response(502), httpx.Response(200, json=PATCHED)]
    )
    adapter().set_state(tenant_id="acme", ticket_ref="INC0010001", state="6", idempotency_key="s")
    assert json.loads(patch.calls.last.request.content) == {"state": "6"} and patch.call_count == 2


def test_settings_refuse_http_inline_secrets_and_a_missing_user() -> None:
    with pytest.raises(ValueError, match="https"):
        TicketingSettings(vendor="servicenow", url="http://acme.service-now.com", token="env://SN_T")
    with pytest.raises(ValueError, match="reference"):
        TicketingSettings(vendor="servicenow", url=BASE, token="pasted")
    with pytest.raises(ConfigurationError, match="ticketing_username"):
        adapter(username="")
    with pytest.raises(ConnectorError, match="not an incident number"):
        comment(adapter(), ref="number=INC1^ORactive=true")
