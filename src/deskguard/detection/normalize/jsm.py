"""Jira Service Management issues: admin webhooks and Automation "Issue data (Jira format)" bodies.

A webhook is ``{"timestamp": ms, "webhookEvent": "jira:issue_created"|"jira:issue_updated"|...,
"issue_event_type_name", "user": {...}, "issue": {"id", "key", "fields": {...}}, "changelog": ...}``;
an Automation web request may send the issue itself (``{"id", "key", "fields"}``).

- ``ticket_id`` is the issue key (``HD-1042``); the requester is ``fields.reporter`` (a JSM customer):
  its ``emailAddress`` when the site shows it, else its Data Center ``name``.
- The category is the request type (the ``requestType`` inside the customer-request custom field,
  commonly ``customfield_10010`` but found wherever it is), else the issue type.
- Jira has no contact-channel field: the channel is a field named ``channel``/``contact_type``/
  ``source``, else a select custom field or a label whose value names a channel outright (``Phone``,
  ``E-mail``, ``Walk-in``...), else ``""``. A calling number is read from ``caller_number``.
- Times: ``fields.created`` for a creation, the webhook ``timestamp`` (epoch ms) for an update; Jira
  writes offsets without a colon (``2024-05-01T09:00:00.000+0000``), which ``parse_time`` reads.
- ``description`` may be plain text or an Atlassian Document Format tree (API v3): its text is used.
"""

from __future__ import annotations

from typing import Any

from deskguard.detection.event import Event
from deskguard.detection.normalize._common import ident, keys_of, later, mapping, scalar, when
from deskguard.detection.normalize._tickets import channel, channel_exact, looks_like_login, ticket_event
from deskguard.detection.parsing import Quarantined, Record, canon

SOURCE = "jsm"

_CREATED = frozenset({"jira:issue_created", "issue_created"})
_DELETED = frozenset({"jira:issue_deleted", "issue_deleted"})
_CHANNEL_FIELDS = ("channel", "contact_type", "contactType", "source", "request_channel")


def detect(raw: dict[str, Any]) -> bool:
    if not isinstance(raw, dict):
        return False
    keys = keys_of(raw)
    issue = raw.get("issue")
    if isinstance(issue, dict) and {"key", "fields"} <= keys_of(issue):
        return True
    if "webhookevent" in keys:
        event = Record(raw).get("webhookEvent")
        return isinstance(event, str) and event.startswith("jira:")
    fields = raw.get("fields")
    return {"id", "key"} <= keys and bool(keys_of(fields) & {"summary", "issuetype", "reporter"})


def parse(raw: dict[str, Any]) -> list[Event]:
    if not isinstance(raw, dict):
        raise Quarantined("wrong_shape", "a Jira record is an object")
    rec = Record(raw)
    issue = mapping(raw.get("issue"), "issue") if "issue" in raw else raw
    if not issue:
        raise Quarantined("missing_field", "issue is missing")
    irec = Record(issue)
    fields = mapping(irec.get("fields"), "issue.fields")
    frec = Record(fields)
    key = ident(irec.get("key"), "issue.key")
    issue_id = scalar(irec.get("id")) or key
    event = rec.get("webhookEvent")
    if event is not None and not isinstance(event, str):
        raise Quarantined("wrong_type", "webhookEvent must be a string")
    event = (event or "").strip()
    type_name = scalar(rec.get("issue_event_type_name"))

    if event in _DELETED:
        updated, activity = False, "other"
    elif event in _CREATED or (not event and type_name in _CREATED):
        updated, activity = False, ""
    elif event or type_name:
        updated, activity = True, ""
    else:
        updated, activity = later(frec.get("updated"), frec.get("created")), ""
    stamp = rec.get("timestamp")
    if updated or activity:
        time = when(stamp if stamp not in (None, "") else frec.get("updated"), "timestamp")
    else:
        created = frec.get("created")
        time = when(created if created not in (None, "") else stamp, "issue.fields.created")

    reporter = frec.get("reporter")
    login, reporter_id, reporter_name = _user(reporter)
    actor_login, actor_id, actor_name = _user(rec.get("user") if "issue" in raw else None)
    if not (actor_login or actor_id):
        actor_login, actor_id, actor_name = _user(frec.get("creator"))
    assignee_login, _, assignee_name = _user(frec.get("assignee"))
    request_type = _request_type(fields)
    issue_type = scalar(frec.get("issuetype"))
    tags = frec.get("labels")
    labels = [label for label in tags if isinstance(label, str)] if isinstance(tags, list) else []
    summary = scalar(frec.get("summary"))
    description = _text(frec.get("description"))
    changelog = rec.get("changelog")
    items = changelog.get("items") if isinstance(changelog, dict) else None
    items = items if isinstance(items, list) else []  # a pipeline may send anything here
    changed = [scalar(item.get("field")) for item in items if isinstance(item, dict)]
    project = frec.get("project")

    extra = {
        "event": event or type_name,
        "issue_event_type": type_name,
        "issue_id": issue_id,
        "subject": summary,
        "issue_type": issue_type,
        "request_type": request_type,
        "assignee": assignee_login or assignee_name,
        "reporter_name": reporter_name,
        "actor_name": actor_name,
        "labels": labels,
        "priority": scalar(frec.get("priority")),
        "status": scalar(frec.get("status")),
        "project": scalar(project.get("key")) if isinstance(project, dict) else "",
        "changed_fields": [name for name in changed if name],
    }
    suffix = f":{int(time * 1000)}" if updated or activity else ""
    return [
        ticket_event(
            source=SOURCE,
            id=issue_id + suffix,
            time=time,
            type=event or type_name or "issue",
            raw=raw,
            updated=updated,
            activity=activity,
            ticket_id=key,
            channel=_channel(fields, labels),
            category=request_type or issue_type,
            claimed_identity=login,
            caller_number=scalar(frec.first("caller_number", "callerNumber") or rec.get("caller_number")),
            target_id=reporter_id,
            actor_user=actor_login,
            actor_id=actor_id,
            text=(summary, description, labels),
            extra=extra,
        )
    ]


def _user(value: Any) -> tuple[str, str, str]:
    """(login or e-mail, account id, display name) of a Jira user object."""
    if isinstance(value, str):
        return (value, "", "") if looks_like_login(value) else ("", "", value)
    if not isinstance(value, dict):
        return "", "", ""
    user = Record(value)
    login = scalar(user.get("emailAddress"))
    name = scalar(user.get("name"))
    if not login and looks_like_login(name):
        login = name
    account = scalar(user.first("accountId", "key", "name"))
    return login, account, scalar(user.get("displayName"))


def _request_type(fields: dict[str, Any]) -> str:
    """The JSM request type's name, from whichever custom field holds the customer request."""
    direct = Record(fields).get("requestType")
    if isinstance(direct, dict | str):
        return scalar(direct)
    for value in fields.values():
        if isinstance(value, dict):
            for inner_key, inner in value.items():
                if canon(str(inner_key)) == "requesttype" and isinstance(inner, dict):
                    return scalar(inner.get("name"))
    return ""


def _channel(fields: dict[str, Any], labels: list[str]) -> str:
    frec = Record(fields)
    named = frec.first(*_CHANNEL_FIELDS)
    if named is not None:
        found = channel(scalar(named))
        if found:
            return found
    for key, value in fields.items():
        if str(key).startswith("customfield_") and isinstance(value, dict) and "value" in value:
            found = channel_exact(scalar(value.get("value")))
            if found:
                return found
    for label in labels:
        found = channel_exact(label)
        if found:
            return found
    return ""


def _text(value: Any, depth: int = 0) -> str:
    """Plain text, or the text of an Atlassian Document Format node."""
    if isinstance(value, str):
        return value
    if depth > 40:
        return ""
    if isinstance(value, dict):
        text = value.get("text")
        own = text if isinstance(text, str) else ""
        content = value.get("content")
        children = [_text(child, depth + 1) for child in content] if isinstance(content, list) else []
        return " ".join(part for part in (own, *children) if part)
    return ""
