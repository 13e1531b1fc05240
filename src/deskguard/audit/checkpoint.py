"""Signed checkpoints (c2sp.org/tlog-checkpoint) of each tenant's evidence log, and their keyring.

A checkpoint states "the log ``origin`` has ``size`` records and this Merkle root". The ledger
signs one per tenant every N records or T seconds (``note.sign_note`` over ``Checkpoint.body()``)
and publishes it outside the database (file, webhook, syslog). Auditors verify it offline with only
verifier keys (``verify_checkpoint``), then check inclusion and consistency proofs (``merkle``)
against its size and root: anyone holding an earlier checkpoint detects a rewritten or forked log.

The origin, which is also the signing key's name as the spec recommends, is
``<deployment host>/tenants/<tenant id>``, e.g. ``deskguard.example/tenants/tnt_acme``. Rotation
keeps the name and changes the key, so the key ID tells the keys of one tenant apart.

Keys are trusted per interval (``TrustedKey``). A checkpoint carries no trusted time, so a retired
key's signature is accepted: rotation must not orphan the checkpoints signed before it. When the
caller knows when the ledger signed a checkpoint (its own record of it, ``at``), the signing key
must have been active then. A compromised key is not rotated but removed from the keyring; its
checkpoints then stand only through witness cosignatures or consistency with later checkpoints.

Pure: no I/O, no clock; times are passed in and must be timezone-aware.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass, replace
from datetime import datetime
from enum import StrEnum

from deskguard.audit.note import Verifier, open_note, strict_b64decode, valid_key_name
from deskguard.domain.errors import DeskguardError

ROOT_BYTES = 32
_MAX_SIZE = 2**64 - 1  # tree sizes are uint64 in every checkpoint implementation we interoperate with


class CheckpointErrorCode(StrEnum):
    MALFORMED = "checkpoint_malformed"
    WRONG_ORIGIN = "checkpoint_wrong_origin"
    KEY_INACTIVE = "checkpoint_key_inactive"
    BAD_KEYRING = "checkpoint_bad_keyring"


class CheckpointError(DeskguardError):
    """A checkpoint body that is malformed, or that the keyring does not vouch for."""

    code = CheckpointErrorCode.MALFORMED


def _malformed(message: str) -> CheckpointError:
    return CheckpointError(message, code=CheckpointErrorCode.MALFORMED)


def _check_origin(origin: str) -> None:
    # Stricter than the spec's "non-empty": the origin doubles as the key name, so it obeys key names' rules.
    if not valid_key_name(origin):
        raise _malformed(f"origin {origin!r} must be non-empty, printable, without spaces or '+'")


def _require_aware(moment: datetime, *, what: str) -> None:
    if moment.utcoffset() is None:
        raise ValueError(f"{what} must be timezone-aware")


@dataclass(frozen=True)
class Checkpoint:
    """One tree head of one log. Extension lines are opaque; deskguard writes none."""

    origin: str
    size: int
    root: bytes
    extensions: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        _check_origin(self.origin)
        if not isinstance(self.size, int) or isinstance(self.size, bool) or not 0 <= self.size <= _MAX_SIZE:
            raise _malformed(f"tree size {self.size!r} is not an integer from 0 to 2^64-1")
        if not isinstance(self.root, bytes) or len(self.root) != ROOT_BYTES:
            raise _malformed(f"root hash must be {ROOT_BYTES} bytes")
        object.__setattr__(self, "extensions", tuple(self.extensions))
        for number, line in enumerate(self.extensions, start=4):
            if not line or not line.isprintable():
                raise _malformed(f"extension line {number} must be non-empty and printable")

    def body(self) -> bytes:
        """The note text: origin, size, root, extensions, each line ending in a newline."""
        root = base64.b64encode(self.root).decode("ascii")
        lines = [self.origin, str(self.size), root, *self.extensions]
        return "".join(line + "\n" for line in lines).encode("utf-8")


def _parse_size(line: str) -> int:
    # isascii() first: str.isdigit() also accepts digits of other scripts and superscripts.
    if not (line.isascii() and line.isdigit()):
        raise _malformed(f"tree size {line!r} is not a decimal number")
    if len(line) > 1 and line.startswith("0"):
        raise _malformed(f"tree size {line!r} has a leading zero")
    if int(line) > _MAX_SIZE:
        raise _malformed(f"tree size {line} does not fit in 64 bits")
    return int(line)


def _parse_root(line: str) -> bytes:
    root = strict_b64decode(line)
    if root is None:
        raise _malformed(f"root hash {line!r} is not canonical standard base64")
    if len(root) != ROOT_BYTES:
        raise _malformed(f"root hash decodes to {len(root)} bytes, not {ROOT_BYTES}")
    return root


def parse_checkpoint(body: bytes) -> Checkpoint:
    """Parse a checkpoint body strictly: the only accepted spelling is the one ``body()`` writes."""
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as error:
        raise _malformed(f"checkpoint is not valid UTF-8 (byte {error.start})") from error
    if "\r" in text:
        raise _malformed("checkpoint contains a carriage return (CRLF line endings are not allowed)")
    if not text.endswith("\n"):
        raise _malformed("checkpoint does not end with a newline")
    lines = text[:-1].split("\n")
    if len(lines) < 3:
        raise _malformed(f"checkpoint has {len(lines)} line(s); it needs origin, tree size and root hash")
    origin, size, root, *extensions = lines
    return Checkpoint(origin, _parse_size(size), _parse_root(root), tuple(extensions))


@dataclass(frozen=True)
class TrustedKey:
    """A log key and the interval it signed in: ``not_before`` ≤ t < ``not_after`` (open if None)."""

    verifier: Verifier
    not_before: datetime
    not_after: datetime | None = None

    def __post_init__(self) -> None:
        _require_aware(self.not_before, what="not_before")
        if self.not_after is not None:
            _require_aware(self.not_after, what="not_after")
            if self.not_after <= self.not_before:
                raise ValueError("not_after must be later than not_before")

    def active_at(self, moment: datetime) -> bool:
        return self.not_before <= moment and (self.not_after is None or moment < self.not_after)


@dataclass(frozen=True)
class Keyring:
    """Every key one log has ever signed with; retired keys stay so old checkpoints still verify."""

    origin: str
    keys: tuple[TrustedKey, ...] = ()

    def __post_init__(self) -> None:
        _check_origin(self.origin)
        object.__setattr__(self, "keys", tuple(self.keys))
        for key in self.keys:
            if key.verifier.name != self.origin:
                raise CheckpointError(
                    f"key {key.verifier.name} is not named after the log {self.origin}",
                    code=CheckpointErrorCode.BAD_KEYRING,
                )
        # Key IDs are 32 bits: a collision between two keys of one log is unlikely but would be ambiguous.
        if len({key.verifier.key_id for key in self.keys}) != len(self.keys):
            raise CheckpointError("two keys share one key ID", code=CheckpointErrorCode.BAD_KEYRING)

    def rotate(self, *, verifier: Verifier, at: datetime) -> Keyring:
        """Retire every key still active at ``at`` and trust ``verifier`` from ``at`` on."""
        _require_aware(at, what="at")
        kept: list[TrustedKey] = []
        for key in self.keys:
            if key.not_after is None or key.not_after > at:
                if key.not_before >= at:
                    raise ValueError(f"key {key.verifier.key_id:08x} starts at or after the rotation")
                key = replace(key, not_after=at)
            kept.append(key)
        return Keyring(self.origin, (*kept, TrustedKey(verifier, not_before=at)))


@dataclass(frozen=True)
class VerifiedCheckpoint:
    checkpoint: Checkpoint
    keys: tuple[TrustedKey, ...]  # the keyring keys that signed it, in note order


def verify_checkpoint(
    text: str | bytes, *, keyring: Keyring, at: datetime | None = None
) -> VerifiedCheckpoint:
    """Verify a signed checkpoint of ``keyring.origin``; ``at`` is when the ledger recorded signing it.

    Raises ``NoteError`` for a malformed, altered or unsigned note, ``CheckpointError`` for a bad
    body, another log's checkpoint, or (with ``at``) no signing key active at that time.
    """
    body, verifiers = open_note(text, verifiers=[key.verifier for key in keyring.keys])
    checkpoint = parse_checkpoint(body)
    if checkpoint.origin != keyring.origin:
        raise CheckpointError(
            f"checkpoint is for {checkpoint.origin}, not {keyring.origin}",
            code=CheckpointErrorCode.WRONG_ORIGIN,
        )
    by_id = {key.verifier.key_id: key for key in keyring.keys}
    keys = tuple(by_id[verifier.key_id] for verifier in verifiers)
    if at is not None:
        _require_aware(at, what="at")
        keys = tuple(key for key in keys if key.active_at(at))
        if not keys:
            raise CheckpointError(
                f"no key that signed this checkpoint was active at {at.isoformat()}",
                code=CheckpointErrorCode.KEY_INACTIVE,
            )
    return VerifiedCheckpoint(checkpoint, keys)
