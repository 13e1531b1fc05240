"""Zendesk tickets: Tickets API objects, trigger/automation webhook bodies and event-webhook payloads.

Shapes read:

- ``{"ticket": {...}}`` (Tickets API ``show``, and the body most triggers are given), ``{"tickets": [...]}``
  (list and incremental export), or a bare ticket object (``via`` + ``requester_id``, or an API ``url``);
- event webhooks: ``{"type": "zen:event-type:ticket.created", "id", "time", "subject": "zen:ticket:N",
  "detail": {ticket fields}, "event": {what changed}}``; other ticket event types are updates, deletions
  are ``other``, non-ticket event types are quarantined (``unsupported_event``).

- ``via.channel`` gives the channel (``voice`` -> phone, ``email``, ``web``/``web_form`` -> portal,
  ``chat``/``native_messaging`` -> chat...); a trigger's ``{{ticket.via}}`` text ("Phone call
  (incoming)", "Mail", "Web form") works too.
- Voice tickets carry the calling number in ``via.source.from.phone``; e-mail tickets the sender in
  ``via.source.from.address``. The requester's e-mail is ``requester.email`` (a trigger placeholder
  ``{{ticket.requester.email}}``) or that sender; the API object itself has only ``requester_id``.
- A ticket object (not an event webhook) is an update when the body says so (``"event"``/``"action"``
  naming an update) or when ``updated_at`` is later than ``created_at``.
"""

from __future__ import annotations

import re
from typing import Any

from deskguard.detection.event import Event
from deskguard.detection.normalize._common import ident, keys_of, later, mapping, scalar, when
from deskguard.detection.normalize._tickets import channel, looks_like_login, plain, ticket_event
from deskguard.detection.parsing import Quarantined, Record

SOURCE = "zendesk"

_EVENT_PREFIX = "zen:event-type:"
_TICKET_KEYS = frozenset(
    {"via", "requesterid", "submitterid", "assigneeid", "requester", "customfields", "externalid", "url"}
)
_DELETED = ("deleted", "soft_deleted", "permanently_deleted", "marked_as_spam")


def detect(raw: dict[str, Any]) -> bool:
    if not isinstance(raw, dict):
        return False
    kind = raw.get("type")
    if isinstance(kind, str) and kind.startswith(_EVENT_PREFIX):
        return True
    ticket = raw.get("ticket")
    if isinstance(ticket, dict):
        keys = keys_of(ticket)
        return "id" in keys and bool(keys & _TICKET_KEYS)
    tickets = raw.get("tickets")
    if isinstance(tickets, list):
        return bool(tickets) and isinstance(tickets[0], dict) and _bare(tickets[0])
    return _bare(raw)


def _bare(raw: dict[str, Any]) -> bool:
    keys = keys_of(raw)
    if "id" not in keys:
        return False
    url = raw.get("url")
    if isinstance(url, str) and ".zendesk.com/api/v2/tickets/" in url:
        return True
    return isinstance(raw.get("via"), dict) and bool(keys & {"requesterid", "submitterid"})


def parse(raw: dict[str, Any]) -> list[Event]:
    if not isinstance(raw, dict):
        raise Quarantined("wrong_shape", "a Zendesk record is an object")
    kind = raw.get("type")
    if isinstance(kind, str) and kind.startswith(_EVENT_PREFIX):
        return [_event_webhook(raw, kind)]
    if "ticket" in raw:
        ticket = mapping(raw.get("ticket"), "ticket")
        return [_ticket(ticket, raw, context=raw)]
    if "tickets" in raw:
        tickets = raw.get("tickets")
        if not isinstance(tickets, list) or not all(isinstance(item, dict) for item in tickets):
            raise Quarantined("wrong_shape", "tickets must be a list of ticket objects")
        return [_ticket(item, item, context={}) for item in tickets]
    return [_ticket(raw, raw, context={})]


def _event_webhook(raw: dict[str, Any], kind: str) -> Event:
    name = kind[len(_EVENT_PREFIX) :]
    if not name.startswith("ticket."):
        raise Quarantined("unsupported_event", f"{kind} is not a ticket event")
    action = name[len("ticket.") :]
    detail = mapping(raw.get("detail"), "detail")
    subject = raw.get("subject")
    if "id" not in detail and isinstance(subject, str) and subject.startswith("zen:ticket:"):
        detail = {**detail, "id": subject[len("zen:ticket:") :]}
    change = raw.get("event") if isinstance(raw.get("event"), dict) else {}
    stamp = raw.get("time")
    if stamp in (None, ""):
        stamp = detail.get("updated_at") or detail.get("created_at")
    time = when(stamp, "time")
    extra = {
        "event": action,
        "change_current": scalar(change.get("current")),
        "change_previous": scalar(change.get("previous")),
        "account_id": scalar(raw.get("account_id")),
    }
    return _ticket(
        detail,
        raw,
        context={},
        event_id=ident(raw.get("id"), "id"),
        time=time,
        updated=action != "created",
        activity="other" if action in _DELETED else "",
        kind=kind,
        more=extra,
    )


def _ticket(
    ticket: dict[str, Any],
    raw: dict[str, Any],
    *,
    context: dict[str, Any],
    event_id: str = "",
    time: float | None = None,
    updated: bool | None = None,
    activity: str = "",
    kind: str = "",
    more: dict[str, Any] | None = None,
) -> Event:
    rec = Record(ticket)
    ticket_id = ident(rec.get("id"), "ticket.id")
    if updated is None:
        updated = _update(rec, context)
    if time is None:
        if updated:
            time = when(rec.first("updated_at", "created_at"), "ticket.updated_at")
        else:
            time = when(rec.get("created_at"), "ticket.created_at")
    via = rec.get("via")
    via_channel = scalar(via.get("channel")) if isinstance(via, dict) else scalar(via)
    source = Record(via).get("source") if isinstance(via, dict) else None
    sender = Record(source).get("from") if isinstance(source, dict) else None
    sender = sender if isinstance(sender, dict) else {}
    requester = rec.get("requester")
    login = ""
    if isinstance(requester, dict):
        login = scalar(requester.get("email"))
    elif isinstance(requester, str) and looks_like_login(requester):
        login = requester
    login = login or scalar(rec.first("requester_email", "requester.email"))
    address = scalar(sender.get("address"))
    login = login or (address if "@" in address else "")
    requester_id = scalar(rec.get("requester_id"))
    if not requester_id and isinstance(requester, dict):
        requester_id = scalar(requester.get("id"))
    assignee = rec.get("assignee")
    assignee_text = scalar(assignee.get("email")) if isinstance(assignee, dict) else scalar(assignee)
    current = Record(context).get("current_user") if context else None
    actor_user = scalar(current.get("email")) if isinstance(current, dict) else ""
    subject, description = scalar(rec.get("subject")), scalar(rec.get("description"))
    tags = rec.get("tags")
    tag_list = [tag for tag in tags if isinstance(tag, str)] if isinstance(tags, list) else []
    if isinstance(tags, str):
        tag_list = tags.split()
    custom = rec.get("custom_fields")
    fields = {
        scalar(item.get("id")): item.get("value")
        for item in (custom if isinstance(custom, list) else [])
        if isinstance(item, dict) and item.get("value") not in (None, "", [])
    }
    extra = {
        "event": scalar(context.get("event") or context.get("action")) if context else "",
        "subject": subject,
        "via_channel": via_channel,
        "via_rel": scalar(source.get("rel")) if isinstance(source, dict) else "",
        "ticket_type": scalar(rec.get("type")),
        "status": scalar(rec.get("status")).lower(),
        "priority": scalar(rec.get("priority")).lower(),
        "assignee": assignee_text or scalar(rec.get("assignee_id")),
        "group_id": scalar(rec.get("group_id")),
        "organization_id": scalar(rec.get("organization_id")),
        "brand_id": scalar(rec.get("brand_id")),
        "tags": tag_list,
        "custom_fields": {key: value for key, value in fields.items() if key},
        "requester_name": scalar(requester.get("name")) if isinstance(requester, dict) else "",
        "caller_name": scalar(sender.get("name")) if sender.get("phone") else "",
        **(more or {}),
    }
    suffix = f":{int(time)}" if updated else ""
    return ticket_event(
        source=SOURCE,
        id=event_id or ticket_id + suffix,
        time=time,
        type=kind or "ticket",
        raw=raw,
        updated=updated,
        activity=activity,
        ticket_id=ticket_id,
        channel=channel(via_channel),
        category=scalar(rec.get("category")),
        claimed_identity=login,
        caller_number=scalar(sender.get("phone") or rec.get("caller_number")),
        target_id=requester_id,
        actor_user=actor_user,
        actor_id=scalar(rec.first("actor_id", "submitter_id")),
        text=(subject, plain(description), tag_list),
        extra=extra,
    )


def _update(rec: Record, context: dict[str, Any]) -> bool:
    said = scalar(context.get("event") or context.get("action")).lower() if context else ""
    if said:
        return not ({"created", "create", "new", "opened"} & set(re.split(r"[^a-z]+", said)))
    return later(rec.get("updated_at"), rec.get("created_at"))
