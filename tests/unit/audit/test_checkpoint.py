"""Checkpoints: the exact C2SP body, strict parsing, and verification across key rotations."""

from __future__ import annotations

import base64
import hashlib
from datetime import UTC, datetime, timedelta

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from hypothesis import given
from hypothesis import strategies as st

from deskguard.audit.checkpoint import (
    Checkpoint,
    CheckpointError,
    CheckpointErrorCode,
    Keyring,
    TrustedKey,
    parse_checkpoint,
    verify_checkpoint,
)
from deskguard.audit.note import NoteError, NoteErrorCode, Signer, add_signature, sign_note

ORIGIN = "deskguard.example/tenants/tnt_acme"
ROOT = hashlib.sha256(b"root").digest()
ROOT_B64 = base64.b64encode(ROOT).decode()
URLSAFE_ROOT = base64.urlsafe_b64encode(bytes([0xFF]) * 32).decode()  # "_" is not standard base64
T0 = datetime(2025, 1, 1, tzinfo=UTC)
T1 = T0 + timedelta(days=90)


def make_signer(name: str, seed_byte: int) -> Signer:
    return Signer(name, Ed25519PrivateKey.from_private_bytes(bytes([seed_byte]) * 32))


@pytest.fixture
def key1() -> Signer:
    return make_signer(ORIGIN, 1)


@pytest.fixture
def key2() -> Signer:
    return make_signer(ORIGIN, 2)


def test_body_is_the_exact_c2sp_text() -> None:
    checkpoint = Checkpoint(ORIGIN, 20852163, ROOT)
    assert checkpoint.body() == f"{ORIGIN}\n20852163\n{ROOT_B64}\n".encode()
    with_extensions = Checkpoint(ORIGIN, 0, ROOT, ("ext one", "ext-two"))
    assert with_extensions.body() == f"{ORIGIN}\n0\n{ROOT_B64}\next one\next-two\n".encode()


def test_signed_checkpoint_is_the_exact_signed_note(key1: Signer) -> None:
    body = Checkpoint(ORIGIN, 7, ROOT).body()
    private = Ed25519PrivateKey.from_private_bytes(bytes([1]) * 32)
    public = private.public_key().public_bytes_raw()
    kid = hashlib.sha256(ORIGIN.encode() + b"\n\x01" + public).digest()[:4]
    signature = base64.b64encode(kid + private.sign(body)).decode()
    assert sign_note(body, key1) == f"{ORIGIN}\n7\n{ROOT_B64}\n\n\u2014 {ORIGIN} {signature}\n"


def test_parse_round_trips_and_keeps_extensions() -> None:
    checkpoint = Checkpoint(ORIGIN, 12, ROOT, ("x",))
    assert parse_checkpoint(checkpoint.body()) == checkpoint


def test_extensions_given_as_a_list_are_stored_as_a_tuple() -> None:
    assert Checkpoint(ORIGIN, 1, ROOT, ["a"]).extensions == ("a",)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (f"{ORIGIN}\n007\n{ROOT_B64}\n", "leading zero"),
        (f"{ORIGIN}\n00\n{ROOT_B64}\n", "leading zero"),
        (f"{ORIGIN}\n+5\n{ROOT_B64}\n", "not a decimal"),
        (f"{ORIGIN}\n-1\n{ROOT_B64}\n", "not a decimal"),
        (f"{ORIGIN}\n 5\n{ROOT_B64}\n", "not a decimal"),
        (f"{ORIGIN}\n\u0665\n{ROOT_B64}\n", "not a decimal"),  # ARABIC-INDIC DIGIT FIVE
        (f"{ORIGIN}\n\n{ROOT_B64}\n", "not a decimal"),
        (f"{ORIGIN}\n{2**64}\n{ROOT_B64}\n", "64 bits"),
        (f"{ORIGIN}\n5\n{base64.b64encode(ROOT[:31]).decode()}\n", "31 bytes"),
        (f"{ORIGIN}\n5\n{base64.b64encode(ROOT + b'x').decode()}\n", "33 bytes"),
        (f"{ORIGIN}\n5\n{ROOT_B64.rstrip('=')}\n", "base64"),
        (f"{ORIGIN}\n5\n{URLSAFE_ROOT}\n", "base64"),
        (f"{ORIGIN}\n5\n{ROOT_B64}", "newline"),
        (f"{ORIGIN}\r\n5\r\n{ROOT_B64}\r\n", "CRLF"),
        (f"{ORIGIN}\n5\n", "needs origin, tree size and root"),
        (f"{ORIGIN}\n5\n{ROOT_B64}\n\n", "extension line 4"),
        (f"{ORIGIN}\n5\n{ROOT_B64}\next\n\n", "extension line 5"),
        (f"{ORIGIN}\n5\n{ROOT_B64}\ntab\there\n", "extension line 4"),
        (f"\n5\n{ROOT_B64}\n", "origin"),
        (f"deskguard.example/a b\n5\n{ROOT_B64}\n", "origin"),
        (f"deskguard.example/a+b\n5\n{ROOT_B64}\n", "origin"),
    ],
)
def test_strict_parsing_names_what_is_wrong(body: str, message: str) -> None:
    with pytest.raises(CheckpointError, match=message) as caught:
        parse_checkpoint(body.encode())
    assert caught.value.code == CheckpointErrorCode.MALFORMED


def test_non_canonical_base64_root_is_refused() -> None:
    # Same 32 bytes, but the last character carries non-zero padding bits.
    tweaked = ROOT_B64[:-2] + chr(ord(ROOT_B64[-2]) + 1) + "="
    assert base64.b64decode(tweaked) == ROOT
    with pytest.raises(CheckpointError, match="canonical"):
        parse_checkpoint(f"{ORIGIN}\n5\n{tweaked}\n".encode())


def test_invalid_utf8_is_refused() -> None:
    with pytest.raises(CheckpointError, match="UTF-8"):
        parse_checkpoint(b"\xffdeskguard\n5\n" + ROOT_B64.encode() + b"\n")


@pytest.mark.parametrize(
    ("origin", "size", "root"),
    [("", 1, ROOT), (ORIGIN, -1, ROOT), (ORIGIN, 2**64, ROOT), (ORIGIN, True, ROOT), (ORIGIN, 1, ROOT[:16])],
)
def test_constructor_validates(origin: str, size: int, root: bytes) -> None:
    with pytest.raises(CheckpointError):
        Checkpoint(origin, size, root)


def test_zero_and_max_sizes_are_valid() -> None:
    for size in (0, 2**64 - 1):
        assert parse_checkpoint(Checkpoint(ORIGIN, size, ROOT).body()).size == size


def keyring_of(*signers: Signer) -> Keyring:
    return Keyring(ORIGIN, tuple(TrustedKey(s.verifier, not_before=T0) for s in signers))


def test_verify_checkpoint_returns_the_checkpoint_and_the_key(key1: Signer) -> None:
    checkpoint = Checkpoint(ORIGIN, 3, ROOT)
    verified = verify_checkpoint(sign_note(checkpoint.body(), key1), keyring=keyring_of(key1))
    assert verified.checkpoint == checkpoint
    assert [key.verifier for key in verified.keys] == [key1.verifier]


def test_rotation_keeps_old_checkpoints_verifiable(key1: Signer, key2: Signer) -> None:
    before = sign_note(Checkpoint(ORIGIN, 10, ROOT).body(), key1)
    keyring = keyring_of(key1).rotate(verifier=key2.verifier, at=T1)
    after = sign_note(Checkpoint(ORIGIN, 20, hashlib.sha256(b"later").digest()).body(), key2)

    assert keyring.keys[0].not_after == T1 and keyring.keys[1].not_before == T1
    assert verify_checkpoint(before, keyring=keyring).keys[0].verifier == key1.verifier
    assert verify_checkpoint(after, keyring=keyring).keys[0].verifier == key2.verifier
    # Signing times the ledger recorded: each inside its key's interval.
    assert verify_checkpoint(before, keyring=keyring, at=T0 + timedelta(days=1)).checkpoint.size == 10
    assert verify_checkpoint(after, keyring=keyring, at=T1).checkpoint.size == 20

    only_new = Keyring(ORIGIN, (TrustedKey(key2.verifier, not_before=T1),))
    with pytest.raises(NoteError) as caught:
        verify_checkpoint(before, keyring=only_new)
    assert caught.value.code == NoteErrorCode.UNVERIFIED


def test_a_signing_time_outside_the_key_interval_is_refused(key1: Signer, key2: Signer) -> None:
    keyring = keyring_of(key1).rotate(verifier=key2.verifier, at=T1)
    old_key_late = sign_note(Checkpoint(ORIGIN, 30, ROOT).body(), key1)
    assert verify_checkpoint(old_key_late, keyring=keyring).checkpoint.size == 30  # no time: accepted
    for at in (T1, T1 + timedelta(days=1), T0 - timedelta(seconds=1)):
        with pytest.raises(CheckpointError) as caught:
            verify_checkpoint(old_key_late, keyring=keyring, at=at)
        assert caught.value.code == CheckpointErrorCode.KEY_INACTIVE


def test_dual_signed_checkpoint_reports_the_key_active_at_the_time(key1: Signer, key2: Signer) -> None:
    keyring = keyring_of(key1).rotate(verifier=key2.verifier, at=T1)
    note = add_signature(sign_note(Checkpoint(ORIGIN, 5, ROOT).body(), key1), key2)
    assert [k.verifier for k in verify_checkpoint(note, keyring=keyring).keys] == [
        key1.verifier,
        key2.verifier,
    ]
    assert [k.verifier for k in verify_checkpoint(note, keyring=keyring, at=T1).keys] == [key2.verifier]


def test_witness_cosignature_is_ignored_by_the_log_keyring(key1: Signer) -> None:
    witness = make_signer("witness.example/w1", 9)
    note = add_signature(sign_note(Checkpoint(ORIGIN, 5, ROOT).body(), key1), witness)
    assert [k.verifier for k in verify_checkpoint(note, keyring=keyring_of(key1)).keys] == [key1.verifier]


def test_another_tenants_checkpoint_is_refused() -> None:
    other = "deskguard.example/tenants/tnt_other"
    # A deployment that (wrongly) shared one key across tenants must still not mix their logs.
    shared = make_signer(ORIGIN, 1)
    note = sign_note(Checkpoint(other, 5, ROOT).body(), shared)
    with pytest.raises(CheckpointError) as caught:
        verify_checkpoint(note, keyring=keyring_of(shared))
    assert caught.value.code == CheckpointErrorCode.WRONG_ORIGIN


def test_a_tampered_checkpoint_is_refused(key1: Signer) -> None:
    note = sign_note(Checkpoint(ORIGIN, 5, ROOT).body(), key1).replace("\n5\n", "\n6\n", 1)
    with pytest.raises(NoteError) as caught:
        verify_checkpoint(note, keyring=keyring_of(key1))
    assert caught.value.code == NoteErrorCode.BAD_SIGNATURE


def test_a_signed_note_that_is_not_a_checkpoint_is_refused(key1: Signer) -> None:
    with pytest.raises(CheckpointError, match="needs origin"):
        verify_checkpoint(sign_note(b"hello\n", key1), keyring=keyring_of(key1))


def test_keyring_invariants(key1: Signer) -> None:
    with pytest.raises(CheckpointError) as caught:
        Keyring(ORIGIN, (TrustedKey(make_signer("elsewhere.example/log", 1).verifier, not_before=T0),))
    assert caught.value.code == CheckpointErrorCode.BAD_KEYRING
    with pytest.raises(CheckpointError, match="key ID"):
        Keyring(ORIGIN, (TrustedKey(key1.verifier, not_before=T0), TrustedKey(key1.verifier, not_before=T1)))
    with pytest.raises(ValueError, match="timezone"):
        TrustedKey(key1.verifier, not_before=datetime(2025, 1, 1))  # naive on purpose
    with pytest.raises(ValueError, match="later"):
        TrustedKey(key1.verifier, not_before=T1, not_after=T0)
    with pytest.raises(ValueError, match="rotation"):
        keyring_of(key1).rotate(verifier=make_signer(ORIGIN, 2).verifier, at=T0)
    with pytest.raises(ValueError, match="timezone"):
        verify_checkpoint(
            sign_note(Checkpoint(ORIGIN, 1, ROOT).body(), key1),
            keyring=keyring_of(key1),
            at=datetime(2025, 2, 1),
        )


origins = st.text(
    alphabet=st.characters(codec="utf-8", exclude_categories=("Cc", "Cf", "Cs", "Co", "Cn", "Z")),
    min_size=1,
    max_size=60,
).filter(lambda origin: "+" not in origin)
checkpoints = st.builds(
    Checkpoint,
    origin=origins,
    size=st.integers(min_value=0, max_value=2**64 - 1),
    root=st.binary(min_size=32, max_size=32),
    extensions=st.lists(st.text(alphabet="abc xyz/=0123", min_size=1, max_size=20), max_size=3).map(tuple),
)


@given(checkpoint=checkpoints)
def test_parse_inverts_body(checkpoint: Checkpoint) -> None:
    assert parse_checkpoint(checkpoint.body()) == checkpoint


@given(checkpoint=checkpoints)
def test_signed_checkpoints_verify(checkpoint: Checkpoint) -> None:
    signer = make_signer(checkpoint.origin, 3)
    keyring = Keyring(checkpoint.origin, (TrustedKey(signer.verifier, not_before=T0),))
    assert verify_checkpoint(sign_note(checkpoint.body(), signer), keyring=keyring).checkpoint == checkpoint
