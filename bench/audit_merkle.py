"""Benchmark: the pure Merkle core of the evidence ledger (deskguard.audit.merkle), in memory.

Prints ONE JSON line on stdout (progress on stderr). The ledger will keep the same perfect-subtree
hashes in SQL; this measures the hashing and proof logic alone, with no storage cost:

- ``appends_per_s``: appending ``leaves`` records (300-byte stand-ins for canonical JSON records)
  into ``MemoryNodes``, i.e. leaf hash + the completed parents + their writes, per record.
- ``proof_ms_at_1m``: median of inclusion-proof generation *plus* verification against the root, for
  ``samples`` seeded random leaves of the full log (the issue's target at 1M leaves: <= 1 ms).
- ``consistency_ms``: median of consistency-proof generation plus verification from a random
  earlier size to the full size (the earlier roots are read before timing starts).
- ``recompute_root_s``: hashing every record again and folding the root with ``CompactRange`` from
  scratch, no stored node used: the offline re-verification of a bundle of that many records
  (target at 1M: <= 20 s). The result must equal the stored root, or the run fails (exit 1).
- ``peak_rss_mb``: the process's peak resident memory (the store is one bytearray per level,
  about 64 bytes per leaf).

Run: ``.venv/bin/python bench/audit_merkle.py [--quick]`` (``--quick``: 10,000 leaves, for smoke tests).
"""

from __future__ import annotations

import argparse
import json
import platform
import random
import resource
import statistics
import sys
import time

from deskguard.audit.merkle import (
    CompactRange,
    MemoryNodes,
    consistency_proof,
    inclusion_proof,
    leaf_hash,
    root_hash,
    verify_consistency,
    verify_inclusion,
)

FULL_LEAVES = 1_000_000
QUICK_LEAVES = 10_000
_TEMPLATE = (
    b'{"action":"mfa_reset","operator":"op_%08d","outcome":"executed",' + b'"x":"' + b"a" * 220 + b'"}'
)


def record(index: int) -> bytes:
    return _TEMPLATE % index


def _median_ms(samples: list[float]) -> float:
    return round(statistics.median(samples) * 1000, 4)


def _time_appends(log: MemoryNodes, leaves: int) -> float:
    started = time.perf_counter()
    for index in range(leaves):
        log.append(record(index))
        if index % 200_000 == 199_999:
            print(f"appended {index + 1:,}", file=sys.stderr)
    return time.perf_counter() - started


def _time_inclusion(log: MemoryNodes, rng: random.Random, samples: int) -> list[float]:
    size = log.size
    root = root_hash(log, size=size)
    timings = []
    for index in (rng.randrange(size) for _ in range(samples)):
        started = time.perf_counter()
        proof = inclusion_proof(log, index=index, size=size)
        verify_inclusion(leaf_hash=log.node(0, index), index=index, size=size, proof=proof, root=root)
        timings.append(time.perf_counter() - started)
    return timings


def _time_consistency(log: MemoryNodes, rng: random.Random, samples: int) -> list[float]:
    size2 = log.size
    root2 = root_hash(log, size=size2)
    earlier = [
        (size1, root_hash(log, size=size1)) for size1 in (rng.randrange(1, size2) for _ in range(samples))
    ]
    timings = []
    for size1, root1 in earlier:
        started = time.perf_counter()
        proof = consistency_proof(log, size1=size1, size2=size2)
        verify_consistency(size1=size1, size2=size2, root1=root1, root2=root2, proof=proof)
        timings.append(time.perf_counter() - started)
    return timings


def _recompute_root(leaves: int) -> tuple[float, bytes]:
    started = time.perf_counter()
    compact = CompactRange()
    for index in range(leaves):
        compact.append(leaf_hash(record(index)))
    return time.perf_counter() - started, compact.root()


def main(leaves: int = FULL_LEAVES, samples: int = 1000) -> dict[str, object]:
    rng = random.Random(9162)
    log = MemoryNodes()
    append_s = _time_appends(log, leaves)
    inclusion = _time_inclusion(log, rng, samples)
    consistency = _time_consistency(log, rng, samples)
    recompute_s, root = _recompute_root(leaves)
    if root != root_hash(log, size=leaves):
        print("recomputed root differs from the stored-node root", file=sys.stderr)
        raise SystemExit(1)
    result: dict[str, object] = {
        "leaves": leaves,
        "appends_per_s": round(leaves / append_s),
        "proof_ms_at_1m": _median_ms(inclusion),
        "consistency_ms": _median_ms(consistency),
        "recompute_root_s": round(recompute_s, 3),
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
        "python": platform.python_version(),
    }
    print(json.dumps(result))
    return result


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--quick", action="store_true", help=f"{QUICK_LEAVES:,} leaves instead of {FULL_LEAVES:,}"
    )
    args = parser.parse_args()
    main(QUICK_LEAVES if args.quick else FULL_LEAVES)
