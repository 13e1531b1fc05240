"""Per-process idempotency for the real identity-provider adapters: key -> first result.

The broker gives every execution an idempotency key and retries with the same key when it is not
sure an execution ran (a crash, a lost answer). Okta and Graph take no idempotency key, so the
adapter remembers what each key produced and answers a repeated key with the first result without
calling the vendor again (as ``FakeIdentityProvider`` does). Only successes are remembered: a
refusal or a timeout leaves the key free, so the broker can try again. The record lives in this
process only; after a restart the broker's own state (the request stays pending on a timeout) is
what prevents acting twice.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Mapping
from typing import Any

from deskguard.domain.actions import ActionKind, ResponseAction
from deskguard.domain.errors import ConnectorError
from deskguard.domain.model import Person
from deskguard.domain.ports import ExecutionResult

MAX_KEYS = 10_000


class Once:
    """Runs ``act`` at most once per key (concurrent callers with one key wait for the first)."""

    def __init__(self, *, max_keys: int = MAX_KEYS) -> None:
        self._results: OrderedDict[str, ExecutionResult] = OrderedDict()
        self._locks: dict[str, threading.Lock] = {}
        self._guard = threading.Lock()
        self._max = max_keys

    def run(self, key: str, act: Callable[[], ExecutionResult]) -> ExecutionResult:
        with self._guard:
            lock = self._locks.setdefault(key, threading.Lock())
        with lock:
            with self._guard:
                if key in self._results:
                    return self._results[key]
            result = act()
            with self._guard:
                self._results[key] = result
                while len(self._results) > self._max:  # oldest keys first: retries come soon after
                    self._results.popitem(last=False)
                self._locks.pop(key, None)
            return result


Handler = Callable[[Person, dict[str, Any]], ExecutionResult]


class DispatchingProvider:
    """The port's ``execute`` for the SaaS identity providers: one handler per action kind, run at
    most once per idempotency key; an action the vendor cannot do is a ``ConnectorError`` naming it."""

    vendor: str

    def __init__(self) -> None:
        self._once = Once()

    def _handlers(self) -> Mapping[ActionKind | ResponseAction, Handler]:  # pragma: no cover - abstract
        raise NotImplementedError

    def execute(
        self,
        *,
        tenant_id: str,
        person: Person,
        kind: ActionKind | ResponseAction,
        params: dict[str, Any],
        idempotency_key: str,
    ) -> ExecutionResult:
        handler = self._handlers().get(kind)
        if handler is None:
            raise ConnectorError(f"{self.vendor} connector does not support the action {kind}")
        return self._once.run(idempotency_key, lambda: handler(person, params))
