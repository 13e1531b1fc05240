"""Sigma for deskguard: standard rules compiled to fast predicates, and correlation rules run on them.

- ``compile``: ``load_rules(paths)`` / ``load_rules_text(text)`` -> ``LoadResult`` (rules,
  correlations, unsupported with reasons);
- ``model``: ``CompiledRule``, ``CompiledCorrelation``, ``logsource_matches``, ``dispatch_value``;
- ``correlate``: ``Correlator`` (event_count, value_count, temporal, temporal_ordered);
- ``store``: the ``CorrelationStore`` port and ``MemoryCorrelationStore``.
"""

from deskguard.detection.sigma.compile import compile_rule, load_rules, load_rules_text, rule_files
from deskguard.detection.sigma.correlate import CorrelationHit, Correlator, Evidence
from deskguard.detection.sigma.model import (
    CompiledCorrelation,
    CompiledRule,
    CorrelationCondition,
    LoadResult,
    Unsupported,
    dispatch_value,
    logsource_matches,
)
from deskguard.detection.sigma.store import CorrelationStore, MemoryCorrelationStore

__all__ = [
    "CompiledCorrelation",
    "CompiledRule",
    "CorrelationCondition",
    "CorrelationHit",
    "CorrelationStore",
    "Correlator",
    "Evidence",
    "LoadResult",
    "MemoryCorrelationStore",
    "Unsupported",
    "compile_rule",
    "dispatch_value",
    "load_rules",
    "load_rules_text",
    "logsource_matches",
    "rule_files",
]
