"""The composition of ``OtpDelivery``: the deployment's Twilio Verify from ``DESKGUARD_*`` settings,
a tenant's own ``otp`` connector (``twilio_verify``) routed per call, errors naming the field."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from functools import partial
from typing import Any

import pytest
import respx

from deskguard.adapters.channels.twilio_verify import TwilioVerifyDelivery
from deskguard.app import requests, verification
from deskguard.app.connectors import set_connector
from deskguard.app.context import AppContext
from deskguard.app.requests import RequestDraft
from deskguard.bootstrap_channels import TenantOtpDelivery, otp_delivery
from deskguard.bootstrap_connectors import Deps
from deskguard.bootstrap_connectors import build as build_connector
from deskguard.bootstrap_connectors import validate as validate_connector
from deskguard.bootstrap_routing import Registry, TenantAdapters
from deskguard.domain.errors import ConfigurationError, ValidationFailed
from deskguard.domain.requests import ProofStatus
from deskguard.settings import Settings
from twilio_verify_kit import SERVICE, SID, TOKEN, VerifySim
from world import World, build_world

TENANT_SETTINGS = {"account_sid": SID, "auth_token": "env://ACME_VERIFY_TOKEN", "service_sid": SERVICE}


def _settings(**kw: str) -> Settings:
    return Settings(demo=True, **kw)  # type: ignore[arg-type]


def test_the_deployment_service_from_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TOK", TOKEN)
    assert otp_delivery(_settings()) is None
    chosen = otp_delivery(
        _settings(twilio_account_sid=SID, twilio_auth_token="env://TOK", twilio_verify_service_sid=SERVICE)
    )
    assert isinstance(chosen, TwilioVerifyDelivery)


@pytest.mark.parametrize(
    ("given", "field"),
    [
        ({"twilio_verify_service_sid": SERVICE}, "twilio_account_sid"),
        ({"twilio_verify_service_sid": SERVICE, "twilio_account_sid": SID}, "twilio_auth_token"),
        (
            {"twilio_verify_service_sid": "VA1", "twilio_account_sid": SID, "twilio_auth_token": "env://TOK"},
            "twilio_verify_service_sid",
        ),
        (
            {"twilio_verify_service_sid": SERVICE, "twilio_account_sid": SID, "twilio_auth_token": "tok"},
            "twilio_auth_token",
        ),
    ],
)
def test_a_wrong_deployment_setting_is_named(given: dict[str, str], field: str) -> None:
    with pytest.raises(ConfigurationError) as caught:
        otp_delivery(_settings(**given))
    assert caught.value.field == field


def test_the_channel_setting_is_sms_or_call() -> None:
    with pytest.raises(ValueError, match="twilio_verify_channel"):
        _settings(twilio_verify_channel="fax")


@pytest.mark.parametrize(
    ("settings", "field"),
    [
        ({**TENANT_SETTINGS, "auth_token": "inline-token"}, "settings.auth_token"),
        ({**TENANT_SETTINGS, "from_number": "+15005550006"}, "settings.from_number"),
        ({k: v for k, v in TENANT_SETTINGS.items() if k != "service_sid"}, "settings.service_sid"),
    ],
)
def test_a_tenant_connector_is_checked_by_the_adapters_model(settings: dict[str, Any], field: str) -> None:
    with pytest.raises(ValidationFailed) as caught:
        validate_connector(name="otp", kind="twilio_verify", settings=settings)
    assert caught.value.field == field
    assert validate_connector(name="otp", kind="twilio_verify", settings=TENANT_SETTINGS) == TENANT_SETTINGS


# --- per tenant, end to end ----------------------------------------------------------------------
@pytest.fixture
def world(uow_factory: Any, monkeypatch: pytest.MonkeyPatch) -> World:
    monkeypatch.setenv("ACME_VERIFY_TOKEN", TOKEN)
    return build_world(uow_factory)


@pytest.fixture
def routed(world: World) -> AppContext:
    """The world's context with ``otp`` routed per tenant, the world's fake as the deployment's."""
    tenants = TenantAdapters(
        reads=world.ctx.reads,
        build=partial(build_connector, deps=Deps(clock=world.ctx.clock, randomness=world.ctx.random)),
    )
    channels = replace(world.ctx.channels, otp=TenantOtpDelivery(tenants, fallback=world.otp))
    registry = Registry(tenants, deployment={"otp": world.otp}, validate=validate_connector)
    return replace(world.ctx, channels=channels, connectors=registry)


@pytest.fixture
def sim() -> Iterator[VerifySim]:
    far = VerifySim()
    with respx.mock(assert_all_called=False) as mock:
        far.install(mock)
        yield far


def _start(ctx: AppContext, world: World, tenant: str, person: str) -> Any:
    draft = RequestDraft(kind="unlock_account", person_id=person)
    request = requests.open_request(ctx, actor=world.operator("agent"), tenant_id=tenant, draft=draft)
    return verification.start_proof(
        ctx, actor=world.operator("agent"), tenant_id=tenant, request_id=request.id, method="otp_sms"
    )


@pytest.mark.db
def test_a_tenant_with_its_own_verify_service_sends_through_it(
    routed: AppContext, world: World, sim: VerifySim
) -> None:
    set_connector(
        routed,
        actor=world.operator("admin"),
        tenant_id="t_a",
        name="otp",
        kind="twilio_verify",
        settings=TENANT_SETTINGS,
    )
    proof = _start(routed, world, "t_a", "plain")
    assert [to for to, _ in sim.sms_sent] == ["+33611111111"] and world.otp.sent == []
    done = verification.submit_otp(
        routed,
        actor=world.operator("agent"),
        tenant_id="t_a",
        proof_id=proof.id,
        code=sim.code_for("+33611111111"),
    )
    assert done.status == ProofStatus.SUCCEEDED
    _start(routed, world, "t_b", "other")  # t_b configured nothing: the deployment's (here the fake)
    assert len(world.otp.sent) == 1 and len(sim.sms_sent) == 1
    assert routed.connectors is not None
    probe = routed.connectors.probe(tenant_id="t_a", name="otp")
    assert probe.health is not None and probe.health.ok and "Acme helpdesk" in probe.health.detail
