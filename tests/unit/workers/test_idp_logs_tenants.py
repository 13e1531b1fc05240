"""Per-tenant IdP log polling: a tenant that configures its own Okta or Entra through the connector
registry gets its System Log (or directory audits and sign-ins) polled into its own detection,
with the same database checkpoints, and a change of configuration is picked up within
``refresh_ticks`` ticks, without a restart.

Fixtures follow Okta's System Log and Microsoft Graph's auditLogs references (the shapes of
``test_idp_logs_okta`` / ``test_idp_logs_entra``), served by respx: not live tenants.
"""

from __future__ import annotations

import json
from dataclasses import replace
from functools import partial
from typing import Any

import httpx
import pytest
import respx
from test_idp_logs_entra import TOKEN_URL, audit
from test_idp_logs_okta import event

import deskguard.workers.idp_logs as idp_logs
from deskguard.adapters.idp.entra import GRAPH
from deskguard.app.connectors import drop_connector, store_connector
from deskguard.app.context import AppContext
from deskguard.bootstrap_connectors import Deps
from deskguard.bootstrap_connectors import build as build_connector
from deskguard.bootstrap_connectors import validate as validate_connector
from deskguard.bootstrap_routing import Registry, TenantAdapters
from deskguard.workers.idp_logs import IdpLogPoller, PollTarget, tenant_log_targets
from world import World, build_world

ACME_OKTA = "https://acme-tenant.okta.com"
ACME_LOGS = f"{ACME_OKTA}/api/v1/logs"
DEPLOYMENT_OKTA = "https://deployment.okta.com"


@pytest.fixture
def world(uow_factory: Any, monkeypatch: pytest.MonkeyPatch) -> World:
    monkeypatch.setenv("ACME_OKTA_TOKEN", "acme-token")
    monkeypatch.setenv("ACME_ENTRA_SECRET", "acme-secret")
    return build_world(uow_factory)


@pytest.fixture
def tenants(world: World) -> TenantAdapters:
    deps = Deps(clock=world.ctx.clock, randomness=world.ctx.random)
    return TenantAdapters(reads=world.ctx.reads, build=partial(build_connector, deps=deps))


@pytest.fixture
def ctx(world: World, tenants: TenantAdapters) -> AppContext:
    """The world's context with the connector registry the composition root builds."""
    registry = Registry(tenants, deployment={}, validate=validate_connector)
    return replace(world.ctx, connectors=registry)


@pytest.fixture
def seen(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, str, str]]:
    """(tenant, source, record id) of what detection accepted."""
    got: list[tuple[str, str, str]] = []
    real = idp_logs.ingest

    def spy(ctx: Any, **kwargs: Any) -> Any:
        result = real(ctx, **kwargs)
        assert result.accepted == result.received
        for r in json.loads(kwargs["body"]):
            got.append((kwargs["tenant_id"], kwargs["source"], r.get("uuid") or r["id"]))
        return result

    monkeypatch.setattr(idp_logs, "ingest", spy)
    return got


def configure(ctx: AppContext, world: World, kind: str, tenant: str = "t_a") -> None:
    settings = {
        "okta": {"org_url": ACME_OKTA, "api_token": "env://ACME_OKTA_TOKEN"},
        "entra": {
            "tenant_id": "contoso.onmicrosoft.com",
            "client_id": "app",
            "client_secret": "env://ACME_ENTRA_SECRET",
        },
        "ldap": {"url": "ldap://ldap.acme", "bind_dn": "cn=a", "bind_password": "env://X", "base_dn": "dc=a"},
    }[kind]
    store_connector(
        ctx, actor=world.operator("admin"), tenant_id=tenant, name="idp", kind=kind, settings=settings
    )


def poller(ctx: AppContext, tenants: TenantAdapters, **kw: Any) -> IdpLogPoller:
    return IdpLogPoller(
        ctx,
        tenant_targets=lambda: tenant_log_targets(reads=ctx.reads, adapters=tenants, now=ctx.clock.now),
        **{"targets": [], "refresh_ticks": 2, **kw},
    )


def serve_okta() -> respx.Route:
    def answer(request: httpx.Request) -> httpx.Response:
        after = request.url.params.get("after")
        events = [] if after == "c1" else [event(1), event(2)]
        link = f'<{ACME_LOGS}?after=c1&limit=1000&sortOrder=ASCENDING>; rel="next"'
        return httpx.Response(200, json=events, headers={"Link": link})

    route = respx.get(ACME_LOGS)
    route.side_effect = answer
    return route


def serve_entra() -> tuple[respx.Route, respx.Route]:
    respx.post(TOKEN_URL).respond(json={"expires_in": 3599, "access_token": "at"})
    audits = respx.get(f"{GRAPH}/auditLogs/directoryAudits").respond(json={"value": [audit(1)]})
    sign_ins = respx.get(f"{GRAPH}/auditLogs/signIns").respond(json={"value": []})
    return audits, sign_ins


def checkpoint(world: World, stream: str, tenant: str = "t_a") -> Any:
    with world.ctx.reads() as uow:
        return uow.idp_poll.get(tenant_id=tenant, stream=stream)


@respx.mock
def test_a_tenant_okta_is_polled_with_its_own_token_and_checkpoint(ctx, world, tenants, seen) -> None:
    route = serve_okta()
    worker = poller(ctx, tenants)
    assert worker.tick() == 0 and not route.called  # nothing configured yet
    configure(ctx, world, "okta")
    assert worker.tick() == 0  # not re-read yet: the next refresh is at tick 3
    assert worker.tick() == 2
    assert seen == [("t_a", "okta", "uuid-1"), ("t_a", "okta", "uuid-2")]
    assert route.calls[0].request.headers["Authorization"] == "SSWS acme-token"
    stored = checkpoint(world, "okta.system_log")
    assert stored.last_id == "uuid-2" and stored.next_url.startswith(f"{ACME_LOGS}?after=c1")
    assert worker.tick() == 0  # caught up: the stored link, then nothing new
    assert "after=c1" in str(route.calls[-1].request.url)


@respx.mock
def test_a_switch_to_entra_then_removal_is_picked_up_without_a_restart(ctx, world, tenants, seen) -> None:
    okta = serve_okta()
    audits, sign_ins = serve_entra()
    configure(ctx, world, "okta")
    worker = poller(ctx, tenants)
    worker.tick()
    configure(ctx, world, "entra")
    okta_calls = okta.call_count
    worker.tick()  # between refreshes: still the Okta it knew
    assert okta.call_count > okta_calls and not audits.called
    worker.tick()  # refreshed: Entra's two streams
    assert audits.called and sign_ins.called
    assert ("t_a", "entra", "Directory_1") in seen
    assert checkpoint(world, "entra.directory_audits") is not None
    assert checkpoint(world, "entra.sign_ins") is not None
    drop_connector(ctx, actor=world.operator("admin"), tenant_id="t_a", name="idp")
    worker.tick()
    worker.tick()  # refreshed: nothing to poll
    before = (okta.call_count, audits.call_count)
    worker.tick()
    assert (okta.call_count, audits.call_count) == before


@respx.mock
def test_a_tenant_stream_replaces_the_deployments_for_that_tenant_only(
    ctx, world, tenants, seen, monkeypatch
) -> None:
    from deskguard.adapters.idp.okta import OktaIdentityProvider
    from deskguard.adapters.idp.okta_logs import OktaSystemLog

    monkeypatch.setenv("DEPLOYMENT_OKTA", "dep-token")
    deployment = OktaSystemLog(
        OktaIdentityProvider(org_url=DEPLOYMENT_OKTA, api_token="env://DEPLOYMENT_OKTA"), now=ctx.clock.now
    )
    dep_route = respx.get(f"{DEPLOYMENT_OKTA}/api/v1/logs").respond(json=[])
    serve_okta()
    configure(ctx, world, "okta", tenant="t_a")
    fixed = [PollTarget("t_a", deployment), PollTarget("t_b", deployment)]
    worker = poller(ctx, tenants, targets=fixed)
    chosen = [(t.tenant_id, t.source is deployment) for t in worker.targets()]
    assert chosen == [("t_b", True), ("t_a", False)]
    worker.tick()
    assert dep_route.call_count == 1  # t_b only


@respx.mock
def test_a_tenant_whose_connector_cannot_be_built_is_skipped_and_others_polled(
    ctx, world, tenants, seen, monkeypatch
) -> None:
    serve_okta()
    configure(ctx, world, "okta", tenant="t_a")
    configure(ctx, world, "okta", tenant="t_b")
    configure(ctx, world, "ldap", tenant="t_b")  # an LDAP directory has no log to poll
    assert [
        t.tenant_id for t in tenant_log_targets(reads=ctx.reads, adapters=tenants, now=ctx.clock.now)
    ] == ["t_a"]
    monkeypatch.delenv("ACME_OKTA_TOKEN")
    configure(ctx, world, "okta", tenant="t_b")  # built now: its secret cannot be read
    world.ctx.clock.advance(minutes=1)  # type: ignore[attr-defined]
    configure(ctx, world, "entra", tenant="t_a")
    targets = tenant_log_targets(reads=ctx.reads, adapters=tenants, now=ctx.clock.now)
    assert [(t.tenant_id, t.source.stream) for t in targets] == [
        ("t_a", "entra.directory_audits"),
        ("t_a", "entra.sign_ins"),
    ]
