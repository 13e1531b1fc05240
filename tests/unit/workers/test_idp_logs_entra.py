"""The Entra log pollers: ``@odata.nextLink`` pages into detection over closed time windows, a
checkpoint that survives restarts, 429 honoured, a malformed page refused with the checkpoint kept.

Fixtures follow Microsoft Graph's published directoryAudit / signIn resources, served by respx.
"""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import httpx
import pytest
import respx

import deskguard.workers.idp_logs as idp_logs
from deskguard.adapters.connectors.retry import Backoff
from deskguard.adapters.idp.entra import GRAPH, GraphClient
from deskguard.adapters.idp.entra_logs import AUDITS, SIGN_INS, EntraLog, stamp
from deskguard.domain.errors import ConnectorError
from deskguard.workers.idp_logs import poll_stream
from world import World, build_world

TENANT = "t_a"
TOKEN_URL = "https://login.microsoftonline.com/contoso.onmicrosoft.com/oauth2/v2.0/token"
AUDIT_URL = f"{GRAPH}/auditLogs/directoryAudits"
NEXT = f"{AUDIT_URL}?$skiptoken=p2"


def audit(n: int) -> dict[str, Any]:
    return {
        "id": f"Directory_{n}",
        "category": "UserManagement",
        "correlationId": f"c{n}",
        "result": "success",
        "resultReason": "",
        "activityDisplayName": "Reset user password",
        "activityDateTime": f"2026-12-01T09:0{n}:00Z",
        "loggedByService": "Core Directory",
        "operationType": "Update",
        "initiatedBy": {
            "user": {"id": "u-admin", "userPrincipalName": "admin@t_a.example", "ipAddress": "198.51.100.7"}
        },
        "targetResources": [{"id": "u-alice", "type": "User", "userPrincipalName": "alice@t_a.example"}],
        "additionalDetails": [],
    }


@pytest.fixture
def world(uow_factory: Any) -> World:
    return build_world(uow_factory)


@pytest.fixture
def seen(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    got: list[str] = []
    real = idp_logs.ingest

    def spy(ctx: Any, **kwargs: Any) -> Any:
        result = real(ctx, **kwargs)
        assert result.accepted == result.received  # the normaliser reads Graph's shape
        got.extend(r["id"] for r in json.loads(kwargs["body"]))
        return result

    monkeypatch.setattr(idp_logs, "ingest", spy)
    return got


def source(world: World, monkeypatch: pytest.MonkeyPatch, kind: Any = AUDITS) -> EntraLog:
    monkeypatch.setenv("ENTRA_SECRET", "s")
    graph = GraphClient(
        tenant_id="contoso.onmicrosoft.com",
        client_id="app",
        client_secret="env://ENTRA_SECRET",
        now=world.ctx.clock.now,
        backoff=Backoff(attempts=3),
        sleep=lambda _s: None,
    )
    return EntraLog(graph, kind=kind, now=world.ctx.clock.now, limit=2)


def serve(second: httpx.Response | None = None) -> respx.Route:
    respx.post(TOKEN_URL).respond(json={"expires_in": 3599, "access_token": "at"})

    def answer(request: httpx.Request) -> httpx.Response:
        if "skiptoken" in str(request.url):
            return second or httpx.Response(200, json={"value": [audit(3)]})
        return httpx.Response(200, json={"value": [audit(1), audit(2)], "@odata.nextLink": NEXT})

    route = respx.get(AUDIT_URL)
    route.side_effect = answer
    return route


def cursor(world: World, stream: str = AUDITS[0]) -> Any:
    with world.ctx.reads() as uow:
        return uow.idp_poll.get(tenant_id=TENANT, stream=stream)


@respx.mock
def test_pages_follow_next_link_over_a_closed_window(world, seen, monkeypatch) -> None:
    route = serve()
    now = world.ctx.clock.now()
    assert poll_stream(world.ctx, tenant_id=TENANT, source=source(world, monkeypatch)) == 3
    assert seen == ["Directory_1", "Directory_2", "Directory_3"]
    first = route.calls[0].request.url.params
    since, until = stamp(now - timedelta(hours=1)), stamp(now - timedelta(minutes=5))
    assert first["$filter"] == f"activityDateTime ge {since} and activityDateTime lt {until}"
    assert route.calls[0].request.headers["Authorization"] == "Bearer at"
    done = cursor(world)
    assert done.next_url == "" and done.last_time == until
    # the next sweep starts where this one ended
    world.ctx.clock.advance(minutes=10)  # type: ignore[attr-defined]
    poll_stream(world.ctx, tenant_id=TENANT, source=source(world, monkeypatch))
    assert route.calls[2].request.url.params["$filter"].startswith(f"activityDateTime ge {until} and")


@respx.mock
def test_a_restart_mid_sweep_resumes_at_the_link(world, seen, monkeypatch) -> None:
    route = serve()
    poll_stream(world.ctx, tenant_id=TENANT, source=source(world, monkeypatch), max_pages=1)
    assert cursor(world).next_url == NEXT
    poll_stream(world.ctx, tenant_id=TENANT, source=source(world, monkeypatch))
    assert seen == ["Directory_1", "Directory_2", "Directory_3"]
    assert "skiptoken" in str(route.calls[1].request.url)


@respx.mock
def test_429_then_success(world, seen, monkeypatch) -> None:
    real = serve(second=None).side_effect
    throttled = {"n": 0}

    def answer(request: httpx.Request) -> httpx.Response:
        throttled["n"] += 1
        if throttled["n"] == 2:
            return httpx.Response(
                429, headers={"Retry-After": "1"}, json={"error": {"code": "TooManyRequests", "message": "x"}}
            )
        return real(request)  # type: ignore[misc, operator]

    respx.get(AUDIT_URL).side_effect = answer
    poll_stream(world.ctx, tenant_id=TENANT, source=source(world, monkeypatch))
    assert seen == ["Directory_1", "Directory_2", "Directory_3"]


@respx.mock
@pytest.mark.parametrize(
    "bad",
    [
        httpx.Response(200, json={"error": "no value"}),
        httpx.Response(200, json={"value": [], "@odata.nextLink": 42}),
        httpx.Response(200, json={"value": [], "@odata.nextLink": "https://evil.example/x"}),
    ],
)
def test_a_malformed_page_keeps_the_checkpoint(world, seen, monkeypatch, bad) -> None:
    serve(second=bad)
    with pytest.raises(ConnectorError):
        poll_stream(world.ctx, tenant_id=TENANT, source=source(world, monkeypatch))
    assert cursor(world).next_url == NEXT and seen == ["Directory_1", "Directory_2"]


@respx.mock
def test_sign_ins_use_created_date_time(world, seen, monkeypatch) -> None:
    respx.post(TOKEN_URL).respond(json={"expires_in": 3599, "access_token": "at"})
    sign_in = {
        "id": "si-1",
        "createdDateTime": "2026-12-01T09:01:00Z",
        "userPrincipalName": "alice@t_a.example",
        "userId": "u-alice",
        "appDisplayName": "Office 365",
        "ipAddress": "198.51.100.7",
        "clientAppUsed": "Browser",
        "isInteractive": True,
        "status": {"errorCode": 0},
        "location": {"city": "Paris", "countryOrRegion": "FR"},
    }
    route = respx.get(f"{GRAPH}/auditLogs/signIns").respond(json={"value": [sign_in]})
    poll_stream(world.ctx, tenant_id=TENANT, source=source(world, monkeypatch, SIGN_INS))
    assert route.calls[0].request.url.params["$filter"].startswith("createdDateTime ge ")
    assert seen == ["si-1"] and cursor(world, SIGN_INS[0]).next_url == ""
