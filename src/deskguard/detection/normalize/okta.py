"""Okta System Log: one ``LogEvent`` (as ``GET /api/v1/logs`` returns it) or an event-hook delivery.

An event-hook delivery (``{"eventType": "com.okta.event_hook", "data": {"events": [...]}}``) gives one
event per ``LogEvent``; each event's ``raw`` is its ``LogEvent``, so Sigma rules for ``product: okta``
read the fields Okta wrote.

This parser is on the hot path (an Okta tenant streams its whole System Log), so a record spelled as
Okta spells it is read with plain dict access only. A record a pipeline rewrote (lower-cased keys,
flattened ``actor.alternateId`` keys, Filebeat's ``okta.actor.alternate_id``) has no ``eventType`` or
``actor`` key: it takes the slower path through ``Record``, which finds every field whatever its
spelling.
"""

from __future__ import annotations

from typing import Any

from deskguard.detection.event import Event
from deskguard.detection.normalize._common import as_text, coordinate, event_time
from deskguard.detection.parsing import Quarantined, Record

SOURCE = "okta"
HOOK_TYPE = "com.okta.event_hook"

_MISSING: Any = object()
_EMPTY: dict[str, Any] = {}

# eventType -> (class_name, activity). Types whose activity depends on the event (outcome, actor vs
# target, changed attributes) are refined in ``_refine``.
_AC, _AUTH = "account_change", "authentication"
TYPES: dict[str, tuple[str, str]] = {
    "user.account.reset_password": (_AC, "password_reset"),
    "user.account.update_password": (_AC, "password_change"),
    "user.account.unlock": (_AC, "account_unlock"),
    "user.account.unlock_by_admin": (_AC, "account_unlock"),
    "user.account.unlock_token": (_AC, "account_unlock"),
    "user.account.update_profile": (_AC, "other"),
    "user.lifecycle.unsuspend": (_AC, "account_enable"),
    "user.lifecycle.reactivate": (_AC, "account_enable"),
    "user.mfa.factor.reset_all": (_AC, "mfa_reset"),
    "user.mfa.factor.deactivate": (_AC, "mfa_factor_removed"),
    "user.mfa.factor.suspend": (_AC, "mfa_factor_removed"),
    "user.mfa.factor.activate": (_AC, "mfa_factor_enrolled"),
    "system.mfa.factor.deactivate": (_AC, "mfa_disabled"),
    "device.enrollment.create": (_AC, "device_enrolled"),
    "device.user.add": (_AC, "device_enrolled"),
    "user.session.start": (_AUTH, "sign_in"),
    "user.authentication.sso": (_AUTH, "sso"),
    "user.session.access_admin_app": (_AUTH, "sso"),
    "user.authentication.auth_via_mfa": (_AUTH, "mfa_challenge"),
    "system.push.send_factor_verify_push": (_AUTH, "mfa_challenge"),
    "user.mfa.okta_verify.deny_push": (_AUTH, "mfa_push_denied"),
    "user.mfa.okta_verify": (_AUTH, "mfa_challenge"),
    "user.session.clear": (_AUTH, "session_revoked"),
    "user.session.end": (_AUTH, "session_revoked"),
    "user.account.privilege.grant": ("user_access", "role_granted"),
    "group.privilege.grant": ("user_access", "role_granted"),
    "iam.resourceset.bindings.add": ("user_access", "role_granted"),
    "system.idp.lifecycle.create": ("entity_management", "idp_created"),
    "system.idp.lifecycle.update": ("entity_management", "idp_changed"),
    "system.idp.lifecycle.activate": ("entity_management", "idp_changed"),
    "user.session.impersonation.grant": ("authorize_session", "impersonation"),
    "user.session.impersonation.initiate": ("authorize_session", "impersonation"),
}
_REFINED = frozenset(
    {
        "user.account.reset_password",
        "user.session.start",
        "user.mfa.okta_verify",
        "user.account.update_profile",
    }
)

# The class of an eventType outside the table, by its first dotted words (longest prefix first).
_PREFIX_CLASSES: tuple[tuple[str, str], ...] = (
    ("user.session.", _AUTH),
    ("user.authentication.", _AUTH),
    ("policy.evaluate_sign_on", _AUTH),
    ("user.mfa.", _AC),
    ("user.account.", _AC),
    ("user.lifecycle.", _AC),
    ("user.credential.", _AC),
    ("user.factor.", _AC),
    ("group.user_membership.", "group_management"),
    ("group.", "group_management"),
    ("iam.", "user_access"),
    ("security.", "detection_finding"),
    ("system.", "entity_management"),
    ("application.", "entity_management"),
    ("policy.", "entity_management"),
    ("zone.", "entity_management"),
    ("network_zone.", "entity_management"),
    ("device.", "entity_management"),
)
_OTHER_CACHE: dict[str, tuple[str, str]] = {}
_OTHER_CACHE_MAX = 4096

_OUTCOMES = {
    "SUCCESS": "success",
    "ALLOW": "success",
    "FAILURE": "failure",
    "DENY": "failure",
    "success": "success",
    "allow": "success",
    "failure": "failure",
    "deny": "failure",
}
_SYSTEM_ACTOR = "system@okta.com"
# Profile attributes Okta uses for account recovery (a changed one makes update_profile a
# recovery change). Compared lower-cased.
_RECOVERY_ATTRIBUTES = ("secondemail", "mobilephone", "primaryphone", "recovery")
_NO_VALUE = frozenset({"", "unknown", "Unknown", "UNKNOWN"})


def detect(raw: dict[str, Any]) -> bool:
    """An Okta ``LogEvent`` (any spelling) or an Okta event-hook delivery."""
    event_type = raw.get("eventType", _MISSING)
    if event_type is _MISSING:
        event_type = raw.get("eventtype", _MISSING)
    if event_type is not _MISSING:
        if event_type == HOOK_TYPE:
            return True
        return "uuid" in raw or "published" in raw
    if "okta.event_type" in raw or "okta.uuid" in raw:
        return True
    nested = raw.get("okta")
    if type(nested) is dict:
        return "event_type" in nested or "eventType" in nested or "uuid" in nested
    return "event_type" in raw and "uuid" in raw


def parse(raw: dict[str, Any]) -> list[Event]:
    if type(raw) is not dict:
        raise Quarantined("wrong_shape", f"an Okta record is an object, not {type(raw).__name__}")
    event_type = raw.get("eventType")
    if event_type == HOOK_TYPE or (event_type is None and raw.get("eventtype") == HOOK_TYPE):
        return _hook(raw)
    return [_event(raw)]


def _hook(raw: dict[str, Any]) -> list[Event]:
    record = Record(raw)
    events = record.get("data.events")
    if events is None:
        raise Quarantined("missing_field", "data.events")
    if type(events) is not list:
        raise Quarantined("wrong_shape", "data.events is not a list")
    out = []
    for index, item in enumerate(events):
        if type(item) is not dict:
            raise Quarantined("wrong_shape", f"data.events[{index}] is not an object")
        out.append(_event(item))
    return out


def _event(raw: dict[str, Any]) -> Event:
    """One ``LogEvent`` spelled as Okta spells it: plain dict access only.

    Containers are not type-checked one by one: a non-object where an object belongs fails on
    ``.get`` or iteration, and ``_shape_error`` then names the field (zero cost when all is well).
    """
    get = raw.get
    uuid = get("uuid")
    published = get("published")
    event_type = get("eventType")
    actor = get("actor", _MISSING)
    if uuid is None or published is None or event_type is None or actor is _MISSING:
        event = _event(_canonical(raw))
        event.raw = raw
        return event
    if type(uuid) is not str or not uuid or type(event_type) is not str or not event_type:
        _check_identity(uuid, event_type)
    when = event_time(published, "published")
    try:
        actor = actor or _EMPTY
        client = get("client") or _EMPTY
        outcome = get("outcome") or _EMPTY
        debug = (get("debugContext") or _EMPTY).get("debugData") or _EMPTY
        auth = get("authenticationContext") or _EMPTY
        geo = client.get("geographicalContext") or _EMPTY
        location = geo.get("geolocation") or _EMPTY
        user_agent = (client.get("userAgent") or _EMPTY).get("rawUserAgent")
        is_proxy = (get("securityContext") or _EMPTY).get("isProxy")

        # Targets: the first User, the first AppInstance, the authenticator, a device.
        target_user = target_id = app = factor = device = ""
        for item in get("target") or ():
            kind = item.get("type")
            if kind == "User":
                if not target_user and not target_id:
                    target_user = as_text(item.get("alternateId")).lower()
                    target_id = as_text(item.get("id"))
            elif kind == "AppInstance":
                if not app:
                    app = as_text(item.get("displayName"))
            elif kind == "AuthenticatorEnrollment" or kind == "Authenticator":
                if not factor:
                    factor = as_text(item.get("displayName"))
            elif kind == "Device" and not device:
                device = as_text(item.get("id"))

        actor_user = actor.get("alternateId")
        actor_user = actor_user.lower() if type(actor_user) is str else ""
        actor_kind = actor.get("type")
        result = outcome.get("result")
        reason = outcome.get("reason")
        src_ip = client.get("ipAddress")
        country = geo.get("country")
        city = geo.get("city")
        lat = location.get("lat")
        lon = location.get("lon")
        session = auth.get("externalSessionId")
        if not session or session == "unknown":
            session = auth.get("rootSessionId") or debug.get("rootSessionId")

        mapped = TYPES.get(event_type)
        class_name, activity = _other(event_type) if mapped is None else mapped
        extra: dict[str, Any] = {}
        if debug:
            value = debug.get("factor")
            if value:
                factor = as_text(value)
            value = debug.get("dtHash")
            if value:
                device = as_text(value)
            if activity == "role_granted":
                value = debug.get("privilegeGranted")
                if value:
                    extra["role"] = as_text(value)
    except (AttributeError, TypeError):
        problem = _shape_error(raw)
        if problem is None:
            raise
        raise problem from None

    if type(reason) is str and reason.endswith(" factor") and reason.startswith("User reset "):
        # "User reset FIDO_WEBAUTHN factor": a factor removed as part of an MFA reset (Identity
        # Engine logs one deactivation per factor instead of user.mfa.factor.reset_all).
        extra["reset"] = True
        factor = factor or reason[11:-7].strip()
    if factor:
        extra["factor"] = factor
    if actor_kind == "User":
        actor_type = "system" if actor_user == _SYSTEM_ACTOR else "human"
    elif actor_kind == "SystemPrincipal" or actor_user == _SYSTEM_ACTOR:
        actor_type = "system"
    else:
        actor_type = "service" if actor_kind else ""
    result = _OUTCOMES.get(result, "unknown") if type(result) is str else "unknown"
    if event_type in _REFINED:
        changed = ""
        if event_type == "user.account.update_profile":
            changed = as_text(debug.get("changedAttributes"))
            if changed:
                extra["changed_attributes"] = changed
        activity = _refine(event_type, activity, result, actor_user, target_user, changed)
    return Event(
        id=uuid,
        time=when,
        source=SOURCE,
        product="okta",
        service="okta",
        class_name=class_name,
        activity=activity,
        type=event_type,
        raw=raw,
        outcome=result,
        reason=reason if type(reason) is str else "",
        actor_user=actor_user,
        actor_id=as_text(actor.get("id")),
        actor_type=actor_type,
        target_user=target_user,
        target_id=target_id,
        src_ip=src_ip if type(src_ip) is str else as_text(src_ip),
        country=country if type(country) is str else as_text(country),
        city=city if type(city) is str else as_text(city),
        lat=lat if type(lat) is float else coordinate(lat, bound_text=False),
        lon=lon if type(lon) is float else coordinate(lon, bound_text=False),
        is_proxy=is_proxy if type(is_proxy) is bool else _flag(is_proxy),
        user_agent=user_agent if type(user_agent) is str else as_text(user_agent),
        device_id=device,
        session_id=_known(session),
        app=app,
        extra=extra,
    )


def _check_identity(uuid: Any, event_type: Any) -> None:
    for name, value in (("uuid", uuid), ("eventType", event_type)):
        if value == "":
            raise Quarantined("missing_field", name)
        if type(value) is not str:
            raise Quarantined("wrong_shape", f"{name} is not a string")


_CONTAINERS = (
    ("actor",),
    ("client",),
    ("outcome",),
    ("debugContext",),
    ("debugContext", "debugData"),
    ("authenticationContext",),
    ("securityContext",),
    ("client", "geographicalContext"),
    ("client", "geographicalContext", "geolocation"),
    ("client", "userAgent"),
)


def _shape_error(raw: dict[str, Any]) -> Quarantined | None:
    """Which field of a ``LogEvent`` is not the object (or list of objects) it should be."""
    for path in _CONTAINERS:
        value: Any = raw
        for key in path:
            value = value.get(key) if type(value) is dict else None
        if value and type(value) is not dict:
            return Quarantined("wrong_shape", ".".join(path) + " is not an object")
    targets = raw.get("target")
    if targets and type(targets) is not list:
        return Quarantined("wrong_shape", "target is not a list")
    for item in targets or ():
        if type(item) is not dict:
            return Quarantined("wrong_shape", "a target is not an object")
    return None


def _canonical(raw: dict[str, Any]) -> dict[str, Any]:
    """A record whose keys a pipeline rewrote, as the ``LogEvent`` Okta wrote (the fields read here)."""
    record = Record(_unprefixed(raw))
    get = record.get
    uuid = get("uuid")
    if uuid is None or uuid == "":
        raise Quarantined("missing_field", "uuid")
    event_type = get("eventType")
    if event_type is None or event_type == "":
        raise Quarantined("missing_field", "eventType")
    published = record.first("published", "@timestamp")
    if published is None:
        raise Quarantined("missing_field", "published")
    targets = get("target")
    if targets is not None and type(targets) is not list:
        raise Quarantined("wrong_shape", "target is not a list")
    canonical_targets = []
    for item in targets or ():
        if type(item) is not dict:
            raise Quarantined("wrong_shape", "a target is not an object")
        target = Record(item).get
        canonical_targets.append({key: target(key) for key in ("id", "type", "alternateId", "displayName")})
    result = get("outcome.result")
    return {
        "uuid": uuid,
        "published": published,
        "eventType": event_type,
        "actor": {key: get("actor." + key) for key in ("id", "type", "alternateId")},
        "outcome": {
            "result": result.upper() if type(result) is str else result,
            "reason": get("outcome.reason"),
        },
        "target": canonical_targets,
        "client": {
            "ipAddress": record.first("client.ipAddress", "client.ip"),
            "device": get("client.device"),
            "userAgent": {
                "rawUserAgent": record.first("client.userAgent.rawUserAgent", "user_agent.original")
            },
            "geographicalContext": {
                "country": record.first("client.geographicalContext.country", "client.geo.country_name"),
                "city": record.first("client.geographicalContext.city", "client.geo.city_name"),
                "geolocation": {
                    "lat": record.first(
                        "client.geographicalContext.geolocation.lat", "client.geo.location.lat"
                    ),
                    "lon": record.first(
                        "client.geographicalContext.geolocation.lon", "client.geo.location.lon"
                    ),
                },
            },
        },
        "securityContext": {"isProxy": get("securityContext.isProxy")},
        "authenticationContext": {
            "externalSessionId": get("authenticationContext.externalSessionId"),
            "rootSessionId": get("authenticationContext.rootSessionId"),
        },
        "debugContext": {
            "debugData": {
                key: get("debugContext.debugData." + key)
                for key in ("dtHash", "factor", "privilegeGranted", "changedAttributes", "rootSessionId")
            }
        },
    }


def _refine(event_type: str, activity: str, result: str, actor: str, target: str, changed: str) -> str:
    if event_type == "user.account.reset_password":
        return "password_change" if actor and actor == target else activity
    if event_type == "user.session.start":
        return "sign_in_failed" if result == "failure" else activity
    if event_type == "user.mfa.okta_verify":
        return "mfa_push_approved" if result == "success" else activity
    # user.account.update_profile: a recovery attribute among the changed ones.
    lowered = changed.lower()
    if lowered and any(name in lowered for name in _RECOVERY_ATTRIBUTES):
        return "recovery_change"
    return activity


def _other(event_type: str) -> tuple[str, str]:
    found = _OTHER_CACHE.get(event_type)
    if found is not None:
        return found
    class_name = "api_activity"
    for prefix, name in _PREFIX_CLASSES:
        if event_type.startswith(prefix):
            class_name = name
            break
    found = (class_name, "other")
    if len(_OTHER_CACHE) < _OTHER_CACHE_MAX:
        _OTHER_CACHE[event_type] = found
    return found


def _unprefixed(raw: dict[str, Any]) -> dict[str, Any]:
    """Filebeat's Okta module writes ``okta.<field>`` (nested or as dotted keys): drop the prefix."""
    nested = raw.get("okta")
    if type(nested) is dict:
        merged = {key: value for key, value in raw.items() if key != "okta"}
        merged.update(nested)
        return merged
    if any(type(key) is str and key.startswith("okta.") for key in raw):
        return {
            (key[5:] if type(key) is str and key.startswith("okta.") else key): v for key, v in raw.items()
        }
    return raw


def _known(value: Any) -> str:
    text = as_text(value)
    return "" if text in _NO_VALUE else text


def _flag(value: Any) -> bool | None:
    if value is True or value is False:
        return value
    if type(value) is str:
        lowered = value.lower()
        if lowered == "true":
            return True
        if lowered == "false":
            return False
    return None
