"""The Okta System Log poller: Link pagination into detection, a checkpoint that survives restarts
without a gap or a duplicate, 429 honoured, a malformed page refused with the checkpoint kept.

Fixtures are built from Okta's published System Log API reference (LogEvent fields, ``Link``
headers), served by respx: not a live tenant.
"""

from __future__ import annotations

from typing import Any

import httpx
import pytest
import respx

import deskguard.workers.idp_logs as idp_logs
from deskguard.adapters.connectors.retry import Backoff
from deskguard.adapters.idp.okta import OktaIdentityProvider
from deskguard.adapters.idp.okta_logs import STREAM, OktaSystemLog
from deskguard.domain.errors import ConnectorError
from deskguard.domain.ports_poll import PollCursor
from deskguard.workers.idp_logs import IdpLogPoller, PollTarget, poll_stream
from world import World, build_world

ORG = "https://acme.okta.com"
LOGS = f"{ORG}/api/v1/logs"
TENANT = "t_a"


def event(n: int) -> dict[str, Any]:
    return {
        "uuid": f"uuid-{n}",
        "published": f"2026-12-01T10:00:0{n}.000Z",
        "eventType": "user.session.start",
        "version": "0",
        "severity": "INFO",
        "displayMessage": "User login to Okta",
        "actor": {"id": "00u1", "type": "User", "alternateId": "alice@t_a.example", "displayName": "Alice"},
        "client": {"ipAddress": "198.51.100.7", "userAgent": {"rawUserAgent": "Mozilla/5.0"}},
        "outcome": {"result": "SUCCESS"},
        "target": [],
    }


def link(after: str) -> dict[str, str]:
    return {
        "Link": f'<{LOGS}?after={after}&limit=2&sortOrder=ASCENDING>; rel="self", '
        f'<{LOGS}?after={after}&limit=2&sortOrder=ASCENDING>; rel="next"'
    }


def page(events: list[dict[str, Any]], after: str) -> httpx.Response:
    return httpx.Response(200, json=events, headers=link(after))


@pytest.fixture
def world(uow_factory: Any) -> World:
    return build_world(uow_factory)


@pytest.fixture
def seen(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The uuids detection received, in order (only batches ingest accepted)."""
    got: list[str] = []
    real = idp_logs.ingest

    def spy(ctx: Any, **kwargs: Any) -> Any:
        result = real(ctx, **kwargs)
        import json

        got.extend(r["uuid"] for r in json.loads(kwargs["body"]))
        return result

    monkeypatch.setattr(idp_logs, "ingest", spy)
    return got


def source(world: World, monkeypatch: pytest.MonkeyPatch) -> OktaSystemLog:
    monkeypatch.setenv("OKTA_TOKEN", "tok")
    okta = OktaIdentityProvider(
        org_url=ORG, api_token="env://OKTA_TOKEN", backoff=Backoff(attempts=3), sleep=lambda _s: None
    )
    return OktaSystemLog(okta, now=world.ctx.clock.now, limit=2)


def serve(first: httpx.Response | list[Any]) -> None:
    """First request (``since``): events 1-2 → after=c1; c1: event 3 → c2; c2: empty → c2."""
    route = respx.get(LOGS)
    route.side_effect = lambda request: _answer(request, first)


def _answer(request: httpx.Request, first: Any) -> httpx.Response:
    after = request.url.params.get("after")
    if after is None:
        return page([event(1), event(2)], "c1")
    if after == "c1":
        return first if isinstance(first, httpx.Response) else page([event(3)], "c2")
    return page([], "c2")


def checkpoint(world: World) -> PollCursor | None:
    with world.ctx.reads() as uow:
        return uow.idp_poll.get(tenant_id=TENANT, stream=STREAM)


@respx.mock
def test_two_pages_follow_the_link_then_stop_when_caught_up(world, seen, monkeypatch) -> None:
    serve([])
    logs = source(world, monkeypatch)
    assert poll_stream(world.ctx, tenant_id=TENANT, source=logs) == 3
    assert seen == ["uuid-1", "uuid-2", "uuid-3"]
    first = respx.calls[0].request.url.params
    assert first["sortOrder"] == "ASCENDING" and first["limit"] == "2" and "since" in first
    assert respx.calls[0].request.headers["Authorization"] == "SSWS tok"
    cursor = checkpoint(world)
    assert cursor is not None and cursor.next_url.endswith("after=c2&limit=2&sortOrder=ASCENDING")
    assert (cursor.last_id, cursor.last_time) == ("uuid-3", "2026-12-01T10:00:03.000Z")
    # the next tick polls the stored link: nothing new, nothing again
    assert poll_stream(world.ctx, tenant_id=TENANT, source=logs) == 0
    assert seen == ["uuid-1", "uuid-2", "uuid-3"]


@respx.mock
def test_a_restart_mid_way_resumes_after_the_checkpoint(world, seen, monkeypatch) -> None:
    serve([])
    assert poll_stream(world.ctx, tenant_id=TENANT, source=source(world, monkeypatch), max_pages=1) == 2
    assert checkpoint(world).next_url.endswith("after=c1&limit=2&sortOrder=ASCENDING")  # type: ignore[union-attr]
    # a new process: a new source and adapter, the same database
    assert poll_stream(world.ctx, tenant_id=TENANT, source=source(world, monkeypatch)) == 1
    assert seen == ["uuid-1", "uuid-2", "uuid-3"]  # no duplicate, no gap
    assert "after=c1" in str(respx.calls[1].request.url)  # straight to the checkpoint


@respx.mock
def test_a_crash_while_ingesting_keeps_the_checkpoint_and_the_page_comes_again(
    world, seen, monkeypatch
) -> None:
    serve([])
    spy = idp_logs.ingest
    calls = {"n": 0}

    def crash_on_second(ctx: Any, **kwargs: Any) -> Any:
        calls["n"] += 1
        if calls["n"] == 2:
            raise RuntimeError("process killed")
        return spy(ctx, **kwargs)

    monkeypatch.setattr(idp_logs, "ingest", crash_on_second)
    with pytest.raises(RuntimeError):
        poll_stream(world.ctx, tenant_id=TENANT, source=source(world, monkeypatch))
    assert checkpoint(world).last_id == "uuid-2"  # type: ignore[union-attr]
    monkeypatch.setattr(idp_logs, "ingest", spy)
    poll_stream(world.ctx, tenant_id=TENANT, source=source(world, monkeypatch))
    assert seen == ["uuid-1", "uuid-2", "uuid-3"]


@respx.mock
def test_429_then_success(world, seen, monkeypatch) -> None:
    calls = {"n": 0}

    def answer(request: httpx.Request) -> httpx.Response:
        calls["n"] += 1
        if calls["n"] == 1:
            return httpx.Response(
                429, headers={"Retry-After": "0"}, json={"errorSummary": "API call exceeded rate limit"}
            )
        return _answer(request, [])

    respx.get(LOGS).side_effect = answer
    assert poll_stream(world.ctx, tenant_id=TENANT, source=source(world, monkeypatch)) == 3
    assert seen == ["uuid-1", "uuid-2", "uuid-3"]


@respx.mock
@pytest.mark.parametrize(
    "bad",
    [
        httpx.Response(200, json={"errorSummary": "not a list"}),
        httpx.Response(200, content=b"<html>gateway</html>"),
    ],
)
def test_a_malformed_page_is_an_error_and_the_checkpoint_stays(world, seen, monkeypatch, bad) -> None:
    serve(bad)
    with pytest.raises(ConnectorError):
        poll_stream(world.ctx, tenant_id=TENANT, source=source(world, monkeypatch))
    cursor = checkpoint(world)
    assert cursor is not None and cursor.next_url.endswith("after=c1&limit=2&sortOrder=ASCENDING")
    assert cursor.last_id == "uuid-2"
    assert seen == ["uuid-1", "uuid-2"]


@respx.mock
def test_without_a_link_it_resumes_from_the_last_published_and_drops_that_event(
    world, seen, monkeypatch
) -> None:
    with world.ctx.uow() as uow:
        uow.idp_poll.put(
            PollCursor(
                tenant_id=TENANT,
                stream=STREAM,
                last_time=event(2)["published"],
                last_id="uuid-2",
                updated_at=world.ctx.clock.now(),
            )
        )
        uow.commit()
    route = respx.get(LOGS).mock(return_value=page([event(2), event(3)], "c2"))
    poll_stream(world.ctx, tenant_id=TENANT, source=source(world, monkeypatch), max_pages=1)
    assert route.calls[0].request.url.params["since"] == event(2)["published"]
    assert seen == ["uuid-3"]


@respx.mock
def test_a_link_to_another_host_is_refused(world, seen, monkeypatch) -> None:
    respx.get(LOGS).mock(
        return_value=httpx.Response(
            200, json=[event(1)], headers={"Link": '<https://evil.example/api/v1/logs?after=x>; rel="next"'}
        )
    )
    with pytest.raises(ConnectorError, match="refusing"):
        poll_stream(world.ctx, tenant_id=TENANT, source=source(world, monkeypatch))
    assert checkpoint(world) is None and seen == []


@respx.mock
def test_the_worker_logs_a_failing_stream_and_keeps_ticking(world, seen, monkeypatch) -> None:
    respx.get(LOGS).mock(return_value=httpx.Response(401, json={"errorSummary": "Invalid token provided"}))
    worker = IdpLogPoller(world.ctx, targets=[PollTarget(TENANT, source(world, monkeypatch))])
    assert worker.tick() == 0
    assert checkpoint(world) is None
