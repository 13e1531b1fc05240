"""Google Workspace audit activities: the Admin SDK Reports API, and the same logs in Cloud Logging.

Shapes read:

- a Reports API activity (``{"kind": "admin#reports#activity", "id": {"time", "uniqueQualifier",
  "applicationName", "customerId"}, "actor": {...}, "ipAddress", "events": [{"type", "name",
  "parameters": [...]}]}``): one event per entry of ``events``;
- a Reports API list response (``{"kind": "admin#reports#activities", "items": [...]}``);
- a Cloud Logging entry of the Workspace audit logs shared with Google Cloud (``protoPayload.serviceName``
  ``admin.googleapis.com`` / ``login.googleapis.com``, ``protoPayload.metadata.event[]`` with
  ``eventName``, ``eventType``, ``parameter[]``; ``timestamp``; ``insertId``).

Both keep the event name and its parameters in nested lists, where a Sigma rule cannot name them, so
each event's ``view`` spells them flat as SigmaHQ's Google Workspace rules do: ``eventService``,
``eventName``, ``eventType`` and one key per parameter (``new_value``, ``USER_EMAIL``...), plus
``protoPayload.serviceName`` and ``protoPayload.metadata.event.eventName`` for the login rules. ``raw`` is
the whole activity (or log entry).
"""

from __future__ import annotations

from typing import Any

from deskguard.detection.event import Event
from deskguard.detection.normalize._common import as_text, event_time
from deskguard.detection.parsing import Quarantined, Record

SOURCE = "gworkspace"

_AC, _AUTH, _UA, _EM = "account_change", "authentication", "user_access", "entity_management"

# Event name -> (class_name, activity). Login and user-accounts events are lower-case, admin events
# upper-case, so one table serves every application.
ACTIVITIES: dict[str, tuple[str, str]] = {
    # login / user_accounts
    "login_success": (_AUTH, "sign_in"),
    "login_failure": (_AUTH, "sign_in_failed"),
    "login_challenge": (_AUTH, "mfa_challenge"),
    "login_verification": (_AUTH, "mfa_challenge"),
    "suspicious_login": (_AUTH, "sign_in"),
    "suspicious_login_less_secure_app": (_AUTH, "sign_in"),
    "suspicious_programmatic_login": (_AUTH, "sign_in"),
    "2sv_disable": (_AC, "mfa_disabled"),
    "2sv_enroll": (_AC, "mfa_factor_enrolled"),
    "password_edit": (_AC, "password_change"),
    "recovery_email_edit": (_AC, "recovery_change"),
    "recovery_phone_edit": (_AC, "recovery_change"),
    "recovery_secret_qa_edit": (_AC, "recovery_change"),
    # admin
    "CHANGE_PASSWORD": (_AC, "password_reset"),
    "ENFORCE_STRONG_AUTHENTICATION": (_AC, "other"),
    "ALLOW_STRONG_AUTHENTICATION": (_AC, "other"),
    "TURN_OFF_2_STEP_VERIFICATION": (_AC, "mfa_disabled"),
    "GENERATE_2SV_SCRATCH_CODES": (_AC, "temporary_access_pass"),
    "CHANGE_RECOVERY_EMAIL": (_AC, "recovery_change"),
    "CHANGE_RECOVERY_PHONE": (_AC, "recovery_change"),
    "UNSUSPEND_USER": (_AC, "account_enable"),
    "GRANT_ADMIN_PRIVILEGE": (_UA, "role_granted"),
    "ASSIGN_ROLE": (_UA, "role_granted"),
    "GRANT_DELEGATED_ADMIN_PRIVILEGES": (_UA, "role_granted"),
}
_SUSPICIOUS = frozenset(
    {"suspicious_login", "suspicious_login_less_secure_app", "suspicious_programmatic_login"}
)
_STRONG_AUTHENTICATION = frozenset({"ENFORCE_STRONG_AUTHENTICATION", "ALLOW_STRONG_AUTHENTICATION"})
_SSO_CREATE = ("CREATE", "ADD", "CREATED", "ADDED")
_SSO_CHANGE = ("CHANGE", "UPDATE", "EDIT", "UPDATED", "CHANGED")
_ADMIN_TYPE_CLASSES = {
    "USER_SETTINGS": _AC,
    "DELEGATED_ADMIN_SETTINGS": _UA,
    "GROUP_SETTINGS": "group_management",
}
_APP_CLASSES = {"login": _AUTH, "user_accounts": _AC, "admin": _EM, "token": _UA}
# applicationName <-> Cloud Logging serviceName (and SigmaHQ's ``eventService``).
_SERVICES = {"admin": "admin.googleapis.com", "login": "login.googleapis.com"}
_APPLICATIONS = {service: app for app, service in _SERVICES.items()}
_SUFFIX = ".googleapis.com"
_ACTIVITY_KIND = "admin#reports#activity"
_LIST_KIND = "admin#reports#activities"
# Where the events of a Reports API activity and of a Cloud Logging entry are: (the list, and in each
# entry its name, type and parameters).
_ACTIVITY_EVENTS = ("events", "name", "type", "parameters")
_LOG_ENTRY_EVENTS = ("protoPayload.metadata.event", "eventName", "eventType", "parameter")
_CHALLENGE_OUTCOMES = {"challenge passed": "success", "challenge failed": "failure"}
_VALUE_KEYS = (
    "value",
    "boolValue",
    "intValue",
    "multiValue",
    "multiStrValue",
    "multiIntValue",
    "messageValue",
)


def detect(raw: dict[str, Any]) -> bool:
    kind = raw.get("kind")
    if kind in (_ACTIVITY_KIND, _LIST_KIND):
        return True
    payload = raw.get("protoPayload")
    if payload is None:
        payload = raw.get("protopayload")
    if type(payload) is dict:
        return _is_workspace_payload(payload)
    service = raw.get("protoPayload.serviceName") or raw.get("protopayload.servicename")
    if service is not None:
        return type(service) is str and service in _APPLICATIONS
    ident = raw.get("id")
    events = raw.get("events")
    if type(ident) is dict and type(events) is list:
        return "applicationName" in ident or "applicationname" in ident
    if type(events) is list and ("id.applicationName" in raw or "id.applicationname" in raw):
        return True
    items = raw.get("items")
    if type(items) is list and items and type(items[0]) is dict:
        first = items[0]
        return first.get("kind") == _ACTIVITY_KIND or (
            type(first.get("id")) is dict and type(first.get("events")) is list
        )
    return False


def _is_workspace_payload(payload: dict[str, Any]) -> bool:
    service = payload.get("serviceName") or payload.get("servicename")
    if type(service) is str and service in _APPLICATIONS:
        return True
    metadata = payload.get("metadata")
    if type(metadata) is dict:
        kind = metadata.get("@type")
        return type(kind) is str and "ccc_hosted_reporting" in kind
    return False


def parse(raw: dict[str, Any]) -> list[Event]:
    if type(raw) is not dict:
        raise Quarantined("wrong_shape", f"a Google Workspace record is an object, not {type(raw).__name__}")
    kind = raw.get("kind")
    record = Record(raw)
    if kind == _ACTIVITY_KIND:
        return _activity(raw, record)
    if kind == _LIST_KIND or (record.get("items") is not None and record.get("events") is None):
        items = record.get("items")
        if items is None:
            return []
        if type(items) is not list:
            raise Quarantined("wrong_shape", "items is not a list")
        out: list[Event] = []
        for index, item in enumerate(items):
            if type(item) is not dict:
                raise Quarantined("wrong_shape", f"items[{index}] is not an object")
            out.extend(_activity(item, Record(item)))
        return out
    if record.get("protoPayload") is not None or record.get("protoPayload.serviceName") is not None:
        return _log_entry(raw, record)
    return _activity(raw, record)


# -- Reports API --------------------------------------------------------------------------------------


def _activity(raw: dict[str, Any], record: Record) -> list[Event]:
    time = record.get("id.time")
    if time is None:
        raise Quarantined("missing_field", "id.time")
    when = event_time(time, "id.time")
    qualifier = as_text(record.get("id.uniqueQualifier"))
    if not qualifier:
        raise Quarantined("missing_field", "id.uniqueQualifier")
    app = as_text(record.get("id.applicationName")).lower()
    events = _list(record.get("events"), "events")
    if events is None:
        raise Quarantined("missing_field", "events")
    actor = record.get("actor")
    if actor is not None and type(actor) is not dict:
        raise Quarantined("wrong_shape", "actor is not an object")
    actor_email = as_text(record.get("actor.email")).lower()
    actor_id = as_text(record.get("actor.profileId")) or as_text(record.get("actor.key"))
    caller = as_text(record.get("actor.callerType")).upper()
    common = {
        "when": when,
        "app": app,
        "service": _SERVICES.get(app) or (app + _SUFFIX if app else ""),
        "actor_user": actor_email,
        "actor_id": actor_id,
        "actor_type": "service" if caller == "KEY" else ("human" if actor_email or caller == "USER" else ""),
        "src_ip": as_text(record.get("ipAddress")),
        "customer": as_text(record.get("id.customerId")),
    }
    return _events(raw, events, _ACTIVITY_EVENTS, qualifier, common)


# -- Cloud Logging ------------------------------------------------------------------------------------


def _log_entry(raw: dict[str, Any], record: Record) -> list[Event]:
    insert_id = as_text(record.get("insertId"))
    if not insert_id:
        raise Quarantined("missing_field", "insertId")
    time = record.get("timestamp")
    if time is not None:
        when = event_time(time, "timestamp")
    else:
        micros = record.get("protoPayload.metadata.activityId.timeUsec")
        if micros is None:
            raise Quarantined("missing_field", "timestamp")
        when = event_time(_micros(micros), "protoPayload.metadata.activityId.timeUsec")
    payload = record.get("protoPayload")
    if payload is not None and type(payload) is not dict:
        raise Quarantined("wrong_shape", "protoPayload is not an object")
    service = as_text(record.get("protoPayload.serviceName")).lower()
    app = _APPLICATIONS.get(service) or (service[: -len(_SUFFIX)] if service.endswith(_SUFFIX) else service)
    events = _list(record.get("protoPayload.metadata.event"), "protoPayload.metadata.event")
    if events is None:
        raise Quarantined("missing_field", "protoPayload.metadata.event")
    actor_email = as_text(record.get("protoPayload.authenticationInfo.principalEmail")).lower()
    common = {
        "when": when,
        "app": app,
        "service": service,
        "actor_user": actor_email,
        "actor_id": "",
        "actor_type": "human" if actor_email else "",
        "src_ip": as_text(record.get("protoPayload.requestMetadata.callerIp")),
        "customer": "",
        "method": as_text(record.get("protoPayload.methodName")),
    }
    return _events(raw, events, _LOG_ENTRY_EVENTS, insert_id, common)


# -- the normalised event -----------------------------------------------------------------------------


def _events(
    raw: dict[str, Any],
    events: list[Any],
    keys: tuple[str, str, str, str],
    base_id: str,
    common: dict[str, Any],
) -> list[Event]:
    """One event per entry of ``events``; ``keys`` are where the list is and, in each entry, the event's
    name, type and parameters. The ids are ``base_id``, with ``:<index>`` when there are several."""
    path, name_key, type_key, params_key = keys
    out = []
    for index, item in enumerate(events):
        if type(item) is not dict:
            raise Quarantined("wrong_shape", f"{path}[{index}] is not an object")
        entry = Record(item)
        name = as_text(entry.get(name_key))
        if not name:
            raise Quarantined("missing_field", f"{path}[{index}].{name_key}")
        params = _parameters(entry.get(params_key), f"{path}[{index}].{params_key}")
        event_id = base_id if len(events) == 1 else f"{base_id}:{index}"
        out.append(_event(raw, event_id, name, as_text(entry.get(type_key)), params, common))
    return out


def _event(
    raw: dict[str, Any],
    event_id: str,
    name: str,
    event_type: str,
    params: dict[str, Any],
    common: dict[str, Any],
) -> Event:
    app = common["app"]
    class_name, activity = _classify(name, event_type, app, params)
    actor_user = common["actor_user"]
    target = as_text(params.get("USER_EMAIL")) or as_text(params.get("affected_email_address"))
    target_user = target.lower()
    if not target_user and app in ("login", "user_accounts"):
        target_user = actor_user

    outcome = "unknown"
    reason = ""
    if name == "login_success":
        outcome = "success"
    elif name == "login_failure":
        outcome = "failure"
        reason = as_text(params.get("login_failure_type"))
    elif activity == "mfa_challenge":
        status = as_text(params.get("login_challenge_status"))
        outcome = _CHALLENGE_OUTCOMES.get(status.lower(), "unknown")
        if outcome == "failure":
            reason = status
    elif app == "admin" or class_name == _AC:
        outcome = "success"  # admin and account-change events record changes that were made

    extra: dict[str, Any] = {}
    if common["customer"]:
        extra["customer_id"] = common["customer"]
    if event_type:
        extra["event_type"] = event_type
    if name in _SUSPICIOUS or params.get("is_suspicious") in (True, "true"):
        extra["suspicious"] = True
    login_type = params.get("login_type")
    if login_type:
        extra["login_type"] = as_text(login_type)
    challenge = params.get("login_challenge_method")
    if challenge:
        extra["factor"] = challenge if type(challenge) is list else as_text(challenge)
    if activity == "role_granted":
        role = as_text(params.get("ROLE_NAME")) or as_text(params.get("PRIVILEGE_NAME"))
        if role:
            extra["role"] = role
    if common.get("method"):
        extra["method"] = common["method"]

    service = common["service"]
    view: dict[str, Any] = dict(params)
    view["eventService"] = service
    view["eventName"] = name
    view["eventType"] = event_type
    view["protoPayload"] = {
        "serviceName": service,
        "metadata": {"event": {"eventName": name, "eventType": event_type}},
    }
    return Event(
        id=event_id,
        time=common["when"],
        source=SOURCE,
        product="gcp",
        service=f"google_workspace.{app}" if app else "google_workspace",
        class_name=class_name,
        activity=activity,
        type=name,
        raw=raw,
        outcome=outcome,
        reason=reason,
        actor_user=actor_user,
        actor_id=common["actor_id"],
        actor_type=common["actor_type"],
        target_user=target_user,
        src_ip=common["src_ip"],
        extra=extra,
        view=view,
    )


def _classify(name: str, event_type: str, app: str, params: dict[str, Any]) -> tuple[str, str]:
    found = ACTIVITIES.get(name)
    if found is not None:
        if name in _STRONG_AUTHENTICATION and as_text(params.get("NEW_VALUE") or params.get("new_value")) in (
            "false",
            "False",
            "FALSE",
        ):
            return found[0], "mfa_disabled"
        return found
    upper = name.upper()
    setting = as_text(params.get("SETTING_NAME")).upper()
    if "SSO" in upper or "SAML" in upper or (setting and ("SSO" in setting or "SAML" in setting)):
        words = upper.split("_")
        if any(word in _SSO_CREATE for word in words):
            return _EM, "idp_created"
        if any(word in _SSO_CHANGE for word in words):
            return _EM, "idp_changed"
    if app == "admin":
        return _ADMIN_TYPE_CLASSES.get(event_type, _EM), "other"
    return _APP_CLASSES.get(app, "api_activity"), "other"


# -- helpers ------------------------------------------------------------------------------------------


def _parameters(value: Any, path: str) -> dict[str, Any]:
    """``[{"name", "value" | "boolValue" | "intValue" | "multiValue" ...}]`` as ``{name: value}``."""
    items = _list(value, path)
    params: dict[str, Any] = {}
    for index, item in enumerate(items or ()):
        if type(item) is not dict:
            raise Quarantined("wrong_shape", f"{path}[{index}] is not an object")
        entry = Record(item)
        name = entry.get("name")
        if type(name) is not str or not name:
            continue
        for key in _VALUE_KEYS:
            found = entry.get(key)
            if found is not None:
                params[name] = _int_value(found) if key == "intValue" else found
                break
        else:
            params[name] = None
    return params


def _list(value: Any, path: str) -> list[Any] | None:
    if value is None or type(value) is list:
        return value
    raise Quarantined("wrong_shape", f"{path} is not a list")


def _int_value(value: Any) -> Any:
    """The API writes int64 parameters as strings."""
    if type(value) is str and value.lstrip("-").isascii() and value.lstrip("-").isdigit() and len(value) < 20:
        return int(value)
    return value


def _micros(value: Any) -> Any:
    if type(value) is str and value.isascii() and value.isdigit() and len(value) < 20:
        return int(value) / 1_000_000
    if type(value) is int and 0 <= value < 10**19:
        return value / 1_000_000
    return value
