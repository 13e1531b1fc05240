"""The ``Ticketing`` contract (``ticketing_contract``) for the fake and every real adapter: ServiceNow,
Jira Service Management, Zendesk and GLPI against respx far ends (``ticketing_sims``) that follow
each vendor's published REST reference, not a live instance."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import ExitStack

import httpx
import pytest
import respx
from ticketing_contract import CHECKS, TENANT, Harness
from ticketing_sims import GlpiSim, JsmSim, ServiceNowSim, Sim, ZendeskSim

from deskguard.adapters.channels.fake import FakeTicketing
from deskguard.adapters.connectors.retry import Backoff
from deskguard.adapters.system import SeededRandomness
from deskguard.adapters.ticketing._base import TicketingSettings
from deskguard.adapters.ticketing.glpi import GlpiTicketing
from deskguard.adapters.ticketing.jsm import JsmTicketing
from deskguard.adapters.ticketing.servicenow import ServiceNowTicketing
from deskguard.adapters.ticketing.zendesk import ZendeskTicketing
from deskguard.domain.ports import Ticketing


def _fake(stack: ExitStack) -> Harness:
    fake = FakeTicketing(randomness=SeededRandomness(1))
    slow = FakeTicketing(randomness=SeededRandomness(2))
    slow.timeouts = 10
    mine = fake.open(tenant_id=TENANT, title="Reset request", text="caller asks", idempotency_key="seed:0")
    theirs = fake.open(tenant_id="globex", title="Other", text="other", idempotency_key="seed:1")

    def refuse() -> None:
        fake.fail_next = "ticket is closed"

    return Harness(
        ticketing=fake,
        existing=mine,
        unknown=theirs,
        comments=lambda: [(ref, text) for _, ref, text in fake.comments],
        refuse_next=refuse,
        refusal="ticket is closed",
        timing_out=slow,
        opened=lambda: [(t.title, t.text) for r, t in fake.tickets.items() if r not in (mine, theirs)],
    )


def _serve(stack: ExitStack, sim: Sim, **env: str) -> None:
    router = stack.enter_context(respx.mock(assert_all_called=False))
    router.route().mock(side_effect=sim)
    mp = stack.enter_context(pytest.MonkeyPatch.context())
    for name, value in env.items():
        mp.setenv(name, value)


def _harness(
    sim: Sim, make: Callable[[str], Ticketing], *, existing: str, unknown: str, refusal: str, host: str
) -> Harness:
    return Harness(
        ticketing=make(f"https://{host}"),
        existing=existing,
        unknown=unknown,
        comments=lambda: sim.comments,
        refuse_next=sim.refuse_next,
        refusal=refusal,
        timing_out=make(f"https://slow.{host}"),
        opened=lambda: sim.opened,
    )


def _settings(vendor: str, url: str, **kw: str) -> TicketingSettings:
    return TicketingSettings(vendor=vendor, url=url, token="env://DG_CONTRACT_TICKETING_TOKEN", **kw)  # type: ignore[arg-type]


FAST = Backoff(attempts=3)


def _servicenow(stack: ExitStack) -> Harness:
    sim = ServiceNowSim()
    _serve(stack, sim, DG_CONTRACT_TICKETING_TOKEN="sn-password")

    def make(url: str) -> Ticketing:
        settings = _settings("servicenow", url, username="deskguard.integration")
        return ServiceNowTicketing(settings, client=httpx.Client(), backoff=FAST, sleep=lambda _s: None)

    return _harness(
        sim, make, existing="INC0010001", unknown="INC0099999", refusal="Operation Failed",
        host="acme.service-now.com",
    )  # fmt: skip


def _jsm(stack: ExitStack) -> Harness:
    sim = JsmSim()
    _serve(stack, sim, DG_CONTRACT_TICKETING_TOKEN="jsm-api-token")

    def make(url: str) -> Ticketing:
        settings = _settings(
            "jsm", url, username="soc@acme.example", service_desk_id="1", request_type_id="10"
        )
        return JsmTicketing(settings, client=httpx.Client(), backoff=FAST, sleep=lambda _s: None)

    return _harness(
        sim, make, existing="HD-1", unknown="HD-404",
        refusal="You do not have permission to comment on this request.", host="acme.atlassian.net",
    )  # fmt: skip


def _zendesk(stack: ExitStack) -> Harness:
    sim = ZendeskSim()
    _serve(stack, sim, DG_CONTRACT_TICKETING_TOKEN="zd-api-token")

    def make(url: str) -> Ticketing:
        settings = _settings("zendesk", url, username="soc@acme.example")
        return ZendeskTicketing(settings, client=httpx.Client(), backoff=FAST, sleep=lambda _s: None)

    return _harness(
        sim, make, existing="35436", unknown="99999", refusal="RecordInvalid", host="acme.zendesk.com"
    )


def _glpi(stack: ExitStack) -> Harness:
    sim = GlpiSim(app_token="glpi-app-token", user_token="glpi-user-token")
    _serve(stack, sim, DG_CONTRACT_TICKETING_TOKEN="glpi-user-token", DG_CONTRACT_GLPI_APP="glpi-app-token")

    def make(url: str) -> Ticketing:
        settings = _settings("glpi", url + "/glpi", app_token="env://DG_CONTRACT_GLPI_APP")
        return GlpiTicketing(settings, client=httpx.Client(), backoff=FAST, sleep=lambda _s: None)

    return _harness(
        sim, make, existing="7", unknown="404",
        refusal="You don't have permission to perform this action.", host="glpi.acme.example",
    )  # fmt: skip


HARNESSES = {"fake": _fake, "servicenow": _servicenow, "jsm": _jsm, "zendesk": _zendesk, "glpi": _glpi}


@pytest.fixture(params=list(HARNESSES))
def harness(request: pytest.FixtureRequest) -> Iterator[Harness]:
    with ExitStack() as stack:
        yield HARNESSES[request.param](stack)


@pytest.mark.parametrize("check", CHECKS, ids=[c.__name__ for c in CHECKS])
def test_ticketing_contract(harness: Harness, check: Callable[[Harness], None]) -> None:
    check(harness)
