"""Verify a tenant's log from its records and signed checkpoints, with nothing else trusted.

The same function checks the live database (``deskguard audit verify``) and an exported bundle
offline (``deskguard audit verify DIR``): it rehashes every record in order, recomputes the root at
each checkpoint's size (``CompactRange``) and compares it with the signed root. A record edited in
place, a reordered, removed or inserted record, a truncated tail, a forged or foreign checkpoint
and two histories sharing a prefix (a fork) all end in a report naming the first bad index and why.
When the store also keeps each record's leaf hash, a mismatch names the edited record exactly;
otherwise the first checkpoint whose root no longer matches bounds where the change is.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from deskguard.audit.checkpoint import Checkpoint, Keyring, verify_checkpoint
from deskguard.audit.merkle import CompactRange, leaf_hash
from deskguard.domain.errors import DeskguardError


@dataclass(frozen=True, slots=True)
class LogRecord:
    index: int
    canonical: bytes | None  # None: pruned under retention; only its leaf hash remains
    stored_leaf_hash: bytes | None = None  # what the store says the record hashed to, if it keeps it


@dataclass(frozen=True, slots=True)
class Report:
    ok: bool
    size: int  # records read
    checkpoints_verified: int
    first_bad_index: int | None = None
    reason: str = ""
    pruned: int = 0  # records whose content was pruned: their place in the log is still proven

    def line(self, *, origin: str) -> str:
        if self.ok:
            verified, pruned = self.checkpoints_verified, f" ({self.pruned} pruned)" if self.pruned else ""
            return f"{origin}: intact — {self.size} records{pruned}, {verified} signed checkpoints verified"
        where = "" if self.first_bad_index is None else f" at index {self.first_bad_index}"
        return f"{origin}: BROKEN{where}: {self.reason}"


def _fail(*, size: int, verified: int, index: int | None, reason: str) -> Report:
    return Report(ok=False, size=size, checkpoints_verified=verified, first_bad_index=index, reason=reason)


def verify_log(*, records: Iterable[LogRecord], checkpoints: Sequence[str], keyring: Keyring) -> Report:
    """Check ``records`` (in index order) against every signed checkpoint in ``checkpoints``."""
    signed: list[Checkpoint] = []
    for text in checkpoints:
        try:
            signed.append(verify_checkpoint(text, keyring=keyring).checkpoint)
        except DeskguardError as exc:
            return _fail(
                size=0, verified=0, index=None, reason=f"a checkpoint does not verify: {exc.message}"
            )
    by_size: dict[int, bytes] = {}
    for cp in signed:
        if by_size.setdefault(cp.size, cp.root) != cp.root:
            return _fail(
                size=0,
                verified=0,
                index=None,
                reason=f"two signed checkpoints at size {cp.size} disagree: the log was forked",
            )
    pending = sorted(by_size)
    tree, verified, last_good, pruned = CompactRange(), 0, 0, 0
    for record in records:
        if record.index != tree.size:
            return _fail(
                size=tree.size,
                verified=verified,
                index=tree.size,
                reason=f"expected record {tree.size}, found record {record.index} (removed or reordered)",
            )
        if record.canonical is None:  # pruned: the content is gone, its hash still takes its place
            if record.stored_leaf_hash is None:
                return _fail(
                    size=tree.size,
                    verified=verified,
                    index=record.index,
                    reason="a pruned record lost its hash",
                )
            leaf, pruned = record.stored_leaf_hash, pruned + 1
        else:
            leaf = leaf_hash(record.canonical)
        if record.stored_leaf_hash is not None and record.stored_leaf_hash != leaf:
            return _fail(
                size=tree.size,
                verified=verified,
                index=record.index,
                reason="the record's bytes no longer hash to its leaf: it was edited",
            )
        tree.append(leaf)
        if pending and pending[0] == tree.size:
            size = pending.pop(0)
            if tree.root() != by_size[size]:
                return _fail(
                    size=tree.size,
                    verified=verified,
                    index=last_good,
                    reason=f"the root of records {last_good}..{size - 1} differs from the signed checkpoint "
                    f"at size {size}: a record in that range was changed, added or removed",
                )
            verified, last_good = verified + 1, size
    if pending:
        return _fail(
            size=tree.size,
            verified=verified,
            index=tree.size,
            reason=f"a signed checkpoint covers {pending[-1]} records but only {tree.size} remain: "
            "the log was truncated",
        )
    return Report(ok=True, size=tree.size, checkpoints_verified=verified, pruned=pruned)
