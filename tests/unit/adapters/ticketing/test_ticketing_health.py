"""``health()`` of each ticketing adapter (``deskguard connectors check``): one authenticated read."""

from __future__ import annotations

import httpx
import pytest
import respx

from deskguard.adapters.connectors.retry import Backoff
from deskguard.adapters.ticketing._base import TicketingSettings
from deskguard.adapters.ticketing.glpi import GlpiTicketing
from deskguard.adapters.ticketing.jsm import JsmTicketing
from deskguard.adapters.ticketing.servicenow import ServiceNowTicketing
from deskguard.adapters.ticketing.zendesk import ZendeskTicketing

ADAPTERS = {
    "servicenow": (
        ServiceNowTicketing,
        "https://a.service-now.com",
        "/api/now/table/incident",
        {"result": []},
    ),
    "jsm": (JsmTicketing, "https://a.atlassian.net", "/rest/servicedeskapi/servicedesk", {"size": 1}),
    "zendesk": (
        ZendeskTicketing,
        "https://a.zendesk.com",
        "/api/v2/users/me",
        {"user": {"email": "s@a", "role": "agent"}},
    ),
    "glpi": (GlpiTicketing, "https://g.example", "/apirest.php/initSession", {"session_token": "s"}),
}


@pytest.mark.parametrize("vendor", list(ADAPTERS))
@respx.mock
def test_health_reads_once_and_reports_a_failure_without_raising(
    vendor: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("H_T", "t")
    cls, base, path, body = ADAPTERS[vendor]
    settings = TicketingSettings(
        vendor=vendor, url=base, token="env://H_T", username="u@a", app_token="env://H_T"
    )  # type: ignore[arg-type]
    adapter = cls(settings, client=httpx.Client(), backoff=Backoff(attempts=1), sleep=lambda _s: None)
    respx.get(f"{base}/apirest.php/killSession").respond(json=True)
    route = respx.get(base + path).respond(json=body)
    healthy = adapter.health()
    assert healthy.ok and base in healthy.detail
    route.respond(401, json={"error": {"message": "User Not Authenticated"}})
    failing = adapter.health()
    assert not failing.ok and "401" in failing.detail
