"""The sequence model: how unusual a person's chain of account changes is for their tenant.

A chain is one person's account changes in a row, each within ``window`` of the previous one:
``password_reset -> mfa_reset -> mfa_factor_enrolled``. The model is a first-order Markov chain
per tenant: the likelihood of each step given the one before, learned from every change the
tenant has seen (a change that no other follows counts towards the chain ending there), on top of
a cold-start prior (``prior``: pseudo-counts such as ``mfa_reset>mfa_factor_enrolled: 10`` for the
transitions a helpdesk sees every day, and ``password_reset>end: 40`` for changes that usually
stand alone, so that a new tenant does not alert on a lost-phone reset) and additive smoothing
``alpha`` over the steps and the end. A chain of at least ``min_steps`` whose likelihood is under ``p_below``
is reported with the probability of each step and the counts behind it.

The same change seen twice (deskguard executes it, then the identity provider logs it) counts as
one step: a step equal to the one before is folded into it.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

from deskguard.detection.alerts import RuleMeta, clock
from deskguard.detection.analytics.base import Analytic, AnalyticError, Bounded, Finding, user_of
from deskguard.detection.event import Event

# deskguard's executions, named as the identity-provider activity they cause
EXECUTED = {
    "reset_password": "password_reset",
    "unlock_account": "account_unlock",
    "reset_mfa": "mfa_reset",
    "remove_factor": "mfa_factor_removed",
    "enroll_factor": "mfa_factor_enrolled",
    "issue_temporary_access_pass": "temporary_access_pass",
    "change_phone": "recovery_change",
    "change_recovery_email": "recovery_change",
    "grant_privilege": "role_granted",
}
STEPS = frozenset(
    {
        "password_reset",
        "account_unlock",
        "recovery_change",
        "mfa_reset",
        "mfa_factor_removed",
        "mfa_factor_enrolled",
        "device_enrolled",
        "mfa_disabled",
        "temporary_access_pass",
        "role_granted",
    }
)
MAX_CHAIN = 8


class SequenceModel(Analytic):
    kind = "sequence"
    learned = ("_transitions", "_chains")  # chains too: a restart mid-chain loses nothing

    def __init__(self, meta: RuleMeta, params: dict[str, Any]) -> None:
        super().__init__(meta, params)
        self.check_unknown(("window", "min_steps", "p_below", "alpha", "prior"))
        self.window = self.duration("window", "1h")
        self.min_steps = int(self.number("min_steps", 3))
        self.p_below = self.number("p_below", 0.01)
        self.alpha = self.number("alpha", 0.5)
        self.prior = self._prior(self.param("prior", {}))
        self.activities = STEPS | {"request_executed"}
        self._transitions: Bounded = Bounded()  # tenant -> {"from>to": count, "from>": total from}
        self._chains: Bounded = Bounded()  # (tenant, user) -> [[step, time, event id], ...], alerted

    @staticmethod
    def _prior(value: Any) -> dict[str, float]:
        if not isinstance(value, dict):
            raise AnalyticError("params.prior: expected a mapping of 'from>to' to a pseudo-count")
        prior: dict[str, float] = {}
        for pair, count in value.items():
            parts = str(pair).split(">")
            if len(parts) != 2 or parts[0] not in STEPS or parts[1] not in STEPS | {"end"}:
                raise AnalyticError(
                    f"params.prior: {pair!r} is not 'step>step' or 'step>end' with steps among "
                    f"{', '.join(sorted(STEPS))}"
                )
            if isinstance(count, bool) or not isinstance(count, int | float) or count < 0:
                raise AnalyticError(f"params.prior.{pair}: expected a pseudo-count >= 0, got {count!r}")
            prior[str(pair)] = float(count)
            prior[f"{parts[0]}>"] = prior.get(f"{parts[0]}>", 0.0) + float(count)
        return prior

    def observe(self, event: Event) -> list[Finding]:
        user = user_of(event)
        if not user or event.outcome == "failure":
            return []
        step = event.activity
        if step == "request_executed":
            step = EXECUTED.get(str(event.extra.get("kind") or ""), "")
            if not step:
                return []
        key = (event.tenant, user)
        state = self._chains.get(key)
        if state is None or event.time - state[0][-1][1] > self.window or event.time < state[0][-1][1]:
            state = [[], False]
            self._chains.put(key, state)
        chain: list[list[Any]] = state[0]
        if chain and chain[-1][0] == step:  # the same change, seen again (deskguard, then the IdP)
            chain[-1][1] = event.time
            return []
        counts = self._transitions.get(event.tenant)
        if counts is None:
            counts = {}
            self._transitions.put(event.tenant, counts)
        counts[f"{step}>"] = counts.get(f"{step}>", 0) + 1  # every change: what follows it, if anything
        if chain:
            pair = f"{chain[-1][0]}>{step}"
            counts[pair] = counts.get(pair, 0) + 1
        chain.append([step, event.time, event.id])
        if len(chain) > MAX_CHAIN:
            del chain[0]
        if len(chain) < self.min_steps or state[1]:
            return []
        probability, details = self._likelihood(counts, [item[0] for item in chain])
        if probability >= self.p_below:
            return []
        state[1] = True  # one finding per chain
        minutes = (chain[-1][1] - chain[0][1]) / 60
        text = (
            f"{' -> '.join(item[0] for item in chain)} for {user} from {clock(chain[0][1])} to "
            f"{clock(event.time)} ({minutes:.0f} min): likelihood {probability:.1e} in this tenant's "
            f"learned model (under {self.p_below:g}); {'; '.join(details)}"
        )
        ids = tuple(item[2] for item in chain)
        return [Finding(event.entities(), ids, chain[0][1], event.time, text)]

    def _likelihood(self, counts: dict[str, int], steps: list[str]) -> tuple[float, list[str]]:
        """P(chain) = product of P(next | previous), each learned + prior + alpha smoothing."""
        probability = 1.0
        details = []
        smoothing = self.alpha * (len(STEPS) + 1)  # the next step, or the end of the chain
        pairs = list(zip(steps, steps[1:], strict=False))
        # the counts include this chain's own changes: it is judged against the others
        own = Counter(f"{a}>{b}" for a, b in pairs) + Counter(f"{a}>" for a in steps)
        for previous, step in pairs:
            pair = f"{previous}>{step}"
            seen = counts.get(pair, 0) - own[pair]
            total = counts.get(f"{previous}>", 0) - own[f"{previous}>"]
            p = (seen + self.prior.get(pair, 0.0) + self.alpha) / (
                total + self.prior.get(f"{previous}>", 0.0) + smoothing
            )
            probability *= p
            details.append(f"{previous} -> {step} {p:.3f} ({seen} of {total} {previous} seen)")
        return probability, details
