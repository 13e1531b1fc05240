"""Microsoft Entra ID: directory audits and sign-ins, as Microsoft Graph or Azure Monitor delivers them.

Shapes read:

- a Graph ``directoryAudit`` or ``signIn`` object (``/auditLogs/directoryAudits``, ``/auditLogs/signIns``);
- a Graph list response ``{"@odata.context": ..., "value": [...]}``: one event per item;
- an Azure Monitor diagnostic-log record (``{"time", "category": "AuditLogs" | "SignInLogs" | ...,
  "operationName", "resultType", "properties": {the Graph fields}}``), alone or in a ``{"records": [...]}``
  batch as diagnostic settings write it to Event Hubs or storage: one event per record.

Each event's ``raw`` is its own item or record, so Sigma rules for ``product: azure`` read what Microsoft
wrote. For an Azure Monitor record ``view`` is its ``properties`` (rules name ``LoggedByService`` or
``AuthenticationRequirement`` without the prefix); for a Graph object ``view`` adds the Azure Monitor
names a Graph object lacks (``operationName``, ``resultType``, ``resultDescription``).

A record in Microsoft's spelling is read with plain dict walks; one a pipeline rewrote (lower-cased or
flattened keys) is read through ``Record``.
"""

from __future__ import annotations

import json
from typing import Any

from deskguard.detection.event import Event
from deskguard.detection.normalize._common import as_text, coordinate, event_time
from deskguard.detection.normalize._entra_tables import (
    ANONYMOUS_RISKS,
    AUDIT_ACTIVITIES,
    AUDIT_CATEGORY,
    AUTH,
    CATEGORY_CLASSES,
    MFA_FAILED,
    MFA_INTERRUPTS,
    MFA_REQUIREMENT,
    OTHER_CATEGORIES,
    OUTCOMES,
    RECOVERY_PROPERTIES,
    ROLE_PREFIXES,
    SERVICE_SIGNINS,
    SESSION_PROPERTY,
    SIGNIN_CATEGORIES,
    UA,
)
from deskguard.detection.parsing import Quarantined, Record, canon

SOURCE = "entra"


def detect(raw: dict[str, Any]) -> bool:
    records = _key(raw, "records")
    if type(records) is list:
        return bool(records) and type(records[0]) is dict and _is_monitor(records[0])
    items = _key(raw, "value")
    if type(items) is list:
        context = _key(raw, "@odata.context")
        if type(context) is str and "auditlogs/" in context.lower():
            return True
        return bool(items) and type(items[0]) is dict and _graph_kind(items[0]) is not None
    return _is_monitor(raw) or _graph_kind(raw) is not None


def parse(raw: dict[str, Any]) -> list[Event]:
    if type(raw) is not dict:
        raise Quarantined("wrong_shape", f"an Entra record is an object, not {type(raw).__name__}")
    records = _key(raw, "records")
    if records is not None:
        return [_monitor(item) for item in _items(records, "records")]
    items = _key(raw, "value")
    if items is not None and type(items) is list:
        return [_graph(item) for item in _items(items, "value")]
    if _is_monitor(raw):
        return [_monitor(raw)]
    return [_graph(raw)]


# -- shapes -------------------------------------------------------------------------------------------


def _items(items: Any, name: str) -> list[dict[str, Any]]:
    if type(items) is not list:
        raise Quarantined("wrong_shape", f"{name} is not a list")
    for index, item in enumerate(items):
        if type(item) is not dict:
            raise Quarantined("wrong_shape", f"{name}[{index}] is not an object")
    return items


def _key(raw: dict[str, Any], name: str) -> Any:
    """A top-level key as Microsoft spells it, or lower-cased."""
    value = raw.get(name)
    return raw.get(name.lower()) if value is None else value


def _is_monitor(raw: dict[str, Any]) -> bool:
    category = _key(raw, "category")
    if type(category) is not str:
        return False
    lowered = category.lower()
    if lowered != AUDIT_CATEGORY and lowered not in SIGNIN_CATEGORIES and lowered not in OTHER_CATEGORIES:
        return False
    return (
        _key(raw, "properties") is not None
        or _key(raw, "operationName") is not None
        or any(type(key) is str and key.lower().startswith("properties.") for key in raw)
    )


def _graph_kind(raw: dict[str, Any]) -> str | None:
    if _key(raw, "activityDisplayName") is not None or _key(raw, "activityDateTime") is not None:
        return "audit"
    if _key(raw, "createdDateTime") is not None and (
        _key(raw, "userPrincipalName") is not None
        or _key(raw, "status") is not None
        or _key(raw, "appDisplayName") is not None
    ):
        return "signin"
    return None


class _Fields:
    """Field lookup on a Graph object: a plain dict walk when the object is in Microsoft's spelling,
    ``Record`` (lower-cased, flattened, prefixed keys) when it is not."""

    __slots__ = ("data", "record", "prefix")

    def __init__(self, data: dict[str, Any], *, exact: bool, prefix: str = "") -> None:
        self.data = data
        self.record = None if exact else Record(data)
        self.prefix = prefix

    def __call__(self, path: str) -> Any:
        if self.record is not None:
            return self.record.get(self.prefix + path)
        value: Any = self.data
        for part in path.split("."):
            if type(value) is not dict:
                return None
            value = value.get(part)
            if value is None:
                return None
        return value

    def text(self, path: str) -> str:
        return as_text(self(path))

    def items(self, path: str) -> list[Any]:
        value = self(path)
        if value is None:
            return []
        if type(value) is not list:
            raise Quarantined("wrong_shape", f"{path} is not a list")
        return value


def _graph(item: dict[str, Any]) -> Event:
    kind = _graph_kind(item)
    if kind is None:
        raise Quarantined("wrong_shape", "neither a directoryAudit nor a signIn object")
    exact = "activityDisplayName" in item if kind == "audit" else "createdDateTime" in item
    fields = _Fields(item, exact=exact)
    if kind == "audit":
        event = _audit(fields, item, None)
        event.view = {
            "operationName": event.type,
            "resultType": fields.text("result"),
            "resultDescription": event.reason,
            **_columns(event, item),
        }
    else:
        event = _signin(fields, item, None, "")
        event.view = {
            "operationName": event.type,
            "resultType": event.extra.get("error_code", ""),
            "resultDescription": event.reason,
            **_columns(event, item),
        }
    return event


def _columns(event: Event, fields: dict[str, Any]) -> dict[str, Any]:
    """The Log Analytics (Sentinel) column names SigmaHQ's Azure rules are written against.

    ``properties.message`` is the activity in the older diagnostic schema; ``Category`` is the
    audit's own category (``UserManagement``...), not the diagnostic log's ``AuditLogs``.
    """
    status = "Success" if event.outcome == "success" else "Failure" if event.outcome == "failure" else ""
    columns = {
        "properties.message": event.type,
        "ActivityDisplayName": event.type,
        "OperationName": event.type,
        "Status": status,
        "Result": status.lower(),
    }
    for column, name in (("Category", "category"), ("TargetResources", "targetResources")):
        value = fields.get(name)
        if value is not None:
            columns[column] = value
    return columns


def _monitor(record: dict[str, Any]) -> Event:
    top = Record(record)
    category = top.text("category")
    lowered = category.lower()
    if not category:
        raise Quarantined("missing_field", "category")
    if lowered != AUDIT_CATEGORY and lowered not in SIGNIN_CATEGORIES and lowered not in OTHER_CATEGORIES:
        raise Quarantined("unsupported_event", f"category {category!r:.60} is not an Entra ID log")
    properties = top.get("properties")
    if type(properties) is dict:
        exact = ("activityDisplayName" if lowered == AUDIT_CATEGORY else "createdDateTime") in properties
        fields = _Fields(properties, exact=exact)
    elif properties is None:
        fields = _Fields(record, exact=False, prefix="properties.")
    elif type(properties) is str:
        # Some exporters keep ``properties`` as a JSON string.
        try:
            properties = json.loads(properties)
        except (ValueError, RecursionError):
            raise Quarantined("wrong_shape", "properties is neither an object nor JSON") from None
        if type(properties) is not dict:
            raise Quarantined("wrong_shape", "properties is not an object")
        fields = _Fields(properties, exact=False)
    else:
        raise Quarantined("wrong_shape", "properties is not an object")
    if lowered == AUDIT_CATEGORY:
        event = _audit(fields, record, top)
    elif lowered in SIGNIN_CATEGORIES:
        event = _signin(fields, record, top, lowered)
    else:
        event = _other_record(fields, record, top, lowered)
    event.view = {**properties, **_columns(event, properties)} if type(properties) is dict else None
    return event


# -- directory audits ---------------------------------------------------------------------------------


def _audit(fields: _Fields, raw: dict[str, Any], top: Record | None) -> Event:
    name = fields.text("activityDisplayName") or (top.text("operationName") if top else "")
    if not name:
        raise Quarantined("missing_field", "activityDisplayName")
    event_id, time = _identity(fields, top, "activityDateTime")

    result = fields.text("result") or (top.text("resultType") if top else "")
    # initiatedBy holds a user or an app (the other one null).
    actor_user = fields.text("initiatedBy.user.userPrincipalName").lower()
    actor_id = fields.text("initiatedBy.user.id")
    src_ip = fields.text("initiatedBy.user.ipAddress")
    actor_type = "human" if actor_user or actor_id else ""
    if not actor_type:
        app = "initiatedBy.app."
        actor_user = fields.text(app + "displayName") or fields.text(app + "servicePrincipalName")
        actor_id = fields.text(app + "appId") or fields.text(app + "servicePrincipalId")
        actor_type = "service" if actor_user or actor_id else ""
    if not src_ip and top is not None:
        src_ip = top.text("callerIpAddress")

    target_user = target_id = device_id = role = target_type = ""
    modified: list[tuple[str, str, str]] = []
    for index, item in enumerate(fields.items("targetResources")):
        if type(item) is not dict:
            raise Quarantined("wrong_shape", f"targetResources[{index}] is not an object")
        target = _sub(item, fields)
        kind = target.text("type")
        lowered_kind = kind.lower()
        if not target_type:
            target_type = kind
        if lowered_kind == "user" and not target_user and not target_id:
            target_user = target.text("userPrincipalName").lower()
            target_id = target.text("id")
        elif lowered_kind == "device" and not device_id:
            device_id = target.text("id")
        elif lowered_kind == "role" and not role:
            role = target.text("displayName")
        for number, change in enumerate(target.items("modifiedProperties")):
            if type(change) is not dict:
                raise Quarantined("wrong_shape", f"targetResources[{index}].modifiedProperties[{number}]")
            property_ = _sub(change, fields)
            modified.append(
                (property_.text("displayName"), property_.text("oldValue"), property_.text("newValue"))
            )
    for display, _old, new in modified:
        if display.lower() == "role.displayname" and new:
            role = _unquote(new)
            break

    details: dict[str, str] = {}
    for index, item in enumerate(fields.items("additionalDetails")):
        if type(item) is not dict:
            raise Quarantined("wrong_shape", f"additionalDetails[{index}] is not an object")
        detail = _sub(item, fields)
        key = detail.text("key")
        if key:
            details[key] = detail.text("value")

    reason = fields.text("resultReason")
    category = fields.text("category")
    class_name, activity = _audit_activity(name, category, reason, details, modified)
    if activity == "password_reset" and actor_user and actor_user == target_user:
        activity = "password_change"
    extra: dict[str, Any] = {}
    _put(extra, "category", category)
    _put(extra, "logged_by", fields.text("loggedByService"))
    _put(extra, "operation_type", fields.text("operationType"))
    _put(extra, "correlation_id", fields.text("correlationId") or (top.text("correlationId") if top else ""))
    _put(extra, "target_type", target_type)
    if activity == "role_granted":
        _put(extra, "role", role)
    method = (
        details.get("Method") or details.get("AuthenticationMethod") or details.get("Authentication Method")
    )
    _put(extra, "method", method or "")
    if modified:
        extra["modified_properties"] = [display for display, _old, _new in modified if display]
    return Event(
        id=event_id,
        time=time,
        source=SOURCE,
        product="azure",
        service="auditlogs",
        class_name=class_name,
        activity=activity,
        type=name,
        raw=raw,
        outcome=OUTCOMES.get(result.lower(), "unknown"),
        reason=reason,
        actor_user=actor_user,
        actor_id=actor_id,
        actor_type=actor_type,
        target_user=target_user,
        target_id=target_id,
        src_ip=src_ip,
        user_agent=details.get("User-Agent", ""),
        device_id=device_id,
        extra=extra,
    )


def _audit_activity(
    name: str,
    category: str,
    reason: str,
    details: dict[str, str],
    modified: list[tuple[str, str, str]],
) -> tuple[str, str]:
    lowered = name.lower()
    found = AUDIT_ACTIVITIES.get(lowered)
    if found is None and lowered.startswith(ROLE_PREFIXES):
        found = (UA, "role_granted")
    if found is None:
        return CATEGORY_CLASSES.get(canon(category), "api_activity"), "other"
    class_name, activity = found
    if activity in ("mfa_factor_enrolled", "recovery_change"):
        mentions = (reason + " " + " ".join(details.values())).lower()
        if "temporary access pass" in mentions or "temporaryaccesspass" in mentions:
            return class_name, "temporary_access_pass"
    elif lowered == "set domain authentication":
        if any("federated" in new.lower() for _display, _old, new in modified):
            return class_name, "idp_created"
    elif lowered == "update user":
        names = {display.lower() for display, _old, _new in modified}
        for display, old, new in modified:
            if display.lower() == MFA_REQUIREMENT and _mfa_requirement_removed(old, new):
                return class_name, "mfa_disabled"
        if names & RECOVERY_PROPERTIES:
            return class_name, "recovery_change"
        if SESSION_PROPERTY in names:
            return AUTH, "session_revoked"
    return class_name, activity


def _mfa_requirement_removed(old: str, new: str) -> bool:
    """Per-user MFA turned off: the new requirement has ``"State":0`` or is empty where the old was not."""
    compact = new.replace(" ", "")
    if '"State":0' in compact or '\\"State\\":0' in compact:
        return True
    return compact in ("", "[]", '"[]"') and old.replace(" ", "") not in ("", "[]", '"[]"')


# -- sign-ins -----------------------------------------------------------------------------------------


def _signin(fields: _Fields, raw: dict[str, Any], top: Record | None, category: str) -> Event:
    event_id, time = _identity(fields, top, "createdDateTime")

    code: int | None = _code(fields("status.errorCode"))
    if code is None and top is not None:
        code = _code(top.get("resultType"))
    reason = fields.text("status.failureReason") or (top.text("resultDescription") if top else "")
    details = fields.text("status.additionalDetails")
    if code is None:
        outcome, activity = "unknown", "sign_in"
    elif code == 0:
        outcome, activity = "success", "sign_in"
    elif code in MFA_INTERRUPTS:
        outcome, activity = "unknown", "mfa_challenge"
    elif code == MFA_FAILED and "denied" in (details + " " + reason).lower():
        outcome, activity = "failure", "mfa_push_denied"
    else:
        outcome, activity = "failure", "sign_in_failed"
    if outcome == "success":
        reason = ""  # Graph writes "Other." as the failure reason of a successful sign-in

    if category in SERVICE_SIGNINS:
        actor_user = fields.text("servicePrincipalName") or fields.text("appDisplayName")
        actor_id = fields.text("servicePrincipalId") or fields.text("appId")
        actor_type = "service"
        target_user = target_id = ""
    else:
        actor_user = target_user = fields.text("userPrincipalName").lower()
        actor_id = target_id = fields.text("userId")
        actor_type = "human" if actor_user or actor_id else ""

    risks = fields("riskEventTypes_v2")
    if risks is None:
        risks = fields("riskEventTypes")
    is_proxy = None
    if type(risks) is list and any(type(risk) is str and risk.lower() in ANONYMOUS_RISKS for risk in risks):
        is_proxy = True

    extra: dict[str, Any] = {}
    if code is not None:
        extra["error_code"] = str(code)
    _put(extra, "app_id", fields.text("appId"))
    _put(extra, "resource", fields.text("resourceDisplayName"))
    _put(extra, "client_app", fields.text("clientAppUsed"))
    _put(extra, "authentication_requirement", fields.text("authenticationRequirement"))
    _put(extra, "conditional_access", fields.text("conditionalAccessStatus"))
    _put(extra, "risk_level", fields.text("riskLevelDuringSignIn"))
    _put(extra, "risk_state", fields.text("riskState"))
    _put(extra, "correlation_id", fields.text("correlationId") or (top.text("correlationId") if top else ""))
    _put(extra, "sign_in_category", category)
    _put(extra, "device_name", fields.text("deviceDetail.displayName"))
    _put(extra, "os", fields.text("deviceDetail.operatingSystem"))
    _put(extra, "browser", fields.text("deviceDetail.browser"))
    interactive = fields("isInteractive")
    if type(interactive) is bool:
        extra["interactive"] = interactive
    return Event(
        id=event_id,
        time=time,
        source=SOURCE,
        product="azure",
        service="signinlogs",
        class_name=AUTH,
        activity=activity,
        type=(top.text("operationName") if top else "") or "Sign-in activity",
        raw=raw,
        outcome=outcome,
        reason=reason,
        actor_user=actor_user,
        actor_id=actor_id,
        actor_type=actor_type,
        target_user=target_user,
        target_id=target_id,
        src_ip=fields.text("ipAddress") or (top.text("callerIpAddress") if top else ""),
        country=fields.text("location.countryOrRegion"),
        city=fields.text("location.city"),
        lat=coordinate(fields("location.geoCoordinates.latitude")),
        lon=coordinate(fields("location.geoCoordinates.longitude")),
        is_proxy=is_proxy,
        user_agent=fields.text("userAgent"),
        device_id=fields.text("deviceDetail.deviceId"),
        session_id=fields.text("sessionId"),
        app=fields.text("appDisplayName"),
        extra=extra,
    )


# -- other Entra categories ---------------------------------------------------------------------------


def _other_record(fields: _Fields, raw: dict[str, Any], top: Record, category: str) -> Event:
    """Risk detections, provisioning... as ``other`` events (their own Sigma service), raw kept for rules."""
    event_id = fields.text("id") or top.text("correlationId")
    if not event_id:
        raise Quarantined("missing_field", "id")
    when = top.get("time")
    if when is None:
        when = fields("activityDateTime")
    if when is None:
        raise Quarantined("missing_field", "time")
    user = (fields.text("userPrincipalName") or fields.text("userDisplayName")).lower()
    extra: dict[str, Any] = {"category": top.text("category")}
    _put(extra, "risk_event_type", fields.text("riskEventType"))
    _put(extra, "risk_level", fields.text("riskLevel"))
    return Event(
        id=event_id,
        time=event_time(when, "time"),
        source=SOURCE,
        product="azure",
        service=OTHER_CATEGORIES[category],
        class_name="detection_finding" if "risk" in category else "api_activity",
        activity="other",
        type=top.text("operationName") or top.text("category"),
        raw=raw,
        outcome=OUTCOMES.get(top.text("resultType").lower(), "unknown"),
        target_user=user,
        target_id=fields.text("userId"),
        src_ip=fields.text("ipAddress") or top.text("callerIpAddress"),
        extra=extra,
    )


# -- helpers ------------------------------------------------------------------------------------------


def _identity(fields: _Fields, top: Record | None, time_field: str) -> tuple[str, float]:
    """An audit's or a sign-in's ``id`` and time (``time_field``, else the Azure Monitor ``time``)."""
    event_id = fields.text("id")
    if not event_id:
        raise Quarantined("missing_field", "id")
    when = fields(time_field)
    if when is None and top is not None:
        when = top.get("time")
    if when is None:
        raise Quarantined("missing_field", time_field)
    return event_id, event_time(when, time_field)


def _sub(item: dict[str, Any], parent: _Fields) -> _Fields:
    """Lookup on a nested object, in the same spelling mode as its parent."""
    return _Fields(item, exact=parent.record is None)


def _code(value: Any) -> int | None:
    if type(value) is int:
        return value
    if type(value) is float and value.is_integer():
        return int(value)
    if type(value) is str:
        stripped = value.strip()
        if stripped.isascii() and stripped.isdigit() and len(stripped) < 12:
            return int(stripped)
    return None


def _unquote(value: str) -> str:
    """Entra writes modified-property values JSON-encoded (``"\\"Global Administrator\\""``)."""
    text = value.strip()
    if len(text) >= 2 and text[0] == '"' and text[-1] == '"':
        text = text[1:-1]
    return text.replace('\\"', '"').strip()


def _put(extra: dict[str, Any], key: str, value: str) -> None:
    if value:
        extra[key] = value
