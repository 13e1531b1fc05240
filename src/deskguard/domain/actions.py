"""The catalogue of sensitive helpdesk actions, each with a risk tier and a typed parameter schema.

The catalogue is the single place that says which actions exist. The policy refers to actions by
``ActionKind``; the API validates parameters with the schema here before anything is written.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import IntEnum, StrEnum
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from deskguard.domain.errors import NotFound, ValidationFailed

E164 = re.compile(r"^\+[1-9]\d{6,14}$")
EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


class ActionKind(StrEnum):
    RESET_PASSWORD = "reset_password"
    UNLOCK_ACCOUNT = "unlock_account"
    CHANGE_RECOVERY_EMAIL = "change_recovery_email"
    CHANGE_PHONE = "change_phone"
    RESET_MFA = "reset_mfa"
    REMOVE_FACTOR = "remove_factor"
    ENROLL_FACTOR = "enroll_factor"
    ISSUE_TEMPORARY_ACCESS_PASS = "issue_temporary_access_pass"
    REVOKE_SESSIONS = "revoke_sessions"
    GRANT_PRIVILEGE = "grant_privilege"


class ResponseAction(StrEnum):
    """Connector actions only response runbooks ask for (``app.respond``), never agents.

    Deliberately not ``ActionKind``: they are not in ``CATALOGUE``, so no helpdesk request, policy
    action, decision preview or just-in-time grant can name them.
    """

    SUSPEND_ACCOUNT = "suspend_account"
    # Ends a ``grant_privilege`` once its duration has passed (``app.privilege_expiry``); params
    # ``{"group": <the granted group>}``. Removing a membership already gone is a success.
    REVOKE_PRIVILEGE = "revoke_privilege"


class RiskTier(IntEnum):
    LOW = 1
    MEDIUM = 2
    HIGH = 3
    CRITICAL = 4

    @property
    def label(self) -> str:
        return self.name.lower()


class _Params(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class NoParams(_Params):
    pass


class ResetPasswordParams(_Params):
    force_change_at_next_sign_in: bool = True
    deliver_to: Literal["verified_channel", "agent"] = "verified_channel"


class ChangeRecoveryEmailParams(_Params):
    new_email: str = Field(max_length=254)

    @field_validator("new_email")
    @classmethod
    def _email(cls, v: str) -> str:
        if not EMAIL.match(v):
            raise ValueError("must be an e-mail address")
        return v.lower()


class ChangePhoneParams(_Params):
    new_number: str = Field(max_length=16)
    kind: Literal["mobile", "office"] = "mobile"

    @field_validator("new_number")
    @classmethod
    def _e164(cls, v: str) -> str:
        if not E164.match(v):
            raise ValueError("must be an E.164 number such as +33612345678")
        return v


class RemoveFactorParams(_Params):
    factor_id: str = Field(min_length=1, max_length=64)


class EnrollFactorParams(_Params):
    kind: Literal["totp", "webauthn", "portal_push"]
    label: str = Field(min_length=1, max_length=80)


class TemporaryAccessPassParams(_Params):
    lifetime_minutes: int = Field(default=60, ge=10, le=480)
    one_time: bool = True
    deliver_to: Literal["verified_channel", "agent"] = "verified_channel"


class GrantPrivilegeParams(_Params):
    group: str = Field(min_length=1, max_length=128)
    duration_minutes: int = Field(ge=15, le=480)


@dataclass(frozen=True, slots=True)
class ActionSpec:
    kind: ActionKind
    tier: RiskTier
    params: type[_Params]
    summary: str
    produces_secret: bool = False


CATALOGUE: dict[ActionKind, ActionSpec] = {
    s.kind: s
    for s in (
        ActionSpec(
            ActionKind.RESET_PASSWORD,
            RiskTier.HIGH,
            ResetPasswordParams,
            "Set a temporary password",
            produces_secret=True,
        ),
        ActionSpec(ActionKind.UNLOCK_ACCOUNT, RiskTier.LOW, NoParams, "Unlock a locked account"),
        ActionSpec(
            ActionKind.CHANGE_RECOVERY_EMAIL,
            RiskTier.HIGH,
            ChangeRecoveryEmailParams,
            "Change the recovery e-mail address",
        ),
        ActionSpec(
            ActionKind.CHANGE_PHONE, RiskTier.HIGH, ChangePhoneParams, "Change a registered phone number"
        ),
        ActionSpec(ActionKind.RESET_MFA, RiskTier.CRITICAL, NoParams, "Remove every MFA factor"),
        ActionSpec(ActionKind.REMOVE_FACTOR, RiskTier.CRITICAL, RemoveFactorParams, "Remove one MFA factor"),
        ActionSpec(
            ActionKind.ENROLL_FACTOR,
            RiskTier.CRITICAL,
            EnrollFactorParams,
            "Enrol a new trusted device or factor",
        ),
        ActionSpec(
            ActionKind.ISSUE_TEMPORARY_ACCESS_PASS,
            RiskTier.CRITICAL,
            TemporaryAccessPassParams,
            "Issue a temporary access pass",
            produces_secret=True,
        ),
        ActionSpec(ActionKind.REVOKE_SESSIONS, RiskTier.LOW, NoParams, "Sign the person out everywhere"),
        ActionSpec(
            ActionKind.GRANT_PRIVILEGE,
            RiskTier.CRITICAL,
            GrantPrivilegeParams,
            "Add to a privileged group for a limited time",
        ),
    )
}


def spec_for(kind: str) -> ActionSpec:
    try:
        return CATALOGUE[ActionKind(kind)]
    except ValueError:
        known = ", ".join(sorted(k.value for k in ActionKind))
        raise NotFound(
            f"unknown action {kind!r}; known actions: {known}", code="unknown_action", field="kind"
        ) from None


def validate_params(kind: ActionKind, raw: dict[str, Any] | None) -> dict[str, Any]:
    """Validate and normalise an action's parameters; the error names the first bad field."""
    spec = CATALOGUE[kind]
    try:
        model = spec.params.model_validate(raw or {})
    except ValidationError as exc:
        first = exc.errors()[0]
        loc = ".".join(str(p) for p in first["loc"]) or "params"
        raise ValidationFailed(
            f"params.{loc}: {first['msg']}",
            field=f"params.{loc}",
            details={"errors": exc.errors(include_url=False, include_context=False)},
        ) from None
    return model.model_dump(mode="json")
