"""RFC 9162 (Certificate Transparency v2) §2.1 Merkle trees over stored perfect-subtree hashes.

The ledger keeps one append-only log per tenant. Besides each leaf it stores the hash of every
*perfect* subtree, keyed ``(level, index)``: level 0 holds the leaf hashes and node ``(l, i)`` covers
leaves ``[i * 2**l, (i + 1) * 2**l)``. A log of n leaves has fewer than 2n such nodes, and every
root, inclusion proof and consistency proof RFC 9162 defines is a fold of O(log n) of them, so
nothing here ever rehashes the log.

Each operation runs in three steps, so that a SQL reader answers with ONE query:

1. compute, purely from sizes and indexes, which node keys it needs (``*_keys`` functions);
2. fetch them all at once with ``NodeReader.nodes``;
3. hash them together (a small postfix program, see ``_plan``).

Appending is the mirror image: ``nodes_completed_by_append`` returns the level-0 hash of the new
leaf plus every parent it completes (on average 2 rows to insert per append), reading only the
left siblings of those parents. The verifiers need no reader at all: they are what a client, an
auditor or ``deskguard audit verify DIR`` runs on a bundle, with no database.

Choices where the corpus (transparency-dev/merkle) encodes Go-specific behaviour:

- Every hash handed to a verifier (leaf, roots, proof entries) must be exactly 32 bytes, even when
  the sizes would make it irrelevant: a naive RFC verifier accepts an empty leaf hash equal to an
  empty root.
- Consistency with equal sizes: the proof must be empty and the two roots equal *and* 32 bytes long
  (Go accepts equal roots of any length; we do not, for the rule above).
- Consistency from size 0 (to 0 or to n) is always refused: the empty tree's root is a constant, so
  such a "proof" checks nothing, and accepting it would let a caller believe it checked something.
  ``consistency_proof`` refuses to produce one for the same reason.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from typing import Protocol

HASH_SIZE = 32
EMPTY_ROOT = hashlib.sha256(b"").digest()

NodeKey = tuple[int, int]
# A postfix program: a key pushes that stored node, None pops (left, right) and pushes their parent.
_Program = list[NodeKey | None]


class ProofError(ValueError):
    """A proof, root or size that does not check out; ``code`` is stable, the message says why."""

    def __init__(self, message: str, *, code: str) -> None:
        super().__init__(message)
        self.code = code


class NodeReader(Protocol):
    """Read access to one log's stored perfect-subtree hashes; a missing node raises ``KeyError``."""

    def node(self, level: int, index: int) -> bytes: ...

    def nodes(self, keys: Sequence[NodeKey]) -> Sequence[bytes]:
        """The hashes of ``keys``, in the same order (one round-trip: every function here calls this)."""
        ...


def leaf_hash(data: bytes) -> bytes:
    """RFC 9162 leaf hash: SHA-256(0x00 || data); the prefix keeps leaves and nodes apart."""
    return hashlib.sha256(b"\x00" + data).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    """RFC 9162 interior node hash: SHA-256(0x01 || left || right)."""
    return hashlib.sha256(b"\x01" + left + right).digest()


def _split(n: int) -> int:
    """The largest power of two strictly below ``n`` (n >= 2): where RFC 9162's MTH splits D[n]."""
    return 1 << ((n - 1).bit_length() - 1)


def _plan(start: int, end: int, program: _Program) -> None:
    """Append the program computing MTH(D[start:end]) from perfect nodes, following the MTH split.

    A range that is itself a perfect, aligned subtree is one stored node. Ranges met in roots and
    proofs start on a multiple of their top power of two, so they decompose into at most log2(n)
    nodes; an unaligned range (only reachable through ``subtree_hash``) may cost up to O(n) reads.
    """
    n = end - start
    if n & (n - 1) == 0 and start % n == 0:
        level = n.bit_length() - 1
        program.append((level, start >> level))
        return
    k = _split(n)
    _plan(start, start + k, program)
    _plan(start + k, end, program)
    program.append(None)


def _programs(ranges: Iterable[tuple[int, int]]) -> list[_Program]:
    programs: list[_Program] = []
    for start, end in ranges:
        program: _Program = []
        _plan(start, end, program)
        programs.append(program)
    return programs


def _keys(programs: Iterable[_Program]) -> list[NodeKey]:
    # dict.fromkeys deduplicates while keeping first-use order, so readers see a stable query.
    return list(dict.fromkeys(step for program in programs for step in program if step is not None))


def _run(programs: list[_Program], reader: NodeReader) -> list[bytes]:
    keys = _keys(programs)
    fetched = dict(zip(keys, reader.nodes(keys), strict=True))
    results: list[bytes] = []
    for program in programs:
        stack: list[bytes] = []
        for step in program:
            if step is None:
                right = stack.pop()
                stack.append(node_hash(stack.pop(), right))
            else:
                stack.append(fetched[step])
        results.append(stack[0])
    return results


def _inclusion_ranges(index: int, size: int) -> list[tuple[int, int]]:
    """The subtrees whose hashes form PATH(index, D[size]) (RFC 9162 §2.1.3.1), deepest first."""
    if not 0 <= index < size:
        raise ValueError(f"leaf index {index} is not in a tree of size {size}")
    ranges: list[tuple[int, int]] = []
    lo, hi = 0, size
    while hi - lo > 1:
        mid = lo + _split(hi - lo)
        if index < mid:
            ranges.append((mid, hi))
            hi = mid
        else:
            ranges.append((lo, mid))
            lo = mid
    ranges.reverse()
    return ranges


def _consistency_ranges(size1: int, size2: int) -> list[tuple[int, int]]:
    """The subtrees whose hashes form PROOF(size1, D[size2]) (RFC 9162 §2.1.4.1), deepest first."""
    if not 0 < size1 <= size2:
        raise ValueError(f"no consistency proof from size {size1} to size {size2} (need 0 < size1 <= size2)")
    ranges: list[tuple[int, int]] = []
    lo, hi, whole = 0, size2, True  # ``whole``: SUBPROOF's b, "D[lo:hi] is the old tree's own root"
    while size1 - lo != hi - lo:
        mid = lo + _split(hi - lo)
        if size1 <= mid:
            ranges.append((mid, hi))
            hi = mid
        else:
            ranges.append((lo, mid))
            lo, whole = mid, False
    if not whole:
        ranges.append((lo, hi))
    ranges.reverse()
    return ranges


def root_keys(*, size: int) -> list[NodeKey]:
    """The perfect nodes whose fold is the root of a tree of ``size`` leaves (one per set bit)."""
    return subtree_keys(start=0, end=size) if size else []


def subtree_keys(*, start: int, end: int) -> list[NodeKey]:
    """The perfect nodes needed for MTH(D[start:end])."""
    if not 0 <= start < end:
        raise ValueError(f"empty or negative leaf range [{start}, {end})")
    return _keys(_programs([(start, end)]))


def inclusion_keys(*, index: int, size: int) -> list[NodeKey]:
    """The perfect nodes needed for the inclusion proof of leaf ``index`` in a tree of ``size``."""
    return _keys(_programs(_inclusion_ranges(index, size)))


def consistency_keys(*, size1: int, size2: int) -> list[NodeKey]:
    """The perfect nodes needed for the consistency proof from ``size1`` to ``size2``."""
    return _keys(_programs(_consistency_ranges(size1, size2)))


def append_read_keys(*, size_before: int) -> list[NodeKey]:
    """The nodes ``nodes_completed_by_append`` reads: the left sibling of each parent it completes.

    Appending leaf number s completes one parent per trailing 1-bit of s, at levels 1..t; the left
    sibling of the one at level l+1 is ``(l, (s >> l) - 1)``. On average one read per append.
    """
    if size_before < 0:
        raise ValueError(f"negative log size {size_before}")
    keys: list[NodeKey] = []
    level, s = 0, size_before
    while s & 1:
        keys.append((level, (size_before >> level) - 1))
        level, s = level + 1, s >> 1
    return keys


def nodes_completed_by_append(
    *, size_before: int, leaf_data: bytes, reader: NodeReader
) -> list[tuple[NodeKey, bytes]]:
    """The perfect-subtree hashes to store when leaf number ``size_before`` is appended.

    ``leaf_data`` is the leaf itself (the canonical record), not its hash. The result starts with
    the level-0 node and climbs through every parent that becomes complete; it reads exactly
    ``append_read_keys(size_before=...)`` (at most log2(n) nodes, in one ``nodes`` call).
    """
    read = append_read_keys(size_before=size_before)
    siblings = reader.nodes(read) if read else []
    current = leaf_hash(leaf_data)
    created: list[tuple[NodeKey, bytes]] = [((0, size_before), current)]
    for (level, index), sibling in zip(read, siblings, strict=True):
        current = node_hash(sibling, current)
        created.append(((level + 1, (index + 1) >> 1), current))
    return created


def root_hash(reader: NodeReader, *, size: int) -> bytes:
    """MTH(D[size]) from stored nodes; the empty tree's root is SHA-256 of nothing."""
    if size < 0:
        raise ValueError(f"negative log size {size}")
    return subtree_hash(reader, start=0, end=size) if size else EMPTY_ROOT


def subtree_hash(reader: NodeReader, *, start: int, end: int) -> bytes:
    """MTH(D[start:end]) for any non-empty range, composed from stored perfect nodes."""
    if not 0 <= start < end:
        raise ValueError(f"empty or negative leaf range [{start}, {end})")
    return _run(_programs([(start, end)]), reader)[0]


def inclusion_proof(reader: NodeReader, *, index: int, size: int) -> list[bytes]:
    """PATH(index, D[size]) of RFC 9162 §2.1.3.1, from stored nodes."""
    return _run(_programs(_inclusion_ranges(index, size)), reader)


def consistency_proof(reader: NodeReader, *, size1: int, size2: int) -> list[bytes]:
    """PROOF(size1, D[size2]) of RFC 9162 §2.1.4.1 (empty when the sizes are equal)."""
    return _run(_programs(_consistency_ranges(size1, size2)), reader)


def _check_hash(name: str, value: bytes) -> None:
    if len(value) != HASH_SIZE:
        raise ProofError(
            f"{name} is {len(value)} bytes, a SHA-256 hash is {HASH_SIZE}", code="bad_hash_length"
        )


def _check_proof(proof: Sequence[bytes]) -> None:
    for position, item in enumerate(proof):
        _check_hash(f"proof[{position}]", item)


def verify_inclusion(*, leaf_hash: bytes, index: int, size: int, proof: Sequence[bytes], root: bytes) -> None:
    """Check that ``leaf_hash`` is leaf ``index`` of the tree of ``size`` with ``root`` (§2.1.3.2)."""
    _check_hash("leaf_hash", leaf_hash)
    _check_hash("root", root)
    _check_proof(proof)
    if not 0 <= index < size:
        raise ProofError(f"leaf index {index} is not in a tree of size {size}", code="bad_size")
    fn, sn, r = index, size - 1, leaf_hash
    for p in proof:
        if sn == 0:
            raise ProofError(
                f"proof has more than the hashes a tree of size {size} needs", code="bad_proof_length"
            )
        if fn & 1 or fn == sn:
            r = node_hash(p, r)
            while fn and not fn & 1:
                fn, sn = fn >> 1, sn >> 1
        else:
            r = node_hash(r, p)
        fn, sn = fn >> 1, sn >> 1
    if sn != 0:
        raise ProofError(
            f"proof has fewer than the hashes a tree of size {size} needs", code="bad_proof_length"
        )
    if r != root:
        raise ProofError(f"leaf {index} does not lead to the given root of size {size}", code="root_mismatch")


def verify_consistency(*, size1: int, size2: int, root1: bytes, root2: bytes, proof: Sequence[bytes]) -> None:
    """Check that the tree (``size2``, ``root2``) extends the tree (``size1``, ``root1``) (§2.1.4.2)."""
    _check_hash("root1", root1)
    _check_hash("root2", root2)
    _check_proof(proof)
    if not 0 < size1 <= size2:
        raise ProofError(
            f"no consistency from size {size1} to size {size2} (need 0 < size1 <= size2)", code="bad_size"
        )
    if size1 == size2:
        if proof:
            raise ProofError("equal sizes need an empty proof", code="bad_proof_length")
        if root1 != root2:
            raise ProofError(f"two different roots for the same size {size1}", code="root_mismatch")
        return
    if not proof:
        raise ProofError(f"empty proof from size {size1} to size {size2}", code="bad_proof_length")
    path = list(proof)
    if size1 & (size1 - 1) == 0:
        path.insert(0, root1)  # the old tree is a perfect subtree of the new one: the RFC omits it
    fn, sn = size1 - 1, size2 - 1
    while fn & 1:
        fn, sn = fn >> 1, sn >> 1
    fr = sr = path[0]
    for c in path[1:]:
        if sn == 0:
            raise ProofError(
                f"proof has more than the hashes {size1} -> {size2} needs", code="bad_proof_length"
            )
        if fn & 1 or fn == sn:
            fr, sr = node_hash(c, fr), node_hash(c, sr)
            while fn and not fn & 1:
                fn, sn = fn >> 1, sn >> 1
        else:
            sr = node_hash(sr, c)
        fn, sn = fn >> 1, sn >> 1
    if sn != 0:
        raise ProofError(f"proof has fewer than the hashes {size1} -> {size2} needs", code="bad_proof_length")
    if fr != root1:
        raise ProofError(f"proof does not lead to the given root of size {size1}", code="root_mismatch")
    if sr != root2:
        raise ProofError(f"proof does not lead to the given root of size {size2}", code="root_mismatch")


class CompactRange:
    """Streaming root of a log from its leaf hashes in O(log n) memory: the offline re-computation.

    It keeps the perfect subtrees along the right edge (one per set bit of the size), exactly the
    nodes ``root_keys`` names, so ``root()`` can be taken at any size, e.g. at each checkpoint.
    """

    def __init__(self) -> None:
        self.size = 0
        self._peaks: list[bytes] = []

    def append(self, leaf_hash: bytes) -> None:
        self._peaks.append(leaf_hash)
        s = self.size
        while s & 1:
            right = self._peaks.pop()
            self._peaks.append(node_hash(self._peaks.pop(), right))
            s >>= 1
        self.size += 1

    def root(self) -> bytes:
        if not self._peaks:
            return EMPTY_ROOT
        root = self._peaks[-1]
        for peak in reversed(self._peaks[:-1]):
            root = node_hash(peak, root)
        return root


class MemoryNodes:
    """An in-memory NodeReader and log, for tests and the benchmark (the ledger stores nodes in SQL).

    One ``bytearray`` per level, hash ``i`` at offset ``32 * i``: 1M leaves take about 64 MB, where a
    dict of ``(level, index)`` tuples to ``bytes`` would take several times that.
    """

    def __init__(self) -> None:
        self.size = 0
        self._levels: list[bytearray] = []

    def node(self, level: int, index: int) -> bytes:
        offset = index * HASH_SIZE
        if level >= len(self._levels) or index < 0 or offset + HASH_SIZE > len(self._levels[level]):
            raise KeyError((level, index))
        return bytes(self._levels[level][offset : offset + HASH_SIZE])

    def nodes(self, keys: Sequence[NodeKey]) -> list[bytes]:
        return [self.node(level, index) for level, index in keys]

    def append(self, leaf_data: bytes) -> int:
        """Append one leaf and its completed subtrees; return the new leaf's index."""
        index = self.size
        for (level, position), digest in nodes_completed_by_append(
            size_before=index, leaf_data=leaf_data, reader=self
        ):
            if level == len(self._levels):
                self._levels.append(bytearray())
            # Nodes of a level complete left to right, so each new one lands exactly at the end.
            assert position * HASH_SIZE == len(self._levels[level])
            self._levels[level] += digest
        self.size += 1
        return index
