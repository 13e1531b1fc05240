"""ServiceNow tickets (incident, sc_task, sc_req_item) sent by an outbound Business Rule or REST step.

The record is the JSON a Business Rule builds from ``current`` (any field names of the table), or a
Table API answer ``{"result": {...}}`` / ``{"result": [...]}``; it may be wrapped as ``{"record": ...}``.
Fields are plain strings (``sysparm_display_value=false``, the default), display values, or both
(``display_value=all``: ``{"value": sys_id, "display_value": "Abel Tuter"}``): ids and times are read
from ``value``, names from ``display_value``.

- ``contact_type`` is the channel (phone, email, self-service, walk-in, chat, virtual_agent...).
- ``opened_at``/``sys_created_on``/``sys_updated_on`` are ``2024-05-01 09:00:00`` in UTC (the stored
  value; display values are in the viewing user's zone and should not be sent).
- The caller's login or e-mail comes from dot-walked fields the rule adds (``caller_id.email``,
  ``caller_id.user_name``, or ``caller_email``/``u_caller_email``); ``caller_id`` alone is a sys_id or
  a display name, kept as ``target_id`` / ``extra["requester_name"]``. Catalog tasks use
  ``requested_for``. The calling number is a custom field: ``u_caller_number`` (or ``caller_number``,
  ``u_caller_phone``, ``u_phone_number``).
- An update is a record with ``operation: "update"`` (what ``current.operation()`` answers in the
  rule), or else one whose ``sys_mod_count`` is above 0.
"""

from __future__ import annotations

from typing import Any

from deskguard.detection.event import Event
from deskguard.detection.normalize._common import ident, integer, keys_of, scalar, when
from deskguard.detection.normalize._tickets import channel, looks_like_login, plain, ticket_event
from deskguard.detection.parsing import Quarantined, Record

SOURCE = "servicenow"

_WRAPPERS = ("result", "record", "current")


def detect(raw: dict[str, Any]) -> bool:
    if not isinstance(raw, dict):
        return False
    if "sysid" in keys_of(raw):
        return True
    for key in _WRAPPERS:
        inner = raw.get(key)
        if isinstance(inner, list) and inner:
            inner = inner[0]
        if "sysid" in keys_of(inner):
            return True
    return False


def parse(raw: dict[str, Any]) -> list[Event]:
    if not isinstance(raw, dict):
        raise Quarantined("wrong_shape", "a ServiceNow record is an object")
    if "sysid" in keys_of(raw):
        return [_one(raw, raw)]
    for key in _WRAPPERS:
        if key in raw:
            inner = raw[key]
            if isinstance(inner, dict):
                return [_one(inner, raw)]
            if isinstance(inner, list):
                if not all(isinstance(item, dict) for item in inner):
                    raise Quarantined("wrong_shape", f"{key} must be a list of records")
                return [_one(item, raw if len(inner) == 1 else item) for item in inner]
            raise Quarantined("wrong_shape", f"{key} must be a record or a list of records")
    raise Quarantined("missing_field", "sys_id is missing")


def _value(field: Any) -> Any:
    """The stored value of a field (``{"value": ..., "display_value": ...}`` or the value itself)."""
    if isinstance(field, dict):
        return field.get("value")
    return field


def _display(field: Any) -> str:
    if isinstance(field, dict):
        return scalar(field.get("display_value")) or scalar(field.get("value"))
    return scalar(field)


def _sys_id(value: str) -> bool:
    return len(value) == 32 and all(ch in "0123456789abcdef" for ch in value.lower())


def _one(record: dict[str, Any], raw: dict[str, Any]) -> Event:
    rec = Record(record)
    sys_id = ident(_value(rec.get("sys_id")), "sys_id")
    number = scalar(_value(rec.get("number"))) or sys_id
    table = scalar(_value(rec.first("sys_class_name", "table", "table_name")))
    operation = scalar(rec.first("operation", "action", "event")).lower()
    mods = integer(_value(rec.get("sys_mod_count")))
    if operation in ("insert", "create", "created", "new"):
        updated = False
    elif operation in ("update", "updated"):
        updated = True
    else:
        updated = bool(mods and mods > 0)
    if updated:
        time = when(_value(rec.first("sys_updated_on", "opened_at", "sys_created_on")), "sys_updated_on")
    else:
        time = when(_value(rec.first("opened_at", "sys_created_on")), "opened_at")

    caller = rec.first("caller_id", "requested_for", "u_requested_for")
    caller_value, caller_name = scalar(_value(caller)), _display(caller)
    nested = (caller.get("email") or caller.get("user_name")) if isinstance(caller, dict) else None
    login = scalar(
        nested
        or _value(
            rec.first(
                "caller_id.email",
                "caller_id.user_name",
                "requested_for.email",
                "requested_for.user_name",
                "caller_email",
                "u_caller_email",
                "caller_user_name",
            )
        )
    )
    if not login and looks_like_login(caller_name):
        login = caller_name
    opened_by = _display(rec.get("opened_by"))
    actor = scalar(_value(rec.get("sys_updated_by" if updated else "sys_created_by")))
    subject, description = _display(rec.get("short_description")), _display(rec.get("description"))
    category, subcategory = _display(rec.get("category")), _display(rec.get("subcategory"))
    extra = {
        "table": table,
        "operation": operation,
        "sys_id": sys_id,
        "subject": subject,
        "subcategory": subcategory,
        "contact_type": scalar(_value(rec.get("contact_type"))),
        "assignee": _display(rec.get("assigned_to")),
        "assignment_group": _display(rec.get("assignment_group")),
        "opened_by": opened_by,
        "requester_name": caller_name if caller_name != login and not _sys_id(caller_name) else "",
        "state": _display(rec.get("state")),
        "priority": _display(rec.get("priority")),
        "mod_count": mods,
    }
    contact = _value(rec.get("contact_type"))
    return ticket_event(
        source=SOURCE,
        id=f"{sys_id}:{mods if mods is not None else int(time)}" if updated else sys_id,
        time=time,
        type=f"{table or 'record'}.{operation or ('update' if updated else 'insert')}",
        raw=raw,
        updated=updated,
        ticket_id=number,
        channel=channel(contact if isinstance(contact, str) else _display(contact)),
        category=category,
        claimed_identity=login,
        caller_number=scalar(
            _value(rec.first("u_caller_number", "caller_number", "u_caller_phone", "u_phone_number"))
        ),
        target_id=caller_value if _sys_id(caller_value) else "",
        actor_user=actor,
        text=(subject, plain(description), subcategory),
        extra=extra,
    )
