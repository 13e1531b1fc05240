"""The composition of the ticketing connector (part of the composition root, beside
``bootstrap.py``): which ``Ticketing`` adapter comments and opens the runbooks' tickets.

``ticketing_vendor`` chooses ServiceNow, Jira Service Management, Zendesk or GLPI; unset, none is
built and ``bootstrap`` keeps the fake. Settings are checked here and the secrets resolved, so a
wrong URL or a missing secret stops the start with the field's name.
"""

from __future__ import annotations

from pydantic import ValidationError

from deskguard.adapters.ticketing._base import TicketingSettings
from deskguard.adapters.ticketing.glpi import GlpiTicketing
from deskguard.adapters.ticketing.jsm import JsmTicketing
from deskguard.adapters.ticketing.servicenow import ServiceNowTicketing
from deskguard.adapters.ticketing.zendesk import ZendeskTicketing
from deskguard.domain.errors import ConfigurationError
from deskguard.domain.ports import Ticketing
from deskguard.settings import Settings

ADAPTERS = {
    "servicenow": ServiceNowTicketing,
    "jsm": JsmTicketing,
    "zendesk": ZendeskTicketing,
    "glpi": GlpiTicketing,
}


def ticketing(settings: Settings) -> Ticketing | None:
    vendor = settings.ticketing_vendor
    if not vendor:
        return None
    try:
        chosen = TicketingSettings(
            vendor=vendor,  # type: ignore[arg-type]  # the Settings pattern admits only these
            url=settings.ticketing_url,
            username=settings.ticketing_username,
            token=settings.ticketing_token,
            app_token=settings.ticketing_app_token or None,
            auth=settings.ticketing_auth,  # type: ignore[arg-type]
            comment_field=settings.ticketing_comment_field,  # type: ignore[arg-type]
            service_desk_id=settings.ticketing_service_desk_id,
            request_type_id=settings.ticketing_request_type_id,
            resolved_state=settings.ticketing_resolved_state,
        )
    except ValidationError as exc:
        first = exc.errors()[0]
        field = f"ticketing_{first['loc'][0]}" if first["loc"] else "ticketing_url"
        raise ConfigurationError(f"DESKGUARD_{field.upper()}: {first['msg']}", field=field) from None
    return ADAPTERS[vendor](chosen)
