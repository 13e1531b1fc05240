"""GLPI tickets: GLPI 11 webhooks (``{"event": "new"|"update"|"delete", "item": {...}}``) and bare items.

The item may be in the legacy REST API form (``requesttypes_id``, ``itilcategories_id``,
``users_id_recipient``, ``_users_id_requester``, ``_users_id_assign``; numbers, or names when the
API ran with ``expand_dropdowns=true``) or in the High-Level API form GLPI 11 webhooks use by default
(``request_type``/``category``/``entity``/``status`` as ``{"id", "name"}``, ``user_recipient``, and a
``team`` list of ``{"role": "requester"|"assigned"|"observer", "name"...}``). Both are read.

- ``requesttypes_id`` gives the channel: by name (``Phone``, ``E-Mail``, ``Helpdesk`` = the
  self-service interface, ``Direct`` = in person, ``Written``, ``Other``), or by the id of a fresh
  install's defaults (1 Helpdesk, 2 E-Mail, 3 Phone, 4 Direct, 5 Written, 6 Other) when only a number
  is given: sites that renumbered their request types should send names.
- GLPI dates (``date``, ``date_creation``, ``date_mod``: ``2024-05-01 09:00:00``) carry no zone; they
  are read as UTC, so GLPI should run with its timezone set to UTC (or the webhook send offsets).
- A bare item (a polled REST record) is an update when ``date_mod`` is later than its creation.
"""

from __future__ import annotations

from typing import Any

from deskguard.detection.event import Event
from deskguard.detection.normalize._common import ident, integer, keys_of, later, mapping, scalar, when
from deskguard.detection.normalize._tickets import channel, looks_like_login, plain, ticket_event
from deskguard.detection.parsing import Quarantined, Record

SOURCE = "glpi"

_ITEM_KEYS = frozenset(
    {
        "requesttypesid",
        "itilcategoriesid",
        "usersidrecipient",
        "usersidlastupdater",
        "usersidrequester",
        "usersidassign",
        "entitiesid",
    }
)
_HL_KEYS = frozenset({"requesttype", "userrecipient", "usereditor", "team", "entity", "category"})
_EVENTS = frozenset({"new", "update", "delete", "purge", "restore"})
_REQUEST_TYPES = {1: "portal", 2: "email", 3: "phone", 4: "walk_in", 5: "other", 6: "other"}
_STATUS = {1: "new", 2: "assigned", 3: "planned", 4: "waiting", 5: "solved", 6: "closed"}
_TICKET_TYPES = {1: "incident", 2: "request"}
_ROLES = {1: "requester", 2: "assigned", 3: "observer"}


def detect(raw: dict[str, Any]) -> bool:
    if not isinstance(raw, dict):
        return False
    item, event = raw.get("item"), raw.get("event")
    if isinstance(item, dict):
        keys = keys_of(item)
        if "id" not in keys:
            return False
        if isinstance(event, str) and event.lower() in _EVENTS:
            return bool(keys & (_ITEM_KEYS | _HL_KEYS | {"name", "content", "datecreation", "datemod"}))
        return bool(keys & _ITEM_KEYS)
    keys = keys_of(raw)
    return "id" in keys and len(keys & _ITEM_KEYS) >= 2


def parse(raw: dict[str, Any]) -> list[Event]:
    if not isinstance(raw, dict):
        raise Quarantined("wrong_shape", "a GLPI record is an object")
    if "item" in raw:
        item = mapping(raw.get("item"), "item")
        if not item:
            raise Quarantined("missing_field", "item is missing")
        event = raw.get("event")
        if event is not None and not isinstance(event, str):
            raise Quarantined("wrong_type", "event must be a string")
        event = (event or "").strip().lower()
    else:
        item, event = raw, ""
    rec = Record(item)
    item_id = ident(rec.get("id"), "item.id")

    if event:
        updated = event == "update"
        activity = "" if event in ("new", "update") else "other"
    else:
        updated, activity = later(rec.get("date_mod"), rec.first("date_creation", "date")), ""
    if updated or activity:
        time = when(rec.first("date_mod", "date_creation", "date"), "item.date_mod")
    else:
        time = when(rec.first("date_creation", "date", "date_mod"), "item.date_creation")

    type_name, type_id = _named(rec.first("requesttypes_id", "request_type", "requesttype"))
    category, category_id = _named(rec.first("itilcategories_id", "category", "itilcategory"))
    requester, requester_id, requester_name = _person(rec, "requester")
    assignee, assignee_id, assignee_name = _person(rec, "assigned")
    recipient, recipient_id = _named(rec.first("users_id_recipient", "user_recipient"))
    if updated or activity:  # who changed it, when the item says so
        editor, editor_id = _named(rec.first("users_id_lastupdater", "user_editor"))
    else:
        editor, editor_id = recipient, recipient_id
    status, status_id = _named(rec.get("status"))
    ticket_type = rec.get("type")
    entity, entity_id = _named(rec.first("entities_id", "entity"))
    subject, content = scalar(rec.get("name")), scalar(rec.get("content"))

    if type_name:
        found = channel(type_name)
    elif type_id is not None:
        found = _REQUEST_TYPES.get(type_id, "other")
    else:
        found = ""
    extra = {
        "event": event,
        "itemtype": scalar(raw.get("itemtype")) if "item" in raw else "",
        "subject": subject,
        "request_type": type_name or (str(type_id) if type_id is not None else ""),
        "category_id": category_id,
        "status": status or _STATUS.get(status_id or 0, ""),
        "ticket_type": _TICKET_TYPES.get(integer(ticket_type) or 0, scalar(ticket_type)),
        "urgency": integer(rec.get("urgency")),
        "priority": integer(rec.get("priority")),
        "entity": entity or (str(entity_id) if entity_id is not None else ""),
        "assignee": assignee or assignee_name or (str(assignee_id) if assignee_id is not None else ""),
        "requester_name": requester_name,
        "recipient": recipient,
    }
    suffix = f":{int(time)}" if updated or activity else ""
    return [
        ticket_event(
            source=SOURCE,
            id=item_id + suffix,
            time=time,
            type=event or "ticket",
            raw=raw,
            updated=updated,
            activity=activity,
            ticket_id=item_id,
            channel=found,
            category=category,
            claimed_identity=requester,
            caller_number=scalar(rec.first("caller_number", "phone_number", "phone")),
            target_id=str(requester_id) if requester_id is not None else "",
            actor_user=editor if looks_like_login(editor) else "",
            actor_id=str(editor_id) if editor_id is not None else "",
            text=(subject, plain(content)),
            extra=extra,
        )
    ]


def _named(value: Any) -> tuple[str, int | None]:
    """(name, id) of a GLPI reference: a number, a name (expanded dropdown) or ``{"id", "name"}``."""
    if isinstance(value, dict):
        name = value.get("completename") or value.get("name")
        return (name.strip() if isinstance(name, str) else ""), integer(value.get("id"))
    if isinstance(value, bool) or value is None:
        return "", None
    if isinstance(value, int | float):
        return "", integer(value)
    if isinstance(value, str):
        text = value.strip()
        return ("", int(text)) if text.isascii() and text.isdigit() else (text, None)
    return "", None


def _person(rec: Record, role: str) -> tuple[str, int | None, str]:
    """(login or e-mail, id, display name) of the ticket's requester or assigned technician."""
    key = "requester" if role == "requester" else "assign"
    logins: list[str] = []
    names: list[str] = []
    ids: list[int] = []
    for value in (rec.get(f"_users_id_{key}"), rec.get(f"users_id_{key}"), rec.get(role)):
        for one in value if isinstance(value, list) else [value]:
            _collect(one, logins, names, ids)
    team = rec.get("team")
    for member in team if isinstance(team, list) else ():
        if not isinstance(member, dict):
            continue
        kind = member.get("type") or member.get("itemtype") or "User"
        member_role = member.get("role")
        member_role = _ROLES.get(member_role, "") if isinstance(member_role, int) else scalar(member_role)
        if kind == "User" and member_role.lower() == role:
            _collect(member, logins, names, ids)
    notif = rec.get(f"_users_id_{key}_notif")
    emails = notif.get("alternative_email") if isinstance(notif, dict) else None
    for email in emails if isinstance(emails, list) else ():
        if isinstance(email, str) and "@" in email:
            logins.append(email.strip())
    return (logins[0] if logins else ""), (ids[0] if ids else None), (names[0] if names else "")


def _collect(value: Any, logins: list[str], names: list[str], ids: list[int]) -> None:
    if isinstance(value, dict):
        for field in ("email", "login", "username", "name"):
            text = value.get(field)
            if isinstance(text, str) and text.strip():
                (logins if looks_like_login(text.strip()) else names).append(text.strip())
        display = value.get("display_name") or value.get("realname")
        if isinstance(display, str) and display.strip():
            names.append(display.strip())
        number = integer(value.get("id"))
        if number is not None and number > 0:
            ids.append(number)
        return
    name, number = _named(value)
    if number is not None and number > 0:
        ids.append(number)
    elif name:
        (logins if looks_like_login(name) else names).append(name)
