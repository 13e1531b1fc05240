"""An IdentityProvider over LDAP (ldap3): OpenLDAP with the ppolicy overlay, or Active Directory.

Every call opens a connection, binds as the service account, acts, and unbinds: no connection is
kept between requests, so a restarted directory or a rotated password needs nothing special.

What it does (``ActionKind`` / ``ResponseAction``):

- ``reset_password``: a strong temporary password from the ``Randomness`` port, set with the RFC 3062
  password-modify extended operation (OpenLDAP) or a ``unicodePwd`` replace (Active Directory, which
  requires ldaps:// or StartTLS; ``pwdLastSet: 0`` when a change at next sign-in is asked). The
  password is returned as ``ExecutionResult.secret``, never in the summary.
- ``unlock_account``: deletes ``pwdAccountLockedTime`` only (ppolicy then clears the failure times
  itself; deleting ``pwdFailureTime`` directly is refused); ``lockoutTime: 0`` on AD.
- ``suspend_account``: ``pwdAccountLockedTime: 000001010000Z`` (locked until an administrator
  unlocks); the ACCOUNTDISABLE bit of ``userAccountControl`` on AD.
- ``grant_privilege``: adds the person to ``cn=<group>,<group base>``; the requested duration is
  recorded in the summary. LDAP has no expiring membership: deskguard ends it at expiry with
  ``revoke_privilege`` (``app.privilege_expiry``).
- ``revoke_privilege``: a ``MODIFY_DELETE`` of the person's DN from the group's member attribute;
  "not a member any more" (noSuchAttribute) and a group that is gone (noSuchObject) are successes.
- ``revoke_sessions``: LDAP has no sessions, so it is a definite ``ConnectorError`` (code
  ``action_unsupported``) rather than a silent success that would let a runbook believe the person
  was signed out. Every other catalogue action fails the same way, naming the action.

Idempotency: a key that already acted in this process returns its first result and acts no more.
The map lives in memory; a crash between acting and answering is covered by the broker's own
execution record (the request stays pending with the same key, and an operator decides).

Errors: a socket failure or a timeout is ``ConnectorTimeout`` (the outcome is unknown); a refused
service bind is ``ConnectorError("service account bind refused")``; an unknown person, a refused
write and anything else the server answers is ``ConnectorError``. Only reads are retried.
"""

from __future__ import annotations

import math
import ssl
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from typing import Any

from ldap3 import BASE, MODIFY_ADD, MODIFY_DELETE, MODIFY_REPLACE, SUBTREE, Connection, Server, Tls
from ldap3.core import exceptions as ldap_errors
from ldap3.utils.conv import escape_filter_chars
from ldap3.utils.dn import escape_rdn

from deskguard.adapters.connectors.retry import Backoff, Retryable, with_retries
from deskguard.adapters.connectors.secrets import resolve
from deskguard.adapters.idp._once import Once
from deskguard.adapters.idp.ldap_settings import LdapFlavour, LdapSettings
from deskguard.domain.actions import ActionKind, ResponseAction
from deskguard.domain.errors import ConnectorError, ConnectorTimeout
from deskguard.domain.model import Person
from deskguard.domain.ports import ExecutionResult, Health, Randomness

PASSWORD_MODIFY_OID = "1.3.6.1.4.1.4203.1.11.1"
LOCKED_FOREVER = "000001010000Z"  # ppolicy: locked until an administrator removes it
AD_ACCOUNTDISABLE = 0x2
INVALID_CREDENTIALS = 49
NO_SUCH_OBJECT, NO_SUCH_ATTRIBUTE, VALUE_EXISTS = 32, 16, 20
SIZE_LIMIT_EXCEEDED, TIME_LIMIT_EXCEEDED, BUSY, UNAVAILABLE = 4, 3, 51, 52
PERSON_ATTRIBUTES = ("mail", "uid", "cn", "displayName", "telephoneNumber", "mobile", "manager", "memberOf")

# Temporary passwords: no look-alike characters, every class present (AD complexity needs three).
_CLASSES = ("ABCDEFGHJKLMNPQRSTUVWXYZ", "abcdefghijkmnopqrstuvwxyz", "23456789", "-_.!@#%+=")
PASSWORD_LENGTH = 20

ConnectionFactory = Callable[[], Connection]
READ_BACKOFF = Backoff(attempts=3, base_s=0.2, cap_s=2.0)


@dataclass(frozen=True, slots=True, kw_only=True)
class DirectoryPerson:
    """What the directory says about a person, for the decision (numbers, manager, privilege)."""

    dn: str
    email: str
    display_name: str
    phones: tuple[tuple[str, str], ...]  # (kind, number): "office" from telephoneNumber, "mobile"
    manager_dn: str | None
    groups: tuple[str, ...]  # group DNs (memberOf, and groups under the group base naming the person)
    privileged_groups: tuple[str, ...]  # those under the group base

    @property
    def privileged(self) -> bool:
        return bool(self.privileged_groups)


def temporary_password(random: Randomness, length: int = PASSWORD_LENGTH) -> str:
    """``length`` characters from ``Randomness`` with at least one of each class, shuffled."""
    chars = [c[random.randbelow(len(c))] for c in _CLASSES]
    every = "".join(_CLASSES)
    chars += [every[random.randbelow(len(every))] for _ in range(length - len(chars))]
    for i in range(len(chars) - 1, 0, -1):  # Fisher-Yates with the injected randomness
        j = random.randbelow(i + 1)
        chars[i], chars[j] = chars[j], chars[i]
    return "".join(chars)


class LdapIdentityProvider:
    name = "ldap"

    def __init__(
        self,
        settings: LdapSettings,
        *,
        randomness: Randomness,
        connection_factory: ConnectionFactory | None = None,
        backoff: Backoff = READ_BACKOFF,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self._settings = settings
        self._random = randomness
        self._password = resolve(settings.bind_password, field="ldap.bind_password")
        self._factory = connection_factory or self._connection
        self._backoff, self._sleep = backoff, sleep
        self._once = Once()  # a repeated idempotency key returns the first result, acting once

    # --- the port ---------------------------------------------------------------------------------
    def execute(
        self,
        *,
        tenant_id: str,
        person: Person,
        kind: ActionKind | ResponseAction,
        params: dict[str, Any],
        idempotency_key: str,
    ) -> ExecutionResult:
        act = self._actions().get(str(kind))
        if act is None:
            raise ConnectorError(self._unsupported(str(kind)), code="action_unsupported")

        def run() -> ExecutionResult:
            with self._session() as conn:
                return act(conn, self._find(conn, self._identifier(person))["dn"], params)

        return self._once.run(idempotency_key, run)

    def health(self) -> Health:
        """Bind, read the RootDSE, and say whether password modify (RFC 3062) is offered."""
        try:
            with self._session() as conn:
                conn.search("", "(objectClass=*)", BASE, attributes=["supportedExtension", "vendorName"])
                self._check(conn, "read the RootDSE")
                entries = _entries(conn)
        except (ConnectorError, ConnectorTimeout) as exc:
            return Health(ok=False, detail=exc.message)
        root = entries[0]["attributes"] if entries else {}
        extensions = {str(x) for x in root.get("supportedExtension", [])}
        modify = PASSWORD_MODIFY_OID in extensions
        ok = modify or self._settings.flavour == LdapFlavour.ACTIVE_DIRECTORY
        return Health(
            ok=ok,
            detail=f"bound to {self._settings.url} as {self._settings.bind_dn}; "
            f"password modify {PASSWORD_MODIFY_OID} {'supported' if modify else 'NOT supported'}",
        )

    # --- reads for the decision ---------------------------------------------------------------------
    def read_person(self, identifier: str) -> DirectoryPerson:
        """The person whose ``user_attribute`` equals ``identifier`` (their e-mail by default).
        Retried on timeouts and on a busy server: a read is safe to repeat."""
        return with_retries(
            lambda: self._read_person(identifier), idempotent=True, backoff=self._backoff, sleep=self._sleep
        )

    def _read_person(self, identifier: str) -> DirectoryPerson:
        with self._session() as conn:
            entry = self._find(conn, identifier)
            dn, attrs = entry["dn"], entry["attributes"]
            member = f"({self._settings.group_member_attribute}={escape_filter_chars(dn)})"
            conn.search(self._settings.groups_base, member, SUBTREE, attributes=["cn"])
            self._check(conn, "search the groups", allow=(NO_SUCH_OBJECT,), retryable=True)
            privileged = tuple(e["dn"] for e in _entries(conn))
        phones = tuple(("office", str(n)) for n in _values(attrs, "telephoneNumber")) + tuple(
            ("mobile", str(n)) for n in _values(attrs, "mobile")
        )
        member_of = tuple(str(g) for g in _values(attrs, "memberOf"))
        managers = _values(attrs, "manager")
        return DirectoryPerson(
            dn=dn,
            email=str(next(iter(_values(attrs, "mail")), "")),
            display_name=str(next(iter(_values(attrs, "displayName") or _values(attrs, "cn")), "")),
            phones=phones,
            manager_dn=str(managers[0]) if managers else None,
            groups=tuple(dict.fromkeys(member_of + privileged)),
            privileged_groups=tuple(
                dict.fromkeys(
                    g
                    for g in member_of + privileged
                    if g.lower().endswith(self._settings.groups_base.lower())
                )
            ),
        )

    # --- actions --------------------------------------------------------------------------------------
    def _actions(self) -> dict[str, Callable[[Connection, str, dict[str, Any]], ExecutionResult]]:
        return {
            ActionKind.RESET_PASSWORD.value: self._reset_password,
            ActionKind.UNLOCK_ACCOUNT.value: self._unlock,
            ResponseAction.SUSPEND_ACCOUNT.value: self._suspend,
            ActionKind.GRANT_PRIVILEGE.value: self._grant,
            ResponseAction.REVOKE_PRIVILEGE.value: self._revoke,
        }

    def _unsupported(self, kind: str) -> str:
        if kind == ActionKind.REVOKE_SESSIONS:
            return "revoke_sessions: LDAP has no sessions to revoke; sign-outs belong to the SSO provider"
        return f"{kind}: not supported by the LDAP connector"

    @property
    def _ad(self) -> bool:
        return self._settings.flavour == LdapFlavour.ACTIVE_DIRECTORY

    def _reset_password(self, conn: Connection, dn: str, params: dict[str, Any]) -> ExecutionResult:
        password = temporary_password(self._random)
        force = bool(params.get("force_change_at_next_sign_in", True))
        if self._ad:
            changes: dict[str, Any] = {
                "unicodePwd": [(MODIFY_REPLACE, [f'"{password}"'.encode("utf-16-le")])]
            }
            if force:
                changes["pwdLastSet"] = [(MODIFY_REPLACE, ["0"])]
            conn.modify(dn, changes)
            method = "unicodePwd"
        else:
            conn.extend.standard.modify_password(user=dn, new_password=password)
            method = "rfc3062"
        self._check(conn, "set the password")
        return ExecutionResult(
            summary={"password_changed": True, "force_change": force, "method": method, "dn": dn},
            secret=password,
            secret_kind="temporary_password",
        )

    def _unlock(self, conn: Connection, dn: str, params: dict[str, Any]) -> ExecutionResult:
        if self._ad:
            conn.modify(dn, {"lockoutTime": [(MODIFY_REPLACE, ["0"])]})
            self._check(conn, "unlock the account")
            return ExecutionResult(summary={"unlocked": True, "dn": dn})
        conn.modify(dn, {"pwdAccountLockedTime": [(MODIFY_DELETE, [])]})
        code = self._check(conn, "unlock the account", allow=(NO_SUCH_ATTRIBUTE,))
        return ExecutionResult(summary={"unlocked": True, "was_locked": code == 0, "dn": dn})

    def _suspend(self, conn: Connection, dn: str, params: dict[str, Any]) -> ExecutionResult:
        if self._ad:
            conn.search(dn, "(objectClass=*)", BASE, attributes=["userAccountControl"])
            self._check(conn, "read userAccountControl")
            found = _entries(conn)
            flags = (
                int(next(iter(_values(found[0]["attributes"], "userAccountControl")), 512)) if found else 512
            )
            conn.modify(dn, {"userAccountControl": [(MODIFY_REPLACE, [str(flags | AD_ACCOUNTDISABLE)])]})
        else:
            conn.modify(dn, {"pwdAccountLockedTime": [(MODIFY_REPLACE, [LOCKED_FOREVER])]})
        self._check(conn, "suspend the account")
        return ExecutionResult(summary={"suspended": True, "dn": dn})

    def _grant(self, conn: Connection, dn: str, params: dict[str, Any]) -> ExecutionResult:
        group = str(params["group"])
        group_dn = self._group_dn(group)
        conn.modify(group_dn, {self._settings.group_member_attribute: [(MODIFY_ADD, [dn])]})
        code = self._check(conn, f"add to group {group}", allow=(VALUE_EXISTS,))
        return ExecutionResult(
            summary={
                "group_added": group,
                "group_dn": group_dn,
                "already_member": code == VALUE_EXISTS,
                "duration_minutes": params["duration_minutes"],
                "expiry": "revoked by deskguard at expiry; LDAP membership does not expire by itself",
            }
        )

    def _revoke(self, conn: Connection, dn: str, params: dict[str, Any]) -> ExecutionResult:
        group = str(params["group"])
        group_dn = self._group_dn(group)
        conn.modify(group_dn, {self._settings.group_member_attribute: [(MODIFY_DELETE, [dn])]})
        code = self._check(conn, f"remove from group {group}", allow=(NO_SUCH_ATTRIBUTE, NO_SUCH_OBJECT))
        return ExecutionResult(
            summary={"group_removed": group, "group_dn": group_dn, "was_member": code == 0}
        )

    def _group_dn(self, group: str) -> str:
        return f"cn={escape_rdn(group)},{self._settings.groups_base}"

    # --- plumbing ---------------------------------------------------------------------------------------
    def _identifier(self, person: Person) -> str:
        return person.email if self._settings.match_on == "email" else person.employee_id

    def _find(self, conn: Connection, identifier: str) -> dict[str, Any]:
        s = self._settings
        query = f"(&{s.user_filter}({s.user_attribute}={escape_filter_chars(identifier)}))"
        conn.search(s.base_dn, query, SUBTREE, attributes=list(PERSON_ATTRIBUTES), size_limit=2)
        self._check(conn, "search the person", allow=(SIZE_LIMIT_EXCEEDED,))
        found = _entries(conn)
        if not found:
            raise ConnectorError(f"no directory entry with {s.user_attribute}={identifier} under {s.base_dn}")
        if len(found) > 1:
            raise ConnectorError(f"several directory entries have {s.user_attribute}={identifier}")
        return found[0]

    def _connection(self) -> Connection:
        s = self._settings
        tls = None
        if s.use_ssl or s.start_tls:
            tls = Tls(
                validate=ssl.CERT_REQUIRED,
                version=ssl.PROTOCOL_TLS_CLIENT,
                ca_certs_file=str(s.ca_file) if s.ca_file else None,
            )
        server = Server(
            s.url, use_ssl=s.use_ssl, tls=tls, connect_timeout=s.connect_timeout_s, get_info="NO_INFO"
        )
        return Connection(
            server,
            user=s.bind_dn,
            password=self._password,
            receive_timeout=max(1, math.ceil(s.operation_timeout_s)),  # ldap3 packs it as whole seconds
            raise_exceptions=False,
            auto_bind="NONE",
        )

    @contextmanager
    def _session(self) -> Iterator[Connection]:
        """An open connection bound as the service account; ldap3's exceptions mapped to ours."""
        conn: Connection | None = None
        try:
            conn = self._factory()
            conn.open()
            if self._settings.start_tls and not conn.start_tls():
                raise ConnectorError(f"StartTLS refused by {self._settings.url}: {_describe(conn)}")
            if not conn.bind():
                if conn.result and conn.result.get("result") == INVALID_CREDENTIALS:
                    raise ConnectorError("service account bind refused", code="ldap_bind_refused")
                self._check(conn, "bind as the service account")
                raise ConnectorError(f"service account bind failed: {_describe(conn)}")
            yield conn
        except (
            ldap_errors.LDAPCommunicationError,
            ldap_errors.LDAPResponseTimeoutError,
            TimeoutError,
        ) as exc:
            raise ConnectorTimeout(
                f"LDAP {self._settings.url} did not answer or could not be reached ({exc})"
            ) from None
        except ldap_errors.LDAPStartTLSError as exc:
            raise ConnectorError(f"StartTLS with {self._settings.url} failed ({exc})") from None
        except ldap_errors.LDAPException as exc:
            raise ConnectorError(f"LDAP error: {type(exc).__name__}: {exc}") from None
        finally:
            if conn is not None and conn.bound:
                with suppress(ldap_errors.LDAPException):
                    conn.unbind()

    def _check(
        self, conn: Connection, what: str, *, allow: tuple[int, ...] = (), retryable: bool = False
    ) -> int:
        """The result code of the last operation when it is 0 or allowed; else the mapped error."""
        code = int((conn.result or {}).get("result", 0))
        if code == 0 or code in allow:
            return code
        message = f"LDAP refused to {what}: {_describe(conn)}"
        if code == TIME_LIMIT_EXCEEDED:
            raise ConnectorTimeout(message)
        if code in (BUSY, UNAVAILABLE) and retryable:
            raise Retryable(message)
        if code == INVALID_CREDENTIALS:
            raise ConnectorError("service account bind refused", code="ldap_bind_refused")
        raise ConnectorError(message, details={"ldap_result": code})


def _entries(conn: Connection) -> list[dict[str, Any]]:
    return [r for r in (conn.response or []) if r.get("type") == "searchResEntry"]


def _values(attrs: dict[str, Any], name: str) -> list[Any]:
    value = attrs.get(name)
    if value is None:
        return []
    return list(value) if isinstance(value, list | tuple) else [value]


def _describe(conn: Connection) -> str:
    result = conn.result or {}
    text = f"{result.get('result', '?')} {result.get('description', '')}".strip()
    return f"{text} ({result['message']})" if result.get("message") else text
