"""What the ITSM parsers (GLPI, ServiceNow, Jira Service Management, Zendesk) share.

Every ticket becomes a ``ticket_activity`` event, ``ticket_opened`` or ``ticket_updated``, with the
vendor's channel normalised to phone | email | portal | chat | walk_in | other (``""`` when the record
does not say) and ``extra["about_access"]``: the ticket's text or category is about a password, MFA,
an account, access or a phone change (the core vishing signal when the channel is phone).
"""

from __future__ import annotations

import html
import re
from typing import Any

from deskguard.detection.event import Event
from deskguard.detection.normalize._common import compact, fold
from deskguard.detection.parsing import e164, lower

CHANNELS = ("phone", "email", "portal", "chat", "walk_in", "other")

# Exact vendor values (folded: lower case, no accents, runs of space/-/_ as one "_").
_CHANNEL_VALUES: dict[str, str] = {
    # phone
    "phone": "phone",
    "telephone": "phone",
    "voice": "phone",
    "call": "phone",
    "phone_call": "phone",
    "phone_call_(incoming)": "phone",
    "phone_call_(outgoing)": "phone",
    "voicemail": "phone",
    "appel": "phone",
    "appel_telephonique": "phone",
    # e-mail
    "email": "email",
    "e_mail": "email",
    "mail": "email",
    "courriel": "email",
    # an integration, not a person
    "api": "other",
    "web_service": "other",
    "rule": "other",
    # portal: self-service, web forms, GLPI's simplified "Helpdesk" interface
    "portal": "portal",
    "self_service": "portal",
    "selfservice": "portal",
    "web": "portal",
    "web_form": "portal",
    "webform": "portal",
    "web_widget": "portal",
    "help_center": "portal",
    "helpdesk": "portal",
    "mobile": "portal",
    "mobile_sdk": "portal",
    "anonymousportal": "portal",
    "portail": "portal",
    # chat and messaging
    "chat": "chat",
    "virtual_agent": "chat",
    "messaging": "chat",
    "native_messaging": "chat",
    "sms": "chat",
    "whatsapp": "chat",
    "teams": "chat",
    "slack": "chat",
    # in person
    "walk_in": "walk_in",
    "walkin": "walk_in",
    "direct": "walk_in",
    "in_person": "walk_in",
    "desk": "walk_in",
    "guichet": "walk_in",
}

# Words that give the channel away inside a longer vendor value ("Incoming phone call", "E-Mail").
_CHANNEL_HINTS: tuple[tuple[str, str], ...] = (
    ("phone", "phone"),
    ("telephon", "phone"),
    ("voice", "phone"),
    ("call", "phone"),
    ("mail", "email"),
    ("chat", "chat"),
    ("messag", "chat"),
    ("walk", "walk_in"),
    ("portal", "portal"),
    ("self_serv", "portal"),
    ("web", "portal"),
)


def channel(value: Any) -> str:
    """A vendor's channel or source, normalised; ``""`` when absent, ``other`` when not one of ours."""
    if not isinstance(value, str) or not value.strip():
        return ""
    key = re.sub(r"[\s_\-]+", "_", fold(value.strip()))
    if key in _CHANNEL_VALUES:
        return _CHANNEL_VALUES[key]
    for hint, name in _CHANNEL_HINTS:
        if hint in key:
            return name
    return "other"


def channel_exact(value: Any) -> str:
    """A channel only when the value names one outright (for labels and select fields); else ``""``."""
    if not isinstance(value, str) or not value.strip():
        return ""
    found = _CHANNEL_VALUES.get(re.sub(r"[\s_\-]+", "_", fold(value.strip())), "")
    return found if found != "other" else ""


# About access: a small keyword list, English and French, matched on folded text (no accents) at
# word starts. Deliberately short: it flags the tickets an attacker would open, not every ticket.
_ACCESS_WORDS = (
    r"passwords?",
    r"passwd",
    r"passphrases?",
    r"mfa",
    r"2fa",
    r"otp",
    r"multi[- ]?factor",
    r"two[- ]factor",
    r"authenticator( app)?",
    r"authentication",
    r"access(es)?",
    r"accounts?",
    r"lock(ed)? ?out",
    r"unlock\w*",
    r"log ?in",
    r"sign[- ]?in",
    r"new phone",
    r"lost (my )?phone",
    r"phone (change|number)",
    r"chang\w* (my |of )?(mobile|phone)",
    r"okta verify",
    r"mot de passe",
    r"mdp",
    r"authentification",
    r"acces",
    r"comptes?",
    r"telephones?",
    r"identifiants?",
    r"connexions?",
    r"deverrouill\w*",
    r"reinitialis\w*",
)
_ACCESS = re.compile(r"\b(?:" + "|".join(_ACCESS_WORDS) + r")\b", re.IGNORECASE)
_TAG = re.compile(r"<[^>]{0,500}>")


def plain(text: str) -> str:
    """Ticket text without HTML (GLPI stores content HTML-escaped, ServiceNow and Zendesk may hold HTML)."""
    return _TAG.sub(" ", html.unescape(_TAG.sub(" ", html.unescape(text))))


def about_access(*texts: Any) -> bool:
    """The ticket speaks of a password, MFA, access, an account, a login or a phone change."""
    parts = [item for item in texts if isinstance(item, str) and item]
    for item in texts:
        if isinstance(item, list):
            parts.extend(tag.replace("_", " ") for tag in item if isinstance(tag, str))
    return bool(parts) and _ACCESS.search(fold(plain(" ".join(parts)))) is not None


def looks_like_login(value: str) -> bool:
    """A login or an e-mail rather than a display name or an opaque id."""
    if not value or any(ch.isspace() for ch in value):
        return False
    return not (len(value) == 32 and all(ch in "0123456789abcdef" for ch in value.lower()))


def ticket_event(
    *,
    source: str,
    id: str,
    time: float,
    type: str,
    raw: dict[str, Any],
    updated: bool,
    ticket_id: str,
    channel: str = "",
    category: str = "",
    claimed_identity: str = "",
    caller_number: str = "",
    target_id: str = "",
    actor_user: str = "",
    actor_id: str = "",
    text: tuple[Any, ...] = (),
    extra: dict[str, Any] | None = None,
    activity: str = "",
) -> Event:
    details = dict(extra or {})
    details["about_access"] = about_access(category, *text)
    words = " ".join(part for part in text if isinstance(part, str) and part.strip())
    if words:
        details["text"] = words[:4000]  # subject and description, for the pressure model
    claimed = lower(claimed_identity).strip()
    return Event(
        id=id,
        time=time,
        source=source,
        product="itsm",
        service=source,
        class_name="ticket_activity",
        activity=activity or ("ticket_updated" if updated else "ticket_opened"),
        type=type,
        raw=raw,
        actor_user=lower(actor_user).strip(),
        actor_id=actor_id,
        target_user=claimed,
        target_id=target_id,
        ticket_id=ticket_id,
        channel=channel,
        category=category,
        caller_number=e164(caller_number),
        claimed_identity=claimed,
        extra=compact(details),
    )
