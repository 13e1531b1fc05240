"""What every analytic shares: parameters read with clear errors, bounded state, findings."""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, ClassVar

from deskguard.detection.alerts import RuleMeta
from deskguard.detection.event import Event

RECOVERY = frozenset(
    {
        "password_reset",
        "mfa_reset",
        "mfa_factor_removed",
        "temporary_access_pass",
        "recovery_change",
        "account_unlock",
    }
)
SIGN_INS = frozenset({"sign_in", "sso"})
MAX_KEYS = 100_000


class AnalyticError(ValueError):
    """A content file configures an analytic wrongly; the message names the parameter."""


@dataclass(frozen=True, slots=True)
class Finding:
    entities: dict[str, str]
    event_ids: tuple[str, ...]
    first_seen: float
    last_seen: float
    explanation: str


class Bounded(OrderedDict[Any, Any]):
    """A dict that forgets its least recently written keys beyond ``limit``.

    An ``OrderedDict``, not a plain dict: deleting a plain dict's first key again and again leaves
    dead slots that every later ``next(iter(d))`` walks over, quadratic once the bound is reached.
    """

    def __init__(self, limit: int = MAX_KEYS) -> None:
        super().__init__()
        self.limit = limit

    def put(self, key: Any, value: Any) -> None:
        self[key] = value
        self.move_to_end(key)
        if len(self) > self.limit:
            self.popitem(last=False)


def _duration(value: Any, name: str) -> float:
    if isinstance(value, int | float) and value > 0:
        return float(value)
    if isinstance(value, str) and len(value) > 1 and value[:-1].isdigit():
        unit = {"s": 1, "m": 60, "h": 3600, "d": 86400}.get(value[-1])
        if unit:
            return float(int(value[:-1]) * unit)
    raise AnalyticError(f"params.{name}: expected a duration such as 30m, 2h or 1d, got {value!r}")


class Analytic:
    """Base: parameters read with defaults; subclasses say which activities they watch.

    ``learned`` names the ``Bounded`` attributes that hold what the analytic learned over weeks
    (baselines): they are exported and restored (``export``/``restore``), so that a restart keeps
    them and a replay can rebuild them. Their values are JSON values (lists, dicts with string
    keys, numbers, strings); keys are strings or tuples of strings. Short-lived state (a window
    of minutes) is not persisted: a restart loses at most that window.
    """

    kind: ClassVar[str]
    learned: ClassVar[tuple[str, ...]] = ()
    activities: frozenset[str]
    meta: RuleMeta

    def __init__(self, meta: RuleMeta, params: dict[str, Any]) -> None:
        self.meta = meta
        self._params = dict(params)

    def fresh(self) -> Analytic:
        """The same analytic with no state: each engine learns on its own (content is shared)."""
        return type(self)(self.meta, self._params)

    def param(self, name: str, default: Any) -> Any:
        return self._params.get(name, default)

    def duration(self, name: str, default: str) -> float:
        return _duration(self._params.get(name, default), name)

    def number(self, name: str, default: float) -> float:
        value = self._params.get(name, default)
        if isinstance(value, bool) or not isinstance(value, int | float) or value <= 0:
            raise AnalyticError(f"params.{name}: expected a positive number, got {value!r}")
        return float(value)

    def names(self, name: str, default: Iterable[str]) -> frozenset[str]:
        value = self._params.get(name, list(default))
        if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
            raise AnalyticError(f"params.{name}: expected a list of strings, got {value!r}")
        return frozenset(item.lower() for item in value)

    def check_unknown(self, known: Iterable[str]) -> None:
        unknown = sorted(set(self._params) - set(known))
        if unknown:
            raise AnalyticError(f"params: unknown parameter(s) {', '.join(unknown)} for {self.kind}")

    def observe(self, event: Event) -> list[Finding]:  # pragma: no cover - abstract
        raise NotImplementedError

    def export(self) -> dict[str, list[list[Any]]]:
        """The learned state as JSON values: per attribute, its ``[key, value]`` pairs, oldest first."""
        out: dict[str, list[list[Any]]] = {}
        for name in self.learned:
            table: Bounded = getattr(self, name)
            out[name] = [
                [list(key) if isinstance(key, tuple) else key, self.encode(name, value)]
                for key, value in table.items()
            ]
        return out

    def encode(self, name: str, value: Any) -> Any:
        """One learned value as JSON values (an analytic holding other types overrides the pair)."""
        return value

    def decode(self, name: str, value: Any) -> Any:
        return value

    def restore(self, state: dict[str, Any]) -> int:
        """Replace the learned state with an export's; returns how many keys it restored.

        Raises ``AnalyticError`` naming the attribute when the export does not have the shape."""
        restored = 0
        for name in self.learned:
            pairs = state.get(name, [])
            if not isinstance(pairs, list):
                raise AnalyticError(f"state.{name}: expected a list of [key, value] pairs")
            table: Bounded = getattr(self, name)
            table.clear()
            for pair in pairs:
                if not isinstance(pair, list) or len(pair) != 2:
                    raise AnalyticError(f"state.{name}: expected [key, value] pairs, got {pair!r:.80}")
                key = tuple(pair[0]) if isinstance(pair[0], list) else pair[0]
                table.put(key, self.decode(name, pair[1]))
                restored += 1
        return restored


def user_of(event: Event) -> str:
    return event.target_user or event.actor_user
