"""The LDAP connector's settings: where the directory is, how deskguard binds, how people are found.

The service password is a ``SecretRef`` (``env://NAME`` or ``file:///path``), never inline; it is
resolved once, when the connector is built. Active Directory only accepts password writes over an
encrypted connection, so the ``active_directory`` flavour requires ``ldaps://`` or StartTLS.
"""

from __future__ import annotations

import re
from enum import StrEnum
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from deskguard.adapters.connectors.secrets import SecretRef

ATTRIBUTE = re.compile(r"^[A-Za-z][A-Za-z0-9-]{0,63}$")


class LdapFlavour(StrEnum):
    OPENLDAP = "openldap"
    ACTIVE_DIRECTORY = "active_directory"


class LdapSettings(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    url: str = Field(description="ldap://host:port or ldaps://host:port")
    bind_dn: str = Field(min_length=1, description="the service account deskguard binds as")
    bind_password: SecretRef = Field(description="env://NAME or file:///path, never the password itself")
    base_dn: str = Field(min_length=1, description="where people are searched (subtree)")
    user_attribute: str = Field(default="mail", description="the attribute that identifies a person")
    match_on: Literal["email", "employee_id"] = Field(
        default="email", description="which Person field is compared with user_attribute"
    )
    user_filter: str = Field(default="(objectClass=person)", description="ANDed with the match")
    group_base_dn: str = Field(default="", description="privilege groups live here; empty: base_dn")
    group_member_attribute: str = "member"
    connect_timeout_s: float = Field(default=5.0, gt=0, le=120)
    operation_timeout_s: float = Field(default=10.0, gt=0, le=300)
    ca_file: Path | None = None  # PEM bundle trusted for ldaps:// and StartTLS; None: the system store
    start_tls: bool = False
    flavour: LdapFlavour = LdapFlavour.OPENLDAP

    @field_validator("url")
    @classmethod
    def _url(cls, v: str) -> str:
        if not v.startswith(("ldap://", "ldaps://")) or v.rstrip("/") in ("ldap:", "ldaps:"):
            raise ValueError("must be ldap://host[:port] or ldaps://host[:port]")
        return v.rstrip("/")  # ldap3 reads the port up to the end: "ldap://h:389/" would not parse

    @field_validator("user_attribute", "group_member_attribute")
    @classmethod
    def _attribute(cls, v: str) -> str:
        if not ATTRIBUTE.match(v):
            raise ValueError(f"{v!r} is not an LDAP attribute name")
        return v

    @field_validator("user_filter")
    @classmethod
    def _filter(cls, v: str) -> str:
        if not (v.startswith("(") and v.endswith(")")):
            raise ValueError("must be a parenthesised LDAP filter such as (objectClass=person)")
        return v

    @model_validator(mode="after")
    def _ad_needs_encryption(self) -> LdapSettings:
        encrypted = self.url.startswith("ldaps://") or self.start_tls
        if self.flavour == LdapFlavour.ACTIVE_DIRECTORY and not encrypted:
            raise ValueError("active_directory sets passwords only over ldaps:// or StartTLS")
        if self.url.startswith("ldaps://") and self.start_tls:
            raise ValueError("start_tls is for ldap:// URLs; ldaps:// is already encrypted")
        return self

    @property
    def groups_base(self) -> str:
        return self.group_base_dn or self.base_dn

    @property
    def use_ssl(self) -> bool:
        return self.url.startswith("ldaps://")
