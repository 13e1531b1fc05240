"""Signed notes (c2sp.org/signed-note) with Ed25519 keys, byte-compatible with Go's ``note`` package.

The evidence ledger publishes each tenant's checkpoints (``checkpoint.py``) as signed notes outside
its database, so that auditors, clients and witnesses verify them offline with nothing but verifier
keys, using deskguard or any transparency-log tool (golang.org/x/mod/sumdb/note, transparency-dev,
sigstore). A witness co-signs a checkpoint by adding its own signature line (``add_signature``).

Key texts are the ones the Go package reads and writes: the verifier key
``<name>+<key ID hex>+<base64(0x01 || public key)>`` is public; the signer key
``PRIVATE+KEY+<name>+<key ID hex>+<base64(0x01 || seed)>`` is a secret for the secret store.

Verification follows the spec: signatures by keys the caller did not pass are ignored (witnesses,
other verifiers' keys); a known key whose signature fails rejects the whole note, because a bad
signature from a key we trust is tampering, not noise; a note no known key verifies is rejected.
We are stricter than the spec in three places, all about notes we could never produce ourselves:
a duplicated signature (same key name and ID) is rejected instead of dropped, key names must be
printable, and base64 must be canonical, so that one note has exactly one encoding.

Pure: no I/O, no clock. The only randomness is key generation (``generate_signer``); Ed25519
signing is deterministic (RFC 8032), so one body and one key always give the same note.
"""

from __future__ import annotations

import base64
import hashlib
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from enum import StrEnum

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from deskguard.domain.errors import DeskguardError

MAX_NOTE_BYTES = 1 << 20
# Go's note.Open refuses notes with more than 100 signatures: we neither accept nor produce more.
MAX_SIGNATURES = 100
ED25519 = 0x01
SIGNATURE_PREFIX = "\u2014 "  # EM DASH, SPACE
_PRIVATE_PREFIX = "PRIVATE+KEY+"
_CONTROL = re.compile(r"[\x00-\x09\x0b-\x1f]")
_KEY_ID_HEX = re.compile(r"[0-9a-fA-F]{8}")


class NoteErrorCode(StrEnum):
    MALFORMED = "note_malformed"
    TOO_LARGE = "note_too_large"
    BAD_SIGNATURE = "note_bad_signature"
    UNVERIFIED = "note_unverified"
    BAD_KEY = "note_bad_key"


class NoteError(DeskguardError):
    """A note or key text that is malformed, altered, or signed by no key the caller trusts."""

    code = NoteErrorCode.MALFORMED


def valid_key_name(name: str) -> bool:
    """Spec rule (non-empty, no Unicode space, no '+'), plus printable: names are read by people."""
    return bool(name) and "+" not in name and name.isprintable() and not any(c.isspace() for c in name)


def strict_b64decode(text: str) -> bytes | None:
    """Standard base64 in its one canonical spelling (padding, zero trailing bits), else None."""
    try:
        raw = base64.b64decode(text, validate=True)
    except ValueError:  # binascii.Error, and non-ASCII input
        return None
    return raw if base64.b64encode(raw).decode("ascii") == text else None


def key_id(name: str, public_key: bytes) -> int:
    """SHA-256(name || 0x0A || 0x01 || public key)[:4], big-endian: the spec's Ed25519 key ID."""
    digest = hashlib.sha256(name.encode("utf-8") + b"\n" + bytes([ED25519]) + public_key).digest()
    return int.from_bytes(digest[:4], "big")


def _key_error(message: str) -> NoteError:
    return NoteError(message, code=NoteErrorCode.BAD_KEY)


def _decode_key_text(text: str, *, what: str) -> tuple[str, int, bytes]:
    # The name and the hex ID contain no '+'; the base64 key material may, hence maxsplit=2.
    parts = text.split("+", 2)
    if len(parts) != 3 or not valid_key_name(parts[0]) or not _KEY_ID_HEX.fullmatch(parts[1]):
        raise _key_error(f"{what} key text is not <name>+<8 hex digits>+<base64 key>")
    raw = strict_b64decode(parts[2])
    if raw is None or len(raw) != 33:
        raise _key_error(f"{what} key material is not base64 of 33 bytes (type byte and 32-byte key)")
    if raw[0] != ED25519:
        raise _key_error(f"{what} key has signature type 0x{raw[0]:02x}; only Ed25519 (0x01) is supported")
    return parts[0], int(parts[1], 16), raw[1:]


@dataclass(frozen=True)
class Verifier:
    """A public key and its name: what an auditor needs to check a note."""

    name: str
    public_key: bytes
    key_id: int = field(init=False)
    _key: Ed25519PublicKey = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if not valid_key_name(self.name):
            raise _key_error(f"key name {self.name!r} must be non-empty, printable, without spaces or '+'")
        if len(self.public_key) != 32:
            raise _key_error(f"an Ed25519 public key has 32 bytes, not {len(self.public_key)}")
        object.__setattr__(self, "key_id", key_id(self.name, self.public_key))
        object.__setattr__(self, "_key", Ed25519PublicKey.from_public_bytes(self.public_key))

    @classmethod
    def from_text(cls, text: str) -> Verifier:
        name, claimed_id, public_key = _decode_key_text(text, what="verifier")
        verifier = cls(name, public_key)
        if verifier.key_id != claimed_id:
            raise _key_error(
                f"verifier key ID {claimed_id:08x} does not match the key ({verifier.key_id:08x})"
            )
        return verifier

    def to_text(self) -> str:
        material = base64.b64encode(bytes([ED25519]) + self.public_key).decode("ascii")
        return f"{self.name}+{self.key_id:08x}+{material}"

    def verify(self, body: bytes, signature: bytes) -> bool:
        try:
            self._key.verify(signature, body)
        except InvalidSignature:
            return False
        return True


class Signer:
    """A private key and its name. Its repr never shows the key."""

    __slots__ = ("name", "verifier", "_private")

    def __init__(self, name: str, private_key: Ed25519PrivateKey) -> None:
        self.name = name
        self.verifier = Verifier(name, private_key.public_key().public_bytes_raw())
        self._private = private_key

    @property
    def key_id(self) -> int:
        return self.verifier.key_id

    @classmethod
    def from_text(cls, text: str) -> Signer:
        if not text.startswith(_PRIVATE_PREFIX):
            raise _key_error("signer key text must start with PRIVATE+KEY+")
        name, claimed_id, seed = _decode_key_text(text[len(_PRIVATE_PREFIX) :], what="signer")
        signer = cls(name, Ed25519PrivateKey.from_private_bytes(seed))
        if signer.key_id != claimed_id:
            raise _key_error(f"signer key ID {claimed_id:08x} does not match the key ({signer.key_id:08x})")
        return signer

    def to_text(self) -> str:
        material = base64.b64encode(bytes([ED25519]) + self._private.private_bytes_raw()).decode("ascii")
        return f"{_PRIVATE_PREFIX}{self.name}+{self.key_id:08x}+{material}"

    def sign(self, body: bytes) -> bytes:
        return self._private.sign(body)

    def __repr__(self) -> str:
        return f"Signer(name={self.name!r}, key_id={self.key_id:08x})"


def generate_signer(name: str) -> tuple[str, str]:
    """A new Ed25519 key as (signer key text, verifier key text); the first is a secret."""
    signer = Signer(name, Ed25519PrivateKey.generate())
    return signer.to_text(), signer.verifier.to_text()


@dataclass(frozen=True)
class _Signature:
    name: str
    key_id: int
    signature: bytes

    def line(self) -> str:
        encoded = base64.b64encode(self.key_id.to_bytes(4, "big") + self.signature).decode("ascii")
        return f"{SIGNATURE_PREFIX}{self.name} {encoded}\n"


def _malformed(message: str) -> NoteError:
    return NoteError(message, code=NoteErrorCode.MALFORMED)


def _check_text(text: str, *, what: str) -> None:
    if (control := _CONTROL.search(text)) is not None:
        hint = " (CRLF line endings are not allowed)" if control.group() == "\r" else ""
        raise _malformed(f"{what} contains control character U+{ord(control.group()):04X}{hint}")
    if not text.endswith("\n"):
        raise _malformed(f"{what} does not end with a newline")


def _decode(text: str | bytes) -> str:
    try:
        raw = text.encode("utf-8") if isinstance(text, str) else text
        if len(raw) > MAX_NOTE_BYTES:
            raise NoteError(f"note is {len(raw)} bytes, over the 1 MiB limit", code=NoteErrorCode.TOO_LARGE)
        decoded = raw.decode("utf-8")
    except UnicodeError as error:
        raise _malformed("note is not valid UTF-8") from error
    _check_text(decoded, what="note")
    return decoded


def _parse_signature_line(line: str, *, number: int) -> _Signature:
    if not line.startswith(SIGNATURE_PREFIX):
        raise _malformed(f"signature line {number} does not start with an em dash (U+2014) and a space")
    name, _, encoded = line[len(SIGNATURE_PREFIX) :].partition(" ")
    if not valid_key_name(name):
        raise _malformed(f"signature line {number} has an invalid key name {name!r}")
    raw = strict_b64decode(encoded)
    if raw is None or len(raw) < 5:
        raise _malformed(f"signature line {number} is not canonical base64 of a key ID and a signature")
    return _Signature(name, int.from_bytes(raw[:4], "big"), raw[4:])


def _parse(text: str) -> tuple[str, list[_Signature]]:
    """Split a well-formed note into its text and signatures, verifying nothing."""
    # The spec separates text from signatures at the *last* blank line: the text may hold blank lines.
    split = text.rfind("\n\n")
    if split < 0:
        raise _malformed("no blank line separates the note text from its signatures")
    body, block = text[: split + 1], text[split + 2 :]
    if not block:
        raise _malformed("note has no signature lines")
    signatures: list[_Signature] = []
    seen: set[tuple[str, int]] = set()
    for number, line in enumerate(block[:-1].split("\n"), start=1):
        if number > MAX_SIGNATURES:
            raise _malformed(f"note has more than {MAX_SIGNATURES} signatures")
        signature = _parse_signature_line(line, number=number)
        if (signature.name, signature.key_id) in seen:
            raise _malformed(f"signature line {number} repeats a signature by {signature.name}")
        seen.add((signature.name, signature.key_id))
        signatures.append(signature)
    return body, signatures


def _encode(body: str, signatures: Sequence[_Signature]) -> str:
    if len(signatures) > MAX_SIGNATURES:
        raise _malformed(f"a note carries at most {MAX_SIGNATURES} signatures")
    note = body + "\n" + "".join(signature.line() for signature in signatures)
    if len(note.encode("utf-8")) > MAX_NOTE_BYTES:
        raise NoteError("signed note would exceed the 1 MiB limit", code=NoteErrorCode.TOO_LARGE)
    return note


def _sign(signer: Signer, body: str) -> _Signature:
    return _Signature(signer.name, signer.key_id, signer.sign(body.encode("utf-8")))


def sign_note(body: bytes, *signers: Signer) -> str:
    """The signed note: ``body``, a blank line, one signature line per signer, in the order given."""
    if not signers:
        raise ValueError("sign_note needs at least one signer")
    if len({(signer.name, signer.key_id) for signer in signers}) != len(signers):
        raise ValueError("the same key is given twice")
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as error:
        raise _malformed("note text is not valid UTF-8") from error
    _check_text(text, what="note text")
    return _encode(text, [_sign(signer, text) for signer in signers])


def add_signature(text: str, signer: Signer) -> str:
    """Co-sign an existing note (a witness, or a second deskguard key during a rotation).

    Signatures keep their order, so the log's own signature stays first (sigstore and Go tooling
    expect it there); the new one goes last. Signing again with a key already present replaces its
    signature in place, so adding a signature is idempotent. Existing signatures are not verified:
    a witness must verify the log's signature with its own keys before calling this.
    """
    body, signatures = _parse(_decode(text))
    new = _sign(signer, body)
    keys = [(signature.name, signature.key_id) for signature in signatures]
    if (new.name, new.key_id) in keys:
        signatures[keys.index((new.name, new.key_id))] = new
    else:
        signatures.append(new)
    return _encode(body, signatures)


def open_note(text: str | bytes, *, verifiers: Iterable[Verifier]) -> tuple[bytes, list[Verifier]]:
    """The note text and the known keys whose signatures verified it, in note order.

    Returns verifiers rather than names: after a rotation two keys share one name and only the key
    ID tells them apart. Raises ``NoteError`` if the note is malformed, if a known key's signature
    fails, or if no known key signed it.
    """
    known: dict[tuple[str, int], Verifier] = {}
    for verifier in verifiers:
        other = known.setdefault((verifier.name, verifier.key_id), verifier)
        if other.public_key != verifier.public_key:
            raise _key_error(f"two different keys share name {verifier.name} and ID {verifier.key_id:08x}")
    if not known:
        raise _key_error("no verifier key given")
    body, signatures = _parse(_decode(text))
    body_bytes = body.encode("utf-8")
    verified: list[Verifier] = []
    for signature in signatures:
        verifier = known.get((signature.name, signature.key_id))
        if verifier is None:
            continue  # the spec requires ignoring unknown keys: witnesses, keys of other verifiers
        if not verifier.verify(body_bytes, signature.signature):
            raise NoteError(
                f"signature by {verifier.name}+{verifier.key_id:08x} does not verify: the note was altered",
                code=NoteErrorCode.BAD_SIGNATURE,
            )
        verified.append(verifier)
    if not verified:
        found = ", ".join(f"{s.name}+{s.key_id:08x}" for s in signatures)
        expected = ", ".join(f"{name}+{kid:08x}" for name, kid in known)
        raise NoteError(
            f"no signature by a known key (signed by: {found}; known: {expected})",
            code=NoteErrorCode.UNVERIFIED,
        )
    return body_bytes, verified
