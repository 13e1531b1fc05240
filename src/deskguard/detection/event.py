"""The normalised event: one shape for every source, aligned with OCSF, keeping the raw event.

Parsers (``detection.normalize``) build it; Sigma rules with ``logsource: product: deskguard`` and
the built-in analytics read it; rules written for a vendor's log read ``raw``. Field names follow
OCSF where it has one (``class_name``, ``activity``, ``actor.user``, ``user`` for the target,
``src_endpoint.ip``...); ``Event.get`` resolves those dotted names, so a rule can say either
``target_user`` or ``user``.

Times are epoch seconds (UTC, float): cheap to compare and to window.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from deskguard.detection.parsing import Record

# OCSF classes deskguard uses (class_uid: name). Tickets and calls have no OCSF class of their own:
# they are carried as "ticket_activity" and "call_activity" with deskguard uids above 90000.
CLASSES: dict[str, int] = {
    "account_change": 3001,
    "authentication": 3002,
    "authorize_session": 3003,
    "entity_management": 3004,
    "user_access": 3005,
    "group_management": 3006,
    "api_activity": 6003,
    "detection_finding": 2004,
    "ticket_activity": 90001,
    "call_activity": 90002,
    "helpdesk_action": 90003,
}

# The activity vocabulary: what happened, whatever the vendor called it. Content rules written on
# the normalised model match these values, so one rule covers Okta, Entra and Google Workspace.
ACTIVITIES: frozenset[str] = frozenset(
    {
        # account changes
        "password_reset",  # by someone else (admin, helpdesk, deskguard)
        "password_change",  # by the user themselves
        "account_unlock",
        "account_enable",
        "recovery_change",  # recovery e-mail or phone changed
        "mfa_reset",  # all factors reset
        "mfa_factor_removed",
        "mfa_factor_enrolled",
        "mfa_disabled",  # per-user or org-wide strong authentication turned off
        "device_enrolled",
        "temporary_access_pass",
        "role_granted",
        "idp_created",  # a new identity provider or federation
        "idp_changed",
        "session_revoked",
        "impersonation",  # support access or "log in as user"
        # authentication
        "sign_in",
        "sign_in_failed",
        "sso",  # access to an application
        "mfa_push_denied",
        "mfa_push_approved",
        "mfa_challenge",
        # helpdesk side
        "ticket_opened",
        "ticket_updated",
        "call_received",
        "voice_scored",  # a synthetic-voice detector's verdict on a call
        "request_opened",
        "request_decided",
        "request_executing",  # deskguard is about to call the connector (the IdP may log first)
        "request_executed",
        "request_failed",
        "request_cancelled",
        "proof_started",
        "proof_succeeded",
        "proof_failed",
        "knowledge_recorded",
        "approval_granted",
        "approval_denied",
        "grant_requested",
        "grant_approved",
        "grant_used",
        "action_disputed",  # a person reported a helpdesk action on their account as not them
        "other",
    }
)


@dataclass(slots=True, kw_only=True)
class Event:
    """One normalised event. Strings are "" when unknown; numbers and flags are None."""

    id: str  # the source event's own id (Okta uuid, Entra id, ticket number...)
    time: float  # epoch seconds, UTC
    source: str  # okta, entra, gworkspace, glpi, servicenow, jsm, zendesk, telephony, twilio, deskguard
    product: str  # Sigma logsource product of the raw event: okta, azure, gcp, itsm, telephony, deskguard
    service: str  # Sigma logsource service: okta, auditlogs, signinlogs, google_workspace.admin...
    class_name: str  # a key of CLASSES
    activity: str  # a member of ACTIVITIES
    type: str  # the vendor's own event type (eventType, operationName, event name...)
    raw: dict[str, Any]
    tenant: str = ""
    outcome: str = "unknown"  # success | failure | unknown
    reason: str = ""
    actor_user: str = ""  # login or e-mail, lower-cased
    actor_id: str = ""
    actor_type: str = ""  # human | service | system | operator | person
    target_user: str = ""  # the person the event is about, login or e-mail, lower-cased
    target_id: str = ""
    src_ip: str = ""
    country: str = ""  # ISO 3166 alpha-2 when the source gives it, else the name it gives
    city: str = ""
    lat: float | None = None
    lon: float | None = None
    is_proxy: bool | None = None  # anonymising proxy / Tor: the source says so, or networks.yml does
    # the network of src_ip, from the geo lookup (``detection.geo``) when it ran
    network: str = ""  # the AS organisation name: "GOOGLE", "Scaleway S.a.s.", "Orange"
    asn: int | None = None  # the AS number, when a MaxMind ASN database is configured
    is_hosting: bool | None = None  # a hosting or cloud provider (networks.yml)
    user_agent: str = ""
    device_id: str = ""
    session_id: str = ""
    app: str = ""  # the application signed in to or accessed
    # helpdesk and telephony
    ticket_id: str = ""
    channel: str = ""  # phone, email, portal, chat, walk_in
    category: str = ""
    caller_number: str = ""  # E.164 when it can be normalised
    claimed_identity: str = ""  # who the caller or requester said they were (login/e-mail)
    attestation: str = ""  # STIR/SHAKEN A, B, C, or "failed"
    extra: dict[str, Any] = field(default_factory=dict)  # source-specific normalised details
    # The raw event's fields as Sigma rules for this source name them, when the record itself does
    # not spell them so (Google's Reports API keeps ``eventName`` and parameters in nested lists).
    # It is read first: Sentinel's ``Category`` of an Azure audit is ``properties.category``, not the
    # record's top-level ``category`` ("AuditLogs").
    view: dict[str, Any] | None = None
    _record: Record | None = field(default=None, repr=False, compare=False)
    _view: Record | None = field(default=None, repr=False, compare=False)

    def raw_field(self, path: str) -> Any:
        """A field of the raw event, as the vendor spells it or as a pipeline rewrote it."""
        if self.view is not None:
            if self._view is None:
                self._view = Record(self.view)
            value = self._view.get(path)
            if value is not None:
                return value
        if self._record is None:
            self._record = Record(self.raw)
        return self._record.get(path)

    @property
    def class_uid(self) -> int:
        return CLASSES.get(self.class_name, 0)

    def get(self, path: str) -> Any:
        """A field of the normalised model by name (``activity``), OCSF alias or ``extra.<key>``."""
        attr = _ALIASES.get(path, path)
        if attr in _FIELDS:
            return getattr(self, attr)
        if attr.startswith("extra."):
            value: Any = self.extra
            for part in attr[6:].split("."):
                if not isinstance(value, dict):
                    return None
                value = value.get(part)
            return value
        return self.extra.get(attr)

    def entities(self) -> dict[str, str]:
        """The entities an alert on this event names: non-empty ones only."""
        pairs = {
            "user": self.target_user,
            "actor": self.actor_user,
            "ip": self.src_ip,
            "caller_number": self.caller_number,
            "ticket": self.ticket_id,
            "session": self.session_id,
            "action": self.extra.get("action_kind") or "",  # the helpdesk action kind (deskguard's events)
        }
        return {key: value for key, value in pairs.items() if value}


_FIELDS = (frozenset(Event.__dataclass_fields__) - {"_record", "_view", "view", "raw"}) | {"class_uid"}
_ALIASES = {
    "user": "target_user",
    "user.name": "target_user",
    "user.uid": "target_id",
    "actor.user": "actor_user",
    "actor.user.name": "actor_user",
    "actor.user.uid": "actor_id",
    "actor.user.type": "actor_type",
    "src_endpoint.ip": "src_ip",
    "src_endpoint.location.country": "country",
    "src_endpoint.location.city": "city",
    "src_endpoint.location.lat": "lat",
    "src_endpoint.location.long": "lon",
    "src_endpoint.autonomous_system.name": "network",
    "src_endpoint.autonomous_system.number": "asn",
    "http_request.user_agent": "user_agent",
    "device.uid": "device_id",
    "session.uid": "session_id",
    "metadata.uid": "id",
    "metadata.product.name": "source",
    "status": "outcome",
    "status_detail": "reason",
    "activity_name": "activity",
    "type_name": "type",
}
