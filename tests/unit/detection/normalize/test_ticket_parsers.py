"""ITSM tickets (GLPI, ServiceNow, Jira Service Management, Zendesk) normalised to ticket_activity."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from parser_fixtures import FIXTURES, load, one, utc

from deskguard.detection.event import ACTIVITIES, Event
from deskguard.detection.normalize import (
    deskguard,
    detect_source,
    glpi,
    jsm,
    servicenow,
    telephony,
    twilio,
    zendesk,
)
from deskguard.detection.normalize._tickets import about_access, channel
from deskguard.detection.parsing import Quarantined

TICKETS: dict[str, ModuleType] = {"glpi": glpi, "servicenow": servicenow, "jsm": jsm, "zendesk": zendesk}
MINE: dict[str, ModuleType] = {**TICKETS, "deskguard": deskguard, "twilio": twilio, "telephony": telephony}


# source, fixture, expected normalised fields (``extra.x`` for extra)
CASES: list[tuple[str, str, dict[str, Any]]] = [
    (
        "glpi",
        "webhook_new_phone_mfa.json",
        {
            "id": "1187",
            "activity": "ticket_opened",
            "ticket_id": "1187",
            "time": utc(2024, 5, 1, 9),
            "channel": "phone",
            "category": "Accès > MFA",
            "claimed_identity": "jmartin",
            "target_user": "jmartin",
            "target_id": "417",
            "actor_user": "tech.durand",
            "extra.about_access": True,
            "extra.subject": "Réinitialisation MFA - nouveau téléphone",
            "extra.assignee": "tech.durand",
            "extra.requester_name": "Jeanne Martin",
            "extra.entity": "Root entity > ACME France",
        },
    ),
    (
        "glpi",
        "webhook_update_email.json",
        {
            "activity": "ticket_updated",
            "ticket_id": "1192",
            "time": utc(2024, 5, 1, 10, 15),
            "channel": "email",
            "category": "Hardware > Printer",
            "claimed_identity": "paul.lefevre@acme.example",
            "actor_user": "tech.durand",
            "extra.about_access": False,
            "extra.assignee": "tech.durand",
            "extra.status": "assigned",
        },
    ),
    (
        "glpi",
        "rest_ticket_numeric.json",
        {
            "activity": "ticket_opened",
            "ticket_id": "1201",
            "time": utc(2024, 5, 2, 6, 30),
            "channel": "phone",
            "category": "",
            "claimed_identity": "jeanne.martin@acme.example",
            "target_id": "417",
            "actor_id": "31",
            "caller_number": "0612345678",
            "extra.category_id": 7,
            "extra.ticket_type": "request",
            "extra.about_access": True,
        },
    ),
    (
        "servicenow",
        "incident_phone_mfa.json",
        {
            "id": "9d385017c611228701d22104cc95c371",
            "activity": "ticket_opened",
            "ticket_id": "INC0010042",
            "time": utc(2024, 5, 1, 9),
            "channel": "phone",
            "category": "Access",
            "claimed_identity": "abel.tuter@acme.example",
            "target_id": "62826bf03710200044e0bfc8bcbe5df1",
            "caller_number": "+14155550142",
            "actor_user": "itil",
            "type": "incident.insert",
            "extra.about_access": True,
            "extra.subcategory": "Multi-factor authentication",
            "extra.assignee": "Beth Anglin",
            "extra.requester_name": "Abel Tuter",
        },
    ),
    (
        "servicenow",
        "incident_email.json",
        {
            "activity": "ticket_opened",
            "ticket_id": "INC0010057",
            "time": utc(2024, 5, 1, 11, 20, 5),
            "channel": "email",
            "claimed_identity": "fred.luddy",
            "extra.about_access": False,
        },
    ),
    (
        "servicenow",
        "sc_task_update.json",
        {
            "id": "b3f6e4a8db2a1010a1b2c3d4e5f60718:3",
            "activity": "ticket_updated",
            "ticket_id": "SCTASK0010123",
            "time": utc(2024, 5, 2, 8, 45, 30),
            "channel": "portal",
            "claimed_identity": "jeanne.martin@acme.example",
            "actor_user": "beth.anglin",
            "type": "sc_task.update",
            "extra.about_access": True,
        },
    ),
    (
        "jsm",
        "issue_created_phone.json",
        {
            "id": "10342",
            "activity": "ticket_opened",
            "ticket_id": "HD-1042",
            "time": utc(2024, 5, 1, 9),
            "channel": "phone",
            "category": "Reset password / MFA",
            "claimed_identity": "jeanne.martin@acme.example",
            "actor_user": "agent.kim@acme.example",
            "type": "jira:issue_created",
            "extra.about_access": True,
            "extra.issue_type": "Service Request",
            "extra.labels": ["phone", "vip"],
        },
    ),
    (
        "jsm",
        "issue_updated.json",
        {
            "id": "10342:1714561200500",
            "activity": "ticket_updated",
            "ticket_id": "HD-1042",
            "time": 1714561200.5,
            "channel": "phone",
            "claimed_identity": "",
            "actor_user": "lead.sam@acme.example",
            "extra.assignee": "tech.lee@acme.example",
            "extra.changed_fields": ["assignee"],
            "extra.about_access": True,
        },
    ),
    (
        "jsm",
        "issue_created_email_lowercase.json",
        {
            "activity": "ticket_opened",
            "ticket_id": "HD-1077",
            "time": utc(2024, 5, 2, 9),
            "channel": "email",
            "category": "Report a problem",
            "claimed_identity": "paul.lefevre@acme.example",
            "extra.reporter_name": "Paul Lefevre",
            "extra.about_access": False,
        },
    ),
    (
        "zendesk",
        "ticket_voice.json",
        {
            "id": "35436",
            "activity": "ticket_opened",
            "ticket_id": "35436",
            "time": utc(2024, 5, 1, 9),
            "channel": "phone",
            "caller_number": "+14155550199",
            "target_id": "20978392",
            "actor_id": "9873843",
            "extra.about_access": True,
            "extra.via_rel": "inbound",
            "extra.custom_fields": {"27642": "745"},
        },
    ),
    (
        "zendesk",
        "trigger_email.json",
        {
            "activity": "ticket_opened",
            "ticket_id": "35440",
            "channel": "email",
            "category": "Hardware",
            "claimed_identity": "paul.lefevre@acme.example",
            "actor_user": "paul.lefevre@acme.example",
            "extra.tags": ["hardware", "laptop"],
            "extra.about_access": False,
        },
    ),
    (
        "zendesk",
        "event_ticket_created.json",
        {
            "id": "cbe4028c-7239-495d-b020-f22348516046",
            "activity": "ticket_opened",
            "ticket_id": "35452",
            "time": utc(2024, 5, 2, 7, 58, 41) + 0.672717,
            "channel": "portal",
            "target_id": "8447388090494",
            "type": "zen:event-type:ticket.created",
            "extra.about_access": True,
        },
    ),
    (
        "zendesk",
        "event_status_changed.json",
        {
            "activity": "ticket_updated",
            "ticket_id": "35452",
            "extra.change_current": "SOLVED",
            "extra.change_previous": "OPEN",
            "extra.status": "solved",
        },
    ),
]


@pytest.mark.parametrize(("source", "fixture", "expected"), CASES, ids=[f"{s}/{f}" for s, f, _ in CASES])
def test_each_fixture_is_normalised(source: str, fixture: str, expected: dict[str, Any]) -> None:
    raw = load(source, fixture)
    event = one(TICKETS[source], raw)
    assert (event.source, event.product, event.service) == (source, "itsm", source)
    assert event.class_name == "ticket_activity" and event.activity in ACTIVITIES
    for name, value in expected.items():
        got = event.extra.get(name[6:]) if name.startswith("extra.") else getattr(event, name)
        if isinstance(value, float):
            assert got == pytest.approx(value), name
        else:
            assert got == value, name


@pytest.mark.parametrize(("source", "fixture", "_"), CASES, ids=[f"{s}/{f}" for s, f, _ in CASES])
def test_the_raw_record_is_kept_unchanged(source: str, fixture: str, _: Any) -> None:
    raw = load(source, fixture)
    before = copy.deepcopy(raw)
    event = one(TICKETS[source], raw)
    assert event.raw is raw and raw == before


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("phone", "phone"),
        ("Phone", "phone"),
        ("Téléphone", "phone"),
        ("voice", "phone"),
        ("Phone call (incoming)", "phone"),
        ("Voicemail", "phone"),
        ("email", "email"),
        ("E-Mail", "email"),
        ("Mail", "email"),
        ("Courriel", "email"),
        ("self-service", "portal"),
        ("Helpdesk", "portal"),
        ("web", "portal"),
        ("web_form", "portal"),
        ("Web form", "portal"),
        ("chat", "chat"),
        ("virtual_agent", "chat"),
        ("native_messaging", "chat"),
        ("walk-in", "walk_in"),
        ("Direct", "walk_in"),
        ("api", "other"),
        ("web_service", "other"),
        ("Written", "other"),
        ("carrier pigeon", "other"),
        ("", ""),
        (None, ""),
        (3, ""),
    ],
)
def test_channel_normalisation(value: Any, expected: str) -> None:
    assert channel(value) == expected


@pytest.mark.parametrize(
    "text",
    [
        "Password reset please",
        "I am locked out of my account",
        "New phone, MFA not working",
        "Need to change my phone number for 2FA",
        "Cannot log in to VPN",
        "Mot de passe oublié",
        "Réinitialisation de l'authentification",
        "Accès refusé à l'application",
        "Mon compte est bloqué",
        "J'ai changé de téléphone",
        "<p>mot&nbsp;de passe expir&eacute;</p>",
    ],
)
def test_about_access_recognises_access_requests(text: str) -> None:
    assert about_access(text)


@pytest.mark.parametrize(
    "text",
    ["Printer jam on floor 3", "Laptop fan very loud", "Imprimante bloquée", "Accounting report is slow", ""],
)
def test_about_access_leaves_other_tickets_alone(text: str) -> None:
    assert not about_access(text)


def test_about_access_reads_tags_and_categories() -> None:
    assert about_access("Hardware", ["mfa_reset"])
    assert not about_access("Hardware", ["laptop"])


def test_glpi_numeric_request_types_use_the_install_defaults() -> None:
    raw = load("glpi", "rest_ticket_numeric.json")
    for number, expected in [
        (1, "portal"),
        (2, "email"),
        (3, "phone"),
        (4, "walk_in"),
        (6, "other"),
        (99, "other"),
    ]:
        raw["requesttypes_id"] = number
        assert one(glpi, raw).channel == expected


def test_glpi_delete_is_other_and_a_bare_modified_item_is_an_update() -> None:
    raw = load("glpi", "webhook_update_email.json")
    raw["event"] = "delete"
    assert one(glpi, raw).activity == "other"
    bare = load("glpi", "webhook_update_email.json")["item"]
    event = one(glpi, bare)
    assert event.activity == "ticket_updated" and event.time == utc(2024, 5, 1, 10, 15)


def test_servicenow_times_have_no_t_and_are_utc() -> None:
    raw = load("servicenow", "incident_email.json")
    raw["opened_at"] = "2024-12-31 23:59:59"
    assert one(servicenow, raw).time == utc(2024, 12, 31, 23, 59, 59)


def test_servicenow_result_lists_give_one_event_per_record() -> None:
    first, second = (
        load("servicenow", "incident_email.json"),
        load("servicenow", "sc_task_update.json")["result"],
    )
    events = servicenow.parse({"result": [first, second]})
    assert [event.ticket_id for event in events] == ["INC0010057", "SCTASK0010123"]
    assert events[0].raw is first


def test_servicenow_operation_wins_over_the_mod_count() -> None:
    raw = load("servicenow", "sc_task_update.json")
    raw["result"]["operation"] = "insert"
    event = one(servicenow, raw)
    assert event.activity == "ticket_opened" and event.time == utc(2024, 5, 2, 8)


def test_servicenow_display_name_caller_is_not_a_login() -> None:
    raw = load("servicenow", "incident_email.json")
    del raw["caller_id.user_name"]
    raw["caller_id"] = "Fred Luddy"
    event = one(servicenow, raw)
    assert event.claimed_identity == "" and event.extra["requester_name"] == "Fred Luddy"


def test_jsm_offsets_without_colon_and_epoch_ms() -> None:
    raw = load("jsm", "issue_created_phone.json")
    raw["issue"]["fields"]["created"] = "2024-05-01T11:00:00.000+0200"
    assert one(jsm, raw).time == utc(2024, 5, 1, 9)
    del raw["issue"]["fields"]["created"]
    assert one(jsm, raw).time == pytest.approx(1714554001.234)  # the webhook timestamp, in ms


def test_jsm_issue_without_wrapper_and_deleted_issue() -> None:
    bare = load("jsm", "issue_created_phone.json")["issue"]
    assert jsm.detect(bare)
    event = one(jsm, bare)
    assert (event.ticket_id, event.activity, event.claimed_identity) == (
        "HD-1042",
        "ticket_opened",
        "jeanne.martin@acme.example",
    )
    deleted = load("jsm", "issue_updated.json")
    deleted["webhookEvent"] = "jira:issue_deleted"
    assert one(jsm, deleted).activity == "other"


def test_jsm_channel_from_a_named_field_else_unknown() -> None:
    raw = load("jsm", "issue_created_email_lowercase.json")
    raw["issue"]["fields"]["labels"] = []
    assert one(jsm, raw).channel == ""
    raw["issue"]["fields"]["channel"] = "Walk-in"
    assert one(jsm, raw).channel == "walk_in"


def test_zendesk_ticket_lists_and_bare_tickets() -> None:
    ticket = load("zendesk", "ticket_voice.json")["ticket"]
    assert zendesk.detect(ticket)
    assert one(zendesk, ticket).ticket_id == "35436"
    events = zendesk.parse({"tickets": [ticket, load("zendesk", "trigger_email.json")["ticket"]]})
    assert [event.ticket_id for event in events] == ["35436", "35440"]


def test_zendesk_email_sender_is_the_claimed_identity() -> None:
    ticket = load("zendesk", "ticket_voice.json")["ticket"]
    ticket["via"] = {"channel": "email", "source": {"from": {"address": "Eve@Example.com", "name": "Eve"}}}
    event = one(zendesk, {"ticket": ticket})
    assert (event.channel, event.claimed_identity, event.caller_number) == ("email", "eve@example.com", "")


def test_zendesk_update_is_told_by_the_body_or_by_the_dates() -> None:
    raw = load("zendesk", "trigger_email.json")
    raw["event"] = "updated"
    assert one(zendesk, raw).activity == "ticket_updated"
    ticket = load("zendesk", "ticket_voice.json")
    ticket["ticket"]["updated_at"] = "2024-05-01T10:00:00Z"
    event = one(zendesk, ticket)
    assert event.activity == "ticket_updated" and event.time == utc(2024, 5, 1, 10)
    assert event.id == f"35436:{int(utc(2024, 5, 1, 10))}"


def test_zendesk_non_ticket_events_and_deletions() -> None:
    raw = load("zendesk", "event_ticket_created.json")
    raw["type"] = "zen:event-type:user.created"
    with pytest.raises(Quarantined) as caught:
        zendesk.parse(raw)
    assert caught.value.reason == "unsupported_event"
    raw["type"] = "zen:event-type:ticket.soft_deleted"
    assert one(zendesk, raw).activity == "other"


@pytest.mark.parametrize(
    ("module", "raw", "reason"),
    [
        (glpi, {"event": "new", "item": {"name": "x", "date": "2024-05-01 09:00:00"}}, "missing_field"),
        (glpi, {"event": "new", "item": {"id": 5, "name": "x"}}, "bad_timestamp"),
        (glpi, {"event": "new", "item": {"id": 5, "date_creation": "soon"}}, "bad_timestamp"),
        (glpi, {"event": "new", "item": [1]}, "wrong_shape"),
        (glpi, {"event": 3, "item": {"id": 5, "date": "2024-05-01 09:00:00"}}, "wrong_type"),
        (glpi, {"event": "new", "item": {"id": {"x": 1}, "date": "2024-05-01"}}, "wrong_type"),
        (servicenow, {"number": "INC1", "opened_at": "2024-05-01 09:00:00"}, "missing_field"),
        (servicenow, {"sys_id": "a" * 32, "number": "INC1"}, "bad_timestamp"),
        (servicenow, {"sys_id": "a" * 32, "opened_at": "01/05/2024 9h"}, "bad_timestamp"),
        (servicenow, {"result": "nope"}, "wrong_shape"),
        (servicenow, {"result": [{"sys_id": "x"}, 3]}, "wrong_shape"),
        (servicenow, {"sys_id": True, "opened_at": "2024-05-01 09:00:00"}, "wrong_type"),
        (jsm, {"webhookEvent": "jira:issue_created", "issue": {"id": "1", "fields": {}}}, "missing_field"),
        (jsm, {"webhookEvent": "jira:issue_created", "issue": {"key": "A-1", "fields": {}}}, "bad_timestamp"),
        (jsm, {"webhookEvent": "jira:issue_created", "issue": {"key": "A-1", "fields": []}}, "wrong_shape"),
        (jsm, {"webhookEvent": "jira:issue_created", "issue": "A-1"}, "wrong_shape"),
        (jsm, {"webhookEvent": 1, "issue": {"key": "A-1", "fields": {"created": 1}}}, "wrong_type"),
        (zendesk, {"ticket": {"subject": "x", "created_at": "2024-05-01T09:00:00Z"}}, "missing_field"),
        (zendesk, {"ticket": {"id": 1, "subject": "x"}}, "bad_timestamp"),
        (zendesk, {"ticket": "35436"}, "wrong_shape"),
        (zendesk, {"tickets": [{"id": 1}, "x"]}, "wrong_shape"),
        (zendesk, {"type": "zen:event-type:ticket.created", "detail": {"id": "1"}}, "bad_timestamp"),
        (
            zendesk,
            {"type": "zen:event-type:ticket.created", "time": 1714554000, "detail": {"id": "1"}},
            "missing_field",
        ),
        (
            zendesk,
            {"type": "zen:event-type:ticket.created", "id": "e", "time": 1, "detail": []},
            "wrong_shape",
        ),
    ],
)
def test_broken_tickets_are_quarantined_with_a_reason(
    module: ModuleType, raw: dict[str, Any], reason: str
) -> None:
    with pytest.raises(Quarantined) as caught:
        module.parse(raw)
    assert caught.value.reason == reason


def _fixtures() -> list[Path]:
    return sorted(FIXTURES.glob("*/*.json"))


@pytest.mark.parametrize("source", sorted(MINE))
def test_detect_claims_its_own_fixtures_and_no_other_vendors(source: str) -> None:
    module = MINE[source]
    own = [path for path in _fixtures() if path.parent.name == source]
    assert own, f"no fixtures for {source}"
    for path in own:
        raw = json.loads(path.read_text())
        assert module.detect(raw), path.name
        assert detect_source(raw) == source, path.name
    for path in _fixtures():
        if path.parent.name == source:
            continue
        raw = json.loads(path.read_text())
        if isinstance(raw, dict):
            assert not module.detect(raw), f"{source} claims {path.parent.name}/{path.name}"


# --- property: any JSON object is parsed or quarantined, never anything else -----------------------

_SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**63), max_value=2**63),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=30),
    st.sampled_from(["", "new", "update", "phone", "2024-05-01 09:00:00", "Wed, 01 May 2024 09:00:00 +0000"]),
    st.sampled_from(["zen:event-type:ticket.created", "call", "deskguard.event", "jira:issue_created", "²"]),
)
_JSON = st.recursive(
    _SCALARS,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4), st.dictionaries(st.text(max_size=12), inner, max_size=5)
    ),
    max_leaves=25,
)


def _keys_of(value: Any, out: set[str]) -> set[str]:
    if isinstance(value, dict):
        out.update(value)
        for item in value.values():
            _keys_of(item, out)
    elif isinstance(value, list):
        for item in value:
            _keys_of(item, out)
    return out


_ALL_FIXTURES = [json.loads(path.read_text()) for path in _fixtures()]
# Every key the fixtures use, so generated objects reach deep into the parsers.
_KEYS = st.sampled_from(sorted(_keys_of(_ALL_FIXTURES, set())))
_SHAPED = st.recursive(
    _SCALARS,
    lambda inner: st.one_of(st.lists(inner, max_size=3), st.dictionaries(_KEYS, inner, max_size=6)),
    max_leaves=30,
)


def _mutate(fixture: Any, data: st.DataObject) -> Any:
    """The fixture with some of its values replaced by arbitrary JSON."""
    if isinstance(fixture, dict):
        return {
            key: data.draw(_JSON) if data.draw(st.integers(0, 9)) == 0 else _mutate(value, data)
            for key, value in fixture.items()
        }
    if isinstance(fixture, list):
        return [_mutate(value, data) for value in fixture]
    return data.draw(_SCALARS) if data.draw(st.integers(0, 5)) == 0 else fixture


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data(), source=st.sampled_from(sorted(MINE)))
def test_any_json_object_parses_or_is_quarantined(data: st.DataObject, source: str) -> None:
    kind = data.draw(st.integers(0, 2))
    if kind == 0:
        raw = data.draw(st.dictionaries(st.text(max_size=12), _JSON, max_size=6))
    elif kind == 1:
        raw = data.draw(st.dictionaries(_KEYS, _SHAPED, max_size=8))
    else:
        raw = _mutate(data.draw(st.sampled_from(_ALL_FIXTURES)), data)
    module = MINE[source]
    assert isinstance(module.detect(raw), bool)
    try:
        events = module.parse(raw)
    except Quarantined as exc:
        assert exc.reason and isinstance(exc.reason, str)
        return
    assert isinstance(events, list)
    for event in events:
        assert isinstance(event, Event) and event.activity in ACTIVITIES
        assert isinstance(event.time, float) and isinstance(event.id, str) and event.id


@pytest.mark.parametrize("items", [True, 3, "field", None, {"field": "status"}])
def test_a_jira_changelog_of_the_wrong_type_is_ignored(items: Any) -> None:
    """Found by the property test's mutations: ``changelog.items`` is read only when it is a list."""
    raw = load("jsm", sorted(p.name for p in (FIXTURES / "jsm").glob("*.json"))[0])
    raw["changelog"] = {"items": items}
    (event,) = MINE["jsm"].parse(raw)
    assert not event.extra.get("changed_fields")  # empty values are left out of extra
