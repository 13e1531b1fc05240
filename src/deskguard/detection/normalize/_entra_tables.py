"""Entra ID's vocabulary: activity names, categories and codes, mapped onto deskguard's model."""

from __future__ import annotations

AC, AUTH, UA, EM = "account_change", "authentication", "user_access", "entity_management"

# activityDisplayName (lower-cased) -> (class_name, activity). "update user" and a few others are refined
# from their modified properties in ``_audit_activity``.
AUDIT_ACTIVITIES: dict[str, tuple[str, str]] = {
    "reset user password": (AC, "password_reset"),
    "reset password (by admin)": (AC, "password_reset"),
    "change user password": (AC, "password_change"),
    "reset password (self-service)": (AC, "password_change"),
    "change password (self-service)": (AC, "password_change"),
    "unlock user account (self-service)": (AC, "account_unlock"),
    "enable account": (AC, "account_enable"),
    "user registered security info": (AC, "mfa_factor_enrolled"),
    "admin registered security info": (AC, "mfa_factor_enrolled"),
    "user registered all required security info": (AC, "mfa_factor_enrolled"),
    "admin updated security info": (AC, "recovery_change"),
    "user deleted security info": (AC, "mfa_factor_removed"),
    "admin deleted security info": (AC, "mfa_factor_removed"),
    "create temporary access pass method for user": (AC, "temporary_access_pass"),
    "disable strong authentication": (AC, "mfa_disabled"),
    "register device": (AC, "device_enrolled"),
    "add device": (AC, "device_enrolled"),
    "add registered owner to device": (AC, "device_enrolled"),
    "add registered users to device": (AC, "device_enrolled"),
    "add member to role": (UA, "role_granted"),
    "add eligible member to role": (UA, "role_granted"),
    "add scoped member to role": (UA, "role_granted"),
    "add unverified domain": (EM, "idp_created"),
    "add identity provider": (EM, "idp_created"),
    "update identity provider": (EM, "idp_changed"),
    "set federation settings on domain": (EM, "idp_changed"),
    "set domain authentication": (EM, "idp_changed"),
    "revoke user sessions": (AUTH, "session_revoked"),
    "invalidate all refresh tokens for a user": (AUTH, "session_revoked"),
    "update user": (AC, "other"),
}
# PIM and scoped variants: "Add member to role in PIM completed (permanent)", "Add eligible member
# (permanent)", "Add member to role completed (PIM activation)"...
ROLE_PREFIXES = ("add member to role", "add eligible member", "add scoped member to role")
CATEGORY_CLASSES = {
    "usermanagement": AC,
    "rolemanagement": UA,
    "groupmanagement": "group_management",
    "device": EM,
    "devicemanagement": EM,
    "directorymanagement": EM,
    "policy": EM,
    "applicationmanagement": EM,
    "authentication": AUTH,
}
# "Update user" modified properties that say what changed.
RECOVERY_PROPERTIES = frozenset(
    {
        "strongauthenticationuserdetails",
        "strongauthenticationmethod",
        "strongauthenticationphoneappdetail",
        "strongauthenticationalternativephonenumber",
        "strongauthenticationphonenumber",
        "strongauthenticationemailaddress",
        "searchableaddresses",
    }
)
MFA_REQUIREMENT = "strongauthenticationrequirement"
SESSION_PROPERTY = "stsrefreshtokensvalidfrom"

AUDIT_CATEGORY = "auditlogs"
SIGNIN_CATEGORIES = frozenset(
    {
        "signinlogs",
        "noninteractiveusersigninlogs",
        "serviceprincipalsigninlogs",
        "managedidentitysigninlogs",
        "adfssigninlogs",
    }
)
SERVICE_SIGNINS = frozenset({"serviceprincipalsigninlogs", "managedidentitysigninlogs"})
# Entra ID categories a diagnostic setting can stream besides audits and sign-ins, and the Sigma
# service their events belong to.
OTHER_CATEGORIES = {
    "userriskevents": "riskdetection",
    "riskyusers": "riskyusers",
    "riskyserviceprincipals": "riskyserviceprincipals",
    "serviceprincipalriskevents": "riskdetection",
    "provisioninglogs": "provisioninglogs",
    "microsoftgraphactivitylogs": "microsoftgraphactivitylogs",
}
# Sign-in error codes that are a step of a sign-in (MFA asked for), not a failed one.
MFA_INTERRUPTS = frozenset({50074, 50076})
MFA_FAILED = 500121
OUTCOMES = {"success": "success", "failure": "failure", "0": "success"}
ANONYMOUS_RISKS = frozenset({"anonymizedipaddress", "anonymousipaddress"})
