"""An in-memory identity provider: the demo's directory and the reference for the IdP contract.

It keeps accounts per (tenant, person), honours idempotency keys (a retried execution returns the
first result and changes nothing twice), and can be told to fail or time out (before acting, or
after acting with the answer lost), so the fail-closed and retry paths are testable.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import Any

from deskguard.domain.actions import ActionKind, ResponseAction
from deskguard.domain.errors import ConnectorError, ConnectorTimeout
from deskguard.domain.model import FactorKind, Person
from deskguard.domain.ports import ExecutionResult, Health, Randomness


@dataclass
class _Account:
    password_generation: int = 0
    locked: bool = False
    factors: set[str] = field(default_factory=set)
    sessions_revoked: int = 0
    suspended: bool = False
    suspensions: int = 0  # how many times a suspension acted (idempotency keeps it at one per step)
    groups: set[str] = field(default_factory=set)
    recovery_email: str = ""
    phones: list[str] = field(default_factory=list)


class FakeIdentityProvider:
    name = "fake"

    def __init__(self, *, randomness: Randomness) -> None:
        self._random = randomness
        self._accounts: dict[tuple[str, str], _Account] = {}
        self._results: dict[str, ExecutionResult] = {}
        self._lock = threading.Lock()
        # (tenant, person, kind, idempotency key) of every call, answered or not
        self.calls: list[tuple[str, str, ActionKind | ResponseAction, str]] = []
        self.fail_next: str | None = None  # message of a definite failure to raise once
        self.timeout_next = False
        self.timeouts = 0  # the next N calls time out before acting
        self.lost_answers = 0  # the next N calls act, then time out: the answer is lost

    def account(self, *, tenant_id: str, person_id: str) -> _Account:
        return self._accounts.setdefault((tenant_id, person_id), _Account())

    def execute(
        self,
        *,
        tenant_id: str,
        person: Person,
        kind: ActionKind | ResponseAction,
        params: dict[str, Any],
        idempotency_key: str,
    ) -> ExecutionResult:
        with self._lock:
            self.calls.append((tenant_id, person.id, kind, idempotency_key))
            if self.timeout_next or self.timeouts:
                self.timeout_next, self.timeouts = False, max(0, self.timeouts - 1)
                raise ConnectorTimeout("fake identity provider did not answer in time")
            if self.fail_next is not None:
                message, self.fail_next = self.fail_next, None
                raise ConnectorError(message)
            if idempotency_key in self._results:
                return self._results[idempotency_key]
            account = self._accounts.setdefault(
                (tenant_id, person.id),
                _Account(
                    factors={f.id for f in person.factors if f.kind != FactorKind.RECOVERY_EMAIL},
                    groups=set(person.groups),
                    phones=[p.number for p in person.phones],
                ),
            )
            result = self._apply(account, kind=kind, params=params)
            self._results[idempotency_key] = result
            if self.lost_answers:
                self.lost_answers -= 1
                raise ConnectorTimeout("fake identity provider acted but its answer was lost")
            return result

    def _apply(
        self, account: _Account, *, kind: ActionKind | ResponseAction, params: dict[str, Any]
    ) -> ExecutionResult:
        match kind:
            case ResponseAction.SUSPEND_ACCOUNT:
                account.suspended = True
                account.suspensions += 1
                account.sessions_revoked += 1  # a suspended account keeps no session
                return ExecutionResult(summary={"suspended": True})
            case ActionKind.RESET_PASSWORD:
                account.password_generation += 1
                return ExecutionResult(
                    summary={
                        "password_changed": True,
                        "force_change": params["force_change_at_next_sign_in"],
                    },
                    secret=self._random.token(12),
                    secret_kind="temporary_password",
                )
            case ActionKind.UNLOCK_ACCOUNT:
                account.locked = False
                return ExecutionResult(summary={"unlocked": True})
            case ActionKind.CHANGE_RECOVERY_EMAIL:
                account.recovery_email = params["new_email"]
                return ExecutionResult(summary={"recovery_email_changed": True})
            case ActionKind.CHANGE_PHONE:
                account.phones = [params["new_number"]]
                return ExecutionResult(summary={"phone_changed": True})
            case ActionKind.RESET_MFA:
                removed = len(account.factors)
                account.factors.clear()
                return ExecutionResult(summary={"factors_removed": removed})
            case ActionKind.REMOVE_FACTOR:
                if params["factor_id"] not in account.factors:
                    raise ConnectorError(f"factor {params['factor_id']} is not enrolled")
                account.factors.discard(params["factor_id"])
                return ExecutionResult(summary={"factor_removed": params["factor_id"]})
            case ActionKind.ENROLL_FACTOR:
                factor_id = self._random.new_id("fac")
                account.factors.add(factor_id)
                return ExecutionResult(summary={"factor_enrolled": factor_id, "kind": params["kind"]})
            case ActionKind.ISSUE_TEMPORARY_ACCESS_PASS:
                return ExecutionResult(
                    summary={"lifetime_minutes": params["lifetime_minutes"], "one_time": params["one_time"]},
                    secret=self._random.token(9),
                    secret_kind="temporary_access_pass",
                )
            case ActionKind.REVOKE_SESSIONS:
                account.sessions_revoked += 1
                return ExecutionResult(summary={"sessions_revoked": True})
            case ActionKind.GRANT_PRIVILEGE:
                account.groups.add(params["group"])
                return ExecutionResult(
                    summary={"group_added": params["group"], "duration_minutes": params["duration_minutes"]}
                )
            case ResponseAction.REVOKE_PRIVILEGE:
                was_member = params["group"] in account.groups
                account.groups.discard(params["group"])
                return ExecutionResult(summary={"group_removed": params["group"], "was_member": was_member})
        raise ConnectorError(f"action {kind} not supported")  # pragma: no cover - enum is exhaustive

    def health(self) -> Health:
        return Health(ok=True, detail=f"{len(self._accounts)} accounts in memory")
