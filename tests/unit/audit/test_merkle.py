"""RFC 9162 Merkle trees: the shared reference vectors, the transparency-dev corpus, and properties.

Reference values come from shared/reference/test-vectors.md §2.3 and shared/vectors/merkle/ (read
from disk, never copied here). Properties compare the stored-node code against a naive, literal
transcription of RFC 9162's recursive MTH, PATH and PROOF, and attack the verifiers with bit flips,
reordered leaves, truncated tails and forked views.
"""

from __future__ import annotations

import base64
import json
import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from deskguard.audit.merkle import (
    EMPTY_ROOT,
    CompactRange,
    MemoryNodes,
    NodeKey,
    ProofError,
    append_read_keys,
    consistency_keys,
    consistency_proof,
    inclusion_keys,
    inclusion_proof,
    leaf_hash,
    node_hash,
    nodes_completed_by_append,
    root_hash,
    root_keys,
    subtree_hash,
    verify_consistency,
    verify_inclusion,
)

SHARED = Path(__file__).resolve().parents[4] / "shared"
VECTORS = SHARED / "reference" / "test-vectors.md"
CORPUS = SHARED / "vectors" / "merkle"
LOG_SIZE = 300

# Corpus probes under additional/ where we deliberately differ from the Go implementation.
DECIDED_DIFFERENTLY = {
    "consistency/additional/sizes-are-equal-one-and-proof-is-empty.json": (
        "its roots are 12 bytes ('don't care 2'); Go accepts equal roots of any length when the sizes are "
        "equal, we reject every root that is not a 32-byte SHA-256 hash, as for inclusion"
    ),
}


class CountingReader:
    """Wraps a MemoryNodes and records every batch it is asked for, to bound reads and round-trips."""

    def __init__(self, inner: MemoryNodes) -> None:
        self.inner = inner
        self.batches: list[list[NodeKey]] = []

    def node(self, level: int, index: int) -> bytes:
        self.batches.append([(level, index)])
        return self.inner.node(level, index)

    def nodes(self, keys: Sequence[NodeKey]) -> list[bytes]:
        self.batches.append(list(keys))
        return self.inner.nodes(keys)

    @property
    def reads(self) -> int:
        return sum(len(batch) for batch in self.batches)


def record(index: int, tag: bytes = b"") -> bytes:
    return b"record-%d%s" % (index, tag)


def build(leaves: Sequence[bytes]) -> MemoryNodes:
    log = MemoryNodes()
    for data in leaves:
        log.append(data)
    return log


LOG = build([record(i) for i in range(LOG_SIZE)])  # any prefix of it is the log at that size


# --- naive RFC 9162 §2.1 transcriptions, the oracle -------------------------------------------------


def _k(n: int) -> int:
    k = 1
    while k * 2 < n:
        k *= 2
    return k


def mth(hashes: Sequence[bytes]) -> bytes:
    if not hashes:
        return EMPTY_ROOT
    if len(hashes) == 1:
        return hashes[0]
    k = _k(len(hashes))
    return node_hash(mth(hashes[:k]), mth(hashes[k:]))


def path(m: int, hashes: Sequence[bytes]) -> list[bytes]:
    if len(hashes) == 1:
        return []
    k = _k(len(hashes))
    if m < k:
        return [*path(m, hashes[:k]), mth(hashes[k:])]
    return [*path(m - k, hashes[k:]), mth(hashes[:k])]


def subproof(m: int, hashes: Sequence[bytes], whole: bool) -> list[bytes]:
    n = len(hashes)
    if m == n:
        return [] if whole else [mth(hashes)]
    k = _k(n)
    if m <= k:
        return [*subproof(m, hashes[:k], whole), mth(hashes[k:])]
    return [*subproof(m - k, hashes[k:], False), mth(hashes[:k])]


LEAF_HASHES = [leaf_hash(record(i)) for i in range(LOG_SIZE)]


# --- shared/reference/test-vectors.md §2.3 ------------------------------------------------------------


def _section() -> str:
    text = VECTORS.read_text()
    start = text.index("### 2.3 RFC 6962 / 9162 Merkle tree")
    return text[start : text.index("###", start + 5)]


SECTION = _section()
FULL_HASHES = set(re.findall(r"\b[0-9a-f]{64}\b", SECTION))


def expand(abbreviated: str) -> bytes:
    """`96a296d2…09cfc7` → the one full hash of the section with that prefix and suffix."""
    head, _, tail = abbreviated.strip().strip("`").partition("…")
    found = [h for h in FULL_HASHES if h.startswith(head) and h.endswith(tail)]
    assert len(found) == 1, f"{abbreviated!r} matches {len(found)} hashes in test-vectors.md"
    return bytes.fromhex(found[0])


def _proof_cell(cell: str) -> list[bytes]:
    return [] if cell.strip() == "(empty)" else [expand(part) for part in cell.split(",")]


def _leaves() -> list[bytes]:
    line = re.search(r"^Leaf inputs \(hex\) d0\.\.d7: (.*)$", SECTION, re.M)
    assert line is not None
    leaves = [bytes.fromhex(h.strip('"')) for h in re.findall(r"`([^`]*)`", line.group(1))]
    assert len(leaves) == 8
    return leaves


LEAVES = _leaves()
EIGHT = build(LEAVES)


def test_hasher_unit_vectors() -> None:
    def value(label: str) -> str:
        found = re.search(rf"^- {re.escape(label)}[^`]*`([0-9a-f]{{64}})`", SECTION, re.M)
        assert found is not None, label
        return found.group(1)

    assert EMPTY_ROOT.hex() == value("Empty tree root")
    assert leaf_hash(b"").hex() == value("Empty *leaf* hash")
    assert leaf_hash(b"L123456").hex() == value('HashLeaf("L123456")')
    assert node_hash(b"N123", b"N456").hex() == value('HashChildren("N123","N456")')
    assert leaf_hash(b"") != EMPTY_ROOT


def test_the_nine_roots() -> None:
    rows = re.findall(r"^\| (\d) \| ([0-9a-f]{64}) \|$", SECTION, re.M)
    assert [int(size) for size, _ in rows] == list(range(9))
    for size, root in rows:
        assert root_hash(EIGHT, size=int(size)).hex() == root
        assert mth([leaf_hash(d) for d in LEAVES[: int(size)]]).hex() == root


def test_the_eight_leaf_tree_nodes() -> None:
    for level in range(4):
        line = re.search(rf"^- L{level}: (.*?)(?=^- L|^\n)", SECTION, re.M | re.S)
        assert line is not None
        expected = [expand(cell) for cell in re.split(r",\s*", line.group(1).strip())]
        assert len(expected) == 8 >> level
        assert EIGHT.nodes([(level, i) for i in range(8 >> level)]) == expected


def _table(header: str) -> list[list[str]]:
    start = SECTION.index(header)
    rows = re.findall(r"^\|([^|]+)\|([^|]+)\|([^|]+)\|$", SECTION[start:], re.M)
    return [[c.strip() for c in row] for row in rows if row[0].strip()[0].isdigit()]


def test_inclusion_proofs_of_the_reference() -> None:
    rows = [r for r in _table("Inclusion proofs.") if "→" not in r[0]][:5]
    assert len(rows) == 5
    for index, size, cell in rows:
        expected = _proof_cell(cell)
        assert inclusion_proof(EIGHT, index=int(index), size=int(size)) == expected
        verify_inclusion(
            leaf_hash=leaf_hash(LEAVES[int(index)]),
            index=int(index),
            size=int(size),
            proof=expected,
            root=root_hash(EIGHT, size=int(size)),
        )


def test_consistency_proofs_of_the_reference() -> None:
    start = SECTION.index("Consistency proofs:")
    rows = re.findall(r"^\| (\d) → (\d) \| ([^|]+) \|$", SECTION[start:], re.M)
    assert len(rows) == 5
    for size1, size2, cell in rows:
        m, n, expected = int(size1), int(size2), _proof_cell(cell)
        assert consistency_proof(EIGHT, size1=m, size2=n) == expected
        verify_consistency(
            size1=m, size2=n, root1=root_hash(EIGHT, size=m), root2=root_hash(EIGHT, size=n), proof=expected
        )


# --- the transparency-dev/merkle probe corpus --------------------------------------------------------

PROBES = sorted(p.relative_to(CORPUS).as_posix() for p in CORPUS.glob("*/**/*.json"))


def test_the_corpus_is_all_there() -> None:
    assert sum(p.startswith("inclusion/") for p in PROBES) == 98
    assert sum(p.startswith("consistency/") for p in PROBES) == 98
    assert set(DECIDED_DIFFERENTLY) <= set(PROBES)


def _b64(probe: dict[str, Any], field: str) -> bytes:
    return base64.b64decode(probe[field])


def _run_probe(probe: dict[str, Any]) -> None:
    proof = [base64.b64decode(p) for p in probe["proof"] or []]
    if "leafIdx" in probe:
        verify_inclusion(
            leaf_hash=_b64(probe, "leafHash"),
            index=probe["leafIdx"],
            size=probe["treeSize"],
            proof=proof,
            root=_b64(probe, "root"),
        )
    else:
        verify_consistency(
            size1=probe["size1"],
            size2=probe["size2"],
            root1=_b64(probe, "root1"),
            root2=_b64(probe, "root2"),
            proof=proof,
        )


@pytest.mark.parametrize("name", PROBES)
def test_corpus_probe(name: str) -> None:
    probe = json.loads((CORPUS / name).read_text())
    want_error = probe["wantErr"] != (name in DECIDED_DIFFERENTLY)
    if want_error:
        with pytest.raises(ProofError) as caught:
            _run_probe(probe)
        assert caught.value.code in {"bad_hash_length", "bad_size", "bad_proof_length", "root_mismatch"}
    else:
        _run_probe(probe)


def test_every_hash_must_be_32_bytes() -> None:
    # The naive RFC algorithm accepts size 1, empty leaf == empty root, empty proof (see §2.3).
    with pytest.raises(ProofError, match="leaf_hash is 0 bytes"):
        verify_inclusion(leaf_hash=b"", index=0, size=1, proof=[], root=b"")
    root = root_hash(LOG, size=1)
    with pytest.raises(ProofError, match="root1 is 12 bytes"):
        verify_consistency(size1=1, size2=1, root1=b"don't care 2", root2=b"don't care 2", proof=[])
    with pytest.raises(ProofError, match=r"proof\[0\] is 33 bytes"):
        verify_inclusion(leaf_hash=root, index=0, size=2, proof=[root + b"x"], root=root)


# --- generators: argument checks, batching, read counts -------------------------------------------------


def test_generators_refuse_impossible_arguments() -> None:
    with pytest.raises(ValueError, match="not in a tree of size 3"):
        inclusion_proof(LOG, index=3, size=3)
    for size1, size2 in [(0, 0), (0, 5), (6, 5), (-1, 3)]:
        with pytest.raises(ValueError, match="no consistency proof"):
            consistency_proof(LOG, size1=size1, size2=size2)
    with pytest.raises(ValueError, match="empty or negative"):
        subtree_hash(LOG, start=4, end=4)
    with pytest.raises(KeyError):
        root_hash(LOG, size=LOG_SIZE + 1)  # nodes past the end are not stored
    assert root_hash(LOG, size=0) == EMPTY_ROOT and root_keys(size=0) == []


def test_each_operation_is_one_batch_of_log_n_reads() -> None:
    reader = CountingReader(LOG)
    for size in range(1, LOG_SIZE + 1):
        bound = 2 * size.bit_length()
        reader.batches.clear()
        root_hash(reader, size=size)
        inclusion_proof(reader, index=size // 3, size=size)
        consistency_proof(reader, size1=max(1, size // 2 + 1), size2=size)
        assert len(reader.batches) == 3
        assert [len(b) for b in reader.batches[:1]] == [bin(size).count("1")]
        assert all(len(b) <= bound for b in reader.batches)
        assert reader.batches[1] == inclusion_keys(index=size // 3, size=size)
        assert reader.batches[2] == consistency_keys(size1=max(1, size // 2 + 1), size2=size)


def test_append_creates_exactly_the_perfect_subtrees_with_log_n_reads() -> None:
    log = MemoryNodes()
    reader = CountingReader(log)
    created: list[NodeKey] = []
    for size_before in range(1000):
        reader.batches.clear()
        new = nodes_completed_by_append(size_before=size_before, leaf_data=record(size_before), reader=reader)
        assert reader.reads == len(append_read_keys(size_before=size_before)) <= size_before.bit_length()
        assert len(reader.batches) <= 1
        assert len(new) == reader.reads + 1
        created += [key for key, _ in new]
        log.append(record(size_before))
        assert [log.node(*key) for key, _ in new] == [digest for _, digest in new]
    size = 1000
    perfect = {(lvl, i) for lvl in range(size.bit_length()) for i in range(size >> lvl)}
    assert len(created) == len(perfect) == sum(size >> lvl for lvl in range(size.bit_length()))
    assert set(created) == perfect
    assert len(created) < 2 * size  # amortised fewer than 2 rows per append


def test_memory_nodes_refuses_missing_nodes() -> None:
    for key in [(0, LOG_SIZE), (1, LOG_SIZE // 2), (9, 0), (0, -1)]:
        with pytest.raises(KeyError):
            LOG.node(*key)


# --- properties -----------------------------------------------------------------------------------------

sizes = st.integers(min_value=1, max_value=LOG_SIZE)


@given(st.lists(st.binary(max_size=6), max_size=LOG_SIZE))
def test_stored_root_equals_the_naive_mth(leaves: list[bytes]) -> None:
    log, compact = build(leaves), CompactRange()
    for data in leaves:
        compact.append(leaf_hash(data))
    expected = mth([leaf_hash(d) for d in leaves])
    assert root_hash(log, size=len(leaves)) == compact.root() == expected


@given(st.data())
def test_any_subtree_equals_the_naive_mth(data: st.DataObject) -> None:
    end = data.draw(sizes)
    start = data.draw(st.integers(min_value=0, max_value=end - 1))
    assert subtree_hash(LOG, start=start, end=end) == mth(LEAF_HASHES[start:end])


@given(st.data())
def test_inclusion_proofs_match_the_rfc_and_verify(data: st.DataObject) -> None:
    size = data.draw(sizes)
    index = data.draw(st.integers(min_value=0, max_value=size - 1))
    proof = inclusion_proof(LOG, index=index, size=size)
    assert proof == path(index, LEAF_HASHES[:size])
    root = root_hash(LOG, size=size)
    verify_inclusion(leaf_hash=LEAF_HASHES[index], index=index, size=size, proof=proof, root=root)
    other = data.draw(st.integers(min_value=0, max_value=size - 1))
    if other != index:  # the proof of another leaf does not prove this one
        with pytest.raises(ProofError):
            verify_inclusion(leaf_hash=LEAF_HASHES[index], index=other, size=size, proof=proof, root=root)


@given(st.data())
def test_consistency_proofs_match_the_rfc_and_verify(data: st.DataObject) -> None:
    size2 = data.draw(sizes)
    size1 = data.draw(st.integers(min_value=1, max_value=size2))
    proof = consistency_proof(LOG, size1=size1, size2=size2)
    assert proof == subproof(size1, LEAF_HASHES[:size2], True)
    root1, root2 = root_hash(LOG, size=size1), root_hash(LOG, size=size2)
    verify_consistency(size1=size1, size2=size2, root1=root1, root2=root2, proof=proof)


def _flip(hashes: list[bytes], data: st.DataObject) -> list[bytes]:
    position = data.draw(st.integers(min_value=0, max_value=len(hashes) - 1))
    bit = data.draw(st.integers(min_value=0, max_value=255))
    flipped = bytearray(hashes[position])
    flipped[bit // 8] ^= 1 << (bit % 8)
    return [*hashes[:position], bytes(flipped), *hashes[position + 1 :]]


@given(st.data())
def test_a_flipped_bit_anywhere_is_detected(data: st.DataObject) -> None:
    size = data.draw(st.integers(min_value=2, max_value=LOG_SIZE))
    index = data.draw(st.integers(min_value=0, max_value=size - 1))
    size1 = data.draw(st.integers(min_value=1, max_value=size - 1))
    incl = [LEAF_HASHES[index], root_hash(LOG, size=size), *inclusion_proof(LOG, index=index, size=size)]
    leaf, root, *proof = _flip(incl, data)
    with pytest.raises(ProofError):
        verify_inclusion(leaf_hash=leaf, index=index, size=size, proof=proof, root=root)
    cons = [
        root_hash(LOG, size=size1),
        root_hash(LOG, size=size),
        *consistency_proof(LOG, size1=size1, size2=size),
    ]
    root1, root2, *proof = _flip(cons, data)
    with pytest.raises(ProofError):
        verify_consistency(size1=size1, size2=size, root1=root1, root2=root2, proof=proof)


@given(st.data())
def test_a_reordered_leaf_is_detected(data: st.DataObject) -> None:
    size = data.draw(st.integers(min_value=2, max_value=LOG_SIZE))
    i = data.draw(st.integers(min_value=0, max_value=size - 2))
    j = data.draw(st.integers(min_value=i + 1, max_value=size - 1))
    leaves = [record(k) for k in range(size)]
    leaves[i], leaves[j] = leaves[j], leaves[i]
    tampered = build(leaves)
    root = root_hash(tampered, size=size)
    assert root != root_hash(LOG, size=size)
    with pytest.raises(ProofError):  # the honest proof of record i no longer reaches the served root
        verify_inclusion(
            leaf_hash=LEAF_HASHES[i],
            index=i,
            size=size,
            proof=inclusion_proof(LOG, index=i, size=size),
            root=root,
        )
    checkpoint = data.draw(st.integers(min_value=j + 1, max_value=size))  # an auditor's earlier root
    with pytest.raises(ProofError):
        verify_consistency(
            size1=checkpoint,
            size2=size,
            root1=root_hash(LOG, size=checkpoint),
            root2=root,
            proof=consistency_proof(tampered, size1=checkpoint, size2=size),
        )


@given(st.data())
def test_a_truncated_tail_is_detected(data: st.DataObject) -> None:
    checkpoint = data.draw(st.integers(min_value=2, max_value=LOG_SIZE))
    kept = data.draw(st.integers(min_value=1, max_value=checkpoint - 1))
    with pytest.raises(ProofError, match="need 0 < size1 <= size2"):  # the log shrank under us
        verify_consistency(
            size1=checkpoint,
            size2=kept,
            root1=root_hash(LOG, size=checkpoint),
            root2=root_hash(LOG, size=kept),
            proof=[],
        )
    # Truncated, then re-grown past the checkpoint with other records: the old root is not a prefix.
    regrown = build([record(k) if k < kept else record(k, b"-rewritten") for k in range(LOG_SIZE)])
    size2 = data.draw(st.integers(min_value=checkpoint, max_value=LOG_SIZE))
    with pytest.raises(ProofError):
        verify_consistency(
            size1=checkpoint,
            size2=size2,
            root1=root_hash(LOG, size=checkpoint),
            root2=root_hash(regrown, size=size2),
            proof=consistency_proof(regrown, size1=checkpoint, size2=size2),
        )


@given(st.data())
def test_a_forked_view_is_detected(data: st.DataObject) -> None:
    shared = data.draw(st.integers(min_value=0, max_value=LOG_SIZE - 1))
    fork = build([record(k) if k < shared else record(k, b"-fork") for k in range(LOG_SIZE)])
    # Client A was served LOG at size_a, client B the fork at size_b; both saw past the shared prefix.
    size_a = data.draw(st.integers(min_value=shared + 1, max_value=LOG_SIZE))
    size_b = data.draw(st.integers(min_value=shared + 1, max_value=LOG_SIZE))
    root_a, root_b = root_hash(LOG, size=size_a), root_hash(fork, size=size_b)
    small, large = sorted([(size_a, root_a, LOG), (size_b, root_b, fork)], key=lambda view: view[0])
    assume(small[0] < large[0] or root_a != root_b)
    for server in (LOG, fork):  # whichever log serves the proof, the two views cannot be reconciled
        proof = consistency_proof(server, size1=small[0], size2=large[0])
        with pytest.raises(ProofError):
            verify_consistency(size1=small[0], size2=large[0], root1=small[1], root2=large[1], proof=proof)
