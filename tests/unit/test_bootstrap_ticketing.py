"""Choosing the ticketing connector from settings: one vendor or the fake, errors naming the field."""

from __future__ import annotations

import pytest

from deskguard.adapters.ticketing.glpi import GlpiTicketing
from deskguard.adapters.ticketing.jsm import JsmTicketing
from deskguard.adapters.ticketing.servicenow import ServiceNowTicketing
from deskguard.adapters.ticketing.zendesk import ZendeskTicketing
from deskguard.bootstrap_ticketing import ticketing
from deskguard.domain.errors import ConfigurationError
from deskguard.settings import load_settings


def choose(**settings: object):  # noqa: ANN201
    return ticketing(load_settings(demo=True, **settings))


def test_unset_keeps_the_fake() -> None:
    assert choose() is None


def test_each_vendor_is_built(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TKT_T", "t")
    common = {"ticketing_token": "env://TKT_T", "ticketing_username": "soc@acme.example"}
    assert isinstance(
        choose(ticketing_vendor="servicenow", ticketing_url="https://a.service-now.com", **common),
        ServiceNowTicketing,
    )
    assert isinstance(
        choose(ticketing_vendor="jsm", ticketing_url="https://a.atlassian.net", **common), JsmTicketing
    )
    assert isinstance(
        choose(ticketing_vendor="zendesk", ticketing_url="https://a.zendesk.com", **common), ZendeskTicketing
    )
    glpi = choose(
        ticketing_vendor="glpi",
        ticketing_url="https://g.example/glpi",
        ticketing_app_token="env://TKT_T",
        **common,
    )
    assert isinstance(glpi, GlpiTicketing)


def test_bad_settings_name_the_field(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TKT_T", "t")
    with pytest.raises(ConfigurationError, match="TICKETING_URL"):
        choose(
            ticketing_vendor="zendesk", ticketing_url="http://a.zendesk.com", ticketing_token="env://TKT_T"
        )
    with pytest.raises(ConfigurationError, match="TICKETING_TOKEN"):
        choose(ticketing_vendor="zendesk", ticketing_url="https://a.zendesk.com", ticketing_token="pasted")
    with pytest.raises(ConfigurationError, match="ticketing_token"):
        choose(
            ticketing_vendor="jsm",
            ticketing_url="https://a.atlassian.net",
            ticketing_username="u",
            ticketing_token="env://UNSET_TKT",
        )
    with pytest.raises(ConfigurationError):
        choose(ticketing_vendor="freshservice")
