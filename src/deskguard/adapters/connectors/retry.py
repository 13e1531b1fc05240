"""Retries with capped exponential back-off and jitter, for calls that are safe to repeat.

Only idempotent calls are retried (a read, or a write carrying the connector's idempotency key):
the caller says so. A ``Retry-After`` the server gave (429, 503) is honoured when it is longer
than the back-off. When every attempt timed out the last ``ConnectorTimeout`` is raised: the
outcome is unknown and the request stays pending, never "probably done".
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

from deskguard.domain.errors import ConnectorBusy, ConnectorError, ConnectorTimeout

T = TypeVar("T")


class Retryable(ConnectorBusy):
    """A refusal worth trying again (429, 5xx): ``retry_after`` seconds when the server said."""

    def __init__(self, message: str, *, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


@dataclass(frozen=True, slots=True)
class Backoff:
    attempts: int = 3
    base_s: float = 0.5
    cap_s: float = 8.0
    max_retry_after_s: float = 30.0  # a longer Retry-After is not waited for: the call fails

    def delay(self, attempt: int, *, rng: random.Random | None = None) -> float:
        """Before attempt ``attempt + 1``: base x 2^(attempt-1), capped, with full jitter."""
        ceiling = min(self.cap_s, self.base_s * 2 ** (attempt - 1))
        return (rng or random).uniform(ceiling / 2, ceiling)


def with_retries(
    call: Callable[[], T],
    *,
    idempotent: bool,
    backoff: Backoff = Backoff(),
    sleep: Callable[[float], None] = time.sleep,
) -> T:
    """``call()``, tried again on timeouts and retryable refusals when ``idempotent``."""
    attempts = backoff.attempts if idempotent else 1
    for attempt in range(1, attempts + 1):
        try:
            return call()
        except Retryable as exc:
            if attempt == attempts:
                raise ConnectorBusy(str(exc)) from None  # still a ConnectorError; a later try may pass
            wait = backoff.delay(attempt)
            if exc.retry_after is not None:
                if exc.retry_after > backoff.max_retry_after_s:
                    raise ConnectorError(f"{exc} (Retry-After {exc.retry_after:.0f} s is too long)") from None
                wait = max(wait, exc.retry_after)
            sleep(wait)
        except ConnectorTimeout:
            if attempt == attempts:
                raise
            sleep(backoff.delay(attempt))
    raise AssertionError("unreachable")  # pragma: no cover
