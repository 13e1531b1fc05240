"""Signed notes: the Go reference vectors, the exact byte format, and the verification rules."""

from __future__ import annotations

import base64
import hashlib

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from hypothesis import given
from hypothesis import strategies as st

from deskguard.audit.note import (
    MAX_NOTE_BYTES,
    NoteError,
    NoteErrorCode,
    Signer,
    Verifier,
    add_signature,
    generate_signer,
    open_note,
    sign_note,
)

# golang.org/x/mod/sumdb/note, note_test.go (TestSign, TestOpen): keys, text and signatures. They are
# self-checking: a wrong byte anywhere would make the key ID or the signature fail to verify.
GO_SIGNER = "PRIVATE+KEY+PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz"
GO_VERIFIER = "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW"
GO_ENOCH_VERIFIER = "EnochRoot+af0cfe78+ATtqJ7zOtqQtYqOo0CpvDXNlMhV3HeJDpjrASKGLWdop"
GO_TEXT = (
    "If you think cryptography is the answer to your problem,\nthen you don't know what your problem is.\n"
)
GO_PETER_SIG = (
    "\u2014 PeterNeumann "
    "x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=\n"
)
GO_ENOCH_SIG = (
    "\u2014 EnochRoot "
    "rwz+eBzmZa0SO3NbfRGzPCpDckykFXSdeX+MNtCOXm2/5n2tiOHp+vAF1aGrQ5ovTG01oOTGwnWLox33WWd1RvMc+QQ=\n"
)

SEED = bytes(range(32))
NAME = "deskguard.example/tenants/tnt_acme"


def signer_text_for(name: str, seed: bytes) -> str:
    """The Go signer key text, built here with hashlib only, independently of the module."""
    public = Ed25519PrivateKey.from_private_bytes(seed).public_key().public_bytes_raw()
    kid = hashlib.sha256(name.encode() + b"\n\x01" + public).digest()[:4]
    material = base64.b64encode(b"\x01" + seed).decode()
    return f"PRIVATE+KEY+{name}+{kid.hex()}+{material}"


@pytest.fixture
def signer() -> Signer:
    return Signer.from_text(signer_text_for(NAME, SEED))


@pytest.fixture
def witness() -> Signer:
    return Signer.from_text(signer_text_for("witness.example/w1", bytes(32)))


def test_go_signer_key_gives_the_go_verifier_key_and_key_id() -> None:
    signer = Signer.from_text(GO_SIGNER)
    assert signer.verifier.to_text() == GO_VERIFIER
    assert signer.key_id == 0xC74F20A3
    assert signer.to_text() == GO_SIGNER
    assert Verifier.from_text(GO_VERIFIER) == signer.verifier


def test_go_note_is_reproduced_byte_for_byte_and_opens() -> None:
    note = sign_note(GO_TEXT.encode(), Signer.from_text(GO_SIGNER))
    assert note == GO_TEXT + "\n" + GO_PETER_SIG
    body, keys = open_note(note, verifiers=[Verifier.from_text(GO_VERIFIER)])
    assert body == GO_TEXT.encode()
    assert [key.name for key in keys] == ["PeterNeumann"]


def test_go_two_signature_note_verifies_with_either_or_both_keys() -> None:
    note = GO_TEXT + "\n" + GO_PETER_SIG + GO_ENOCH_SIG
    peter, enoch = Verifier.from_text(GO_VERIFIER), Verifier.from_text(GO_ENOCH_VERIFIER)
    assert [k.name for k in open_note(note, verifiers=[peter])[1]] == ["PeterNeumann"]
    assert [k.name for k in open_note(note, verifiers=[enoch])[1]] == ["EnochRoot"]
    assert [k.name for k in open_note(note, verifiers=[enoch, peter])[1]] == ["PeterNeumann", "EnochRoot"]


@pytest.mark.parametrize(
    "note",
    [
        GO_TEXT,
        GO_TEXT + "\n",
        GO_TEXT + "\n" + GO_PETER_SIG[:-1],
        "\x01" + GO_TEXT + "\n" + GO_PETER_SIG,
        GO_TEXT + "\n" + GO_PETER_SIG.replace("PeterNeumann", "Bad Name"),
        GO_TEXT + "\n" + GO_PETER_SIG + "Unexpected line.\n",
        GO_TEXT + "\n" + GO_PETER_SIG * 101,
    ],
    ids=[
        "no-signatures",
        "blank-line-only",
        "no-final-newline",
        "control-char",
        "bad-name",
        "stray-line",
        "101-sigs",
    ],
)
def test_go_malformed_notes_are_malformed_here_too(note: str) -> None:
    with pytest.raises(NoteError) as caught:
        open_note(note, verifiers=[Verifier.from_text(GO_VERIFIER)])
    assert caught.value.code == NoteErrorCode.MALFORMED


def test_invalid_utf8_is_malformed() -> None:
    note = b"\xff" + (GO_TEXT + "\n" + GO_PETER_SIG).encode()
    with pytest.raises(NoteError, match="UTF-8"):
        open_note(note, verifiers=[Verifier.from_text(GO_VERIFIER)])


def test_exact_byte_format_with_an_independently_computed_key_id(signer: Signer) -> None:
    body = b"deskguard.example/tenants/tnt_acme\n0\n" + base64.b64encode(bytes(32)) + b"\n"
    private = Ed25519PrivateKey.from_private_bytes(SEED)
    public = private.public_key().public_bytes_raw()
    kid = hashlib.sha256(NAME.encode() + b"\n" + b"\x01" + public).digest()[:4]
    expected_line = "\u2014 " + NAME + " " + base64.b64encode(kid + private.sign(body)).decode() + "\n"
    assert sign_note(body, signer) == body.decode() + "\n" + expected_line
    material = base64.b64encode(b"\x01" + public).decode()
    assert signer.verifier.to_text() == f"{NAME}+{kid.hex()}+{material}"


def test_generated_keys_round_trip() -> None:
    signer_text, verifier_text = generate_signer(NAME)
    assert signer_text.startswith(f"PRIVATE+KEY+{NAME}+")
    signer = Signer.from_text(signer_text)
    assert signer.verifier == Verifier.from_text(verifier_text)
    assert signer.to_text() == signer_text
    # the key material follows "PRIVATE+KEY+<name>+<key id>+"; base64 may itself hold "+"
    material = signer_text.removeprefix(f"PRIVATE+KEY+{NAME}+").split("+", 1)[1]
    assert "PRIVATE" not in repr(signer) and material not in repr(signer)


@pytest.mark.parametrize(
    "text",
    [
        GO_VERIFIER.replace("c74f20a3", "c74f20a4"),  # key ID does not match
        GO_VERIFIER.replace("+c74f20a3", "+c74f20a"),  # short ID
        "PeterNeumann+173116ae+ZRpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",  # unknown algorithm
        "PeterNeumann+cc469956+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TWBADKEY==",  # wrong length
        "Peter Neumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",  # space in name
        GO_VERIFIER[:-1],
        "PeterNeumann",
    ],
)
def test_mangled_verifier_keys_are_refused(text: str) -> None:
    with pytest.raises(NoteError) as caught:
        Verifier.from_text(text)
    assert caught.value.code == NoteErrorCode.BAD_KEY


@pytest.mark.parametrize(
    "text",
    [GO_SIGNER.removeprefix("PRIVATE+KEY+"), GO_SIGNER.replace("c74f20a3", "c74f20a4"), GO_SIGNER[:-2]],
)
def test_mangled_signer_keys_are_refused(text: str) -> None:
    with pytest.raises(NoteError):
        Signer.from_text(text)


def test_a_note_signed_only_by_an_unknown_key_is_rejected(signer: Signer, witness: Signer) -> None:
    note = sign_note(b"hello\n", witness)
    with pytest.raises(NoteError) as caught:
        open_note(note, verifiers=[signer.verifier])
    assert caught.value.code == NoteErrorCode.UNVERIFIED


def test_same_name_other_key_counts_as_unknown(signer: Signer) -> None:
    impostor = Signer.from_text(signer_text_for(NAME, bytes(31) + b"\x07"))
    with pytest.raises(NoteError) as caught:
        open_note(sign_note(b"hello\n", impostor), verifiers=[signer.verifier])
    assert caught.value.code == NoteErrorCode.UNVERIFIED


def test_a_second_signature_by_an_unknown_key_is_ignored(signer: Signer, witness: Signer) -> None:
    body, keys = open_note(sign_note(b"hello\n", signer, witness), verifiers=[signer.verifier])
    assert body == b"hello\n"
    assert keys == [signer.verifier]


def test_a_flipped_body_byte_is_tampering(signer: Signer) -> None:
    note = sign_note(b"size 42\n", signer).replace("42", "43", 1)
    with pytest.raises(NoteError) as caught:
        open_note(note, verifiers=[signer.verifier])
    assert caught.value.code == NoteErrorCode.BAD_SIGNATURE


@pytest.mark.parametrize("offset", [4, 20, 67])  # bytes of the signature, after the 4-byte key ID
def test_a_flipped_signature_byte_is_tampering(signer: Signer, offset: int) -> None:
    note = sign_note(b"hello\n", signer)
    head, encoded = note.rsplit(" ", 1)
    raw = bytearray(base64.b64decode(encoded))
    raw[offset] ^= 0x01
    with pytest.raises(NoteError) as caught:
        open_note(f"{head} {base64.b64encode(raw).decode()}\n", verifiers=[signer.verifier])
    assert caught.value.code == NoteErrorCode.BAD_SIGNATURE


def test_a_bad_signature_by_a_known_key_rejects_even_beside_a_good_one(
    signer: Signer, witness: Signer
) -> None:
    good = sign_note(b"hello\n", signer, witness)
    forged_witness_line = sign_note(b"other\n", witness).splitlines(keepends=True)[-1]
    note = good.rsplit("\u2014 witness", 1)[0] + forged_witness_line
    with pytest.raises(NoteError) as caught:
        open_note(note, verifiers=[signer.verifier, witness.verifier])
    assert caught.value.code == NoteErrorCode.BAD_SIGNATURE


@pytest.mark.parametrize("dash", ["-", "\u2013", "\u2014", "\u2014\u00a0"])  # hyphen, en dash, no space, NBSP
def test_signature_lines_need_an_em_dash_and_a_space(signer: Signer, dash: str) -> None:
    note = sign_note(b"hello\n", signer).replace("\u2014 ", dash, 1)
    with pytest.raises(NoteError, match="em dash"):
        open_note(note, verifiers=[signer.verifier])


def test_duplicate_signatures_are_rejected(signer: Signer) -> None:
    note = sign_note(b"hello\n", signer)
    line = note.splitlines(keepends=True)[-1]
    with pytest.raises(NoteError, match="repeats"):
        open_note(note + line, verifiers=[signer.verifier])


def test_crlf_and_non_canonical_base64_are_malformed(signer: Signer) -> None:
    note = sign_note(b"hello\n", signer)
    with pytest.raises(NoteError, match="CRLF"):
        open_note(note.replace("\n", "\r\n"), verifiers=[signer.verifier])
    with pytest.raises(NoteError, match="base64"):
        open_note(note[:-2] + "\n", verifiers=[signer.verifier])  # padding removed


def test_body_must_end_in_newline_and_be_clean(signer: Signer) -> None:
    with pytest.raises(NoteError, match="newline"):
        sign_note(b"hello", signer)
    with pytest.raises(NoteError, match="CRLF"):
        sign_note(b"hello\r\n", signer)
    with pytest.raises(NoteError, match="UTF-8"):
        sign_note(b"\xc3\n", signer)


def test_notes_over_one_mebibyte_are_refused(signer: Signer) -> None:
    with pytest.raises(NoteError) as caught:
        open_note("a" * MAX_NOTE_BYTES + "\n\n" + "\u2014 x AAAAAAA=\n", verifiers=[signer.verifier])
    assert caught.value.code == NoteErrorCode.TOO_LARGE
    with pytest.raises(NoteError) as caught:
        sign_note(b"a" * (MAX_NOTE_BYTES - 10) + b"\n", signer)
    assert caught.value.code == NoteErrorCode.TOO_LARGE


def test_signing_needs_distinct_signers(signer: Signer) -> None:
    with pytest.raises(ValueError):
        sign_note(b"hello\n")
    with pytest.raises(ValueError):
        sign_note(b"hello\n", signer, Signer.from_text(signer.to_text()))


def test_ambiguous_and_missing_verifiers_are_refused(signer: Signer) -> None:
    note = sign_note(b"hello\n", signer)
    assert open_note(note, verifiers=[signer.verifier, signer.verifier])[1] == [signer.verifier]
    with pytest.raises(NoteError) as caught:
        open_note(note, verifiers=[])
    assert caught.value.code == NoteErrorCode.BAD_KEY


def test_add_signature_appends_keeps_the_log_first_and_is_idempotent(signer: Signer, witness: Signer) -> None:
    note = sign_note(b"hello\n", signer)
    cosigned = add_signature(note, witness)
    assert cosigned == sign_note(b"hello\n", signer, witness)
    assert add_signature(cosigned, witness) == cosigned
    assert add_signature(cosigned, signer) == cosigned  # re-signing keeps the log's line in place
    assert open_note(cosigned, verifiers=[witness.verifier, signer.verifier])[1] == [
        signer.verifier,
        witness.verifier,
    ]


def test_add_signature_replaces_a_stale_signature_of_the_same_key(signer: Signer, witness: Signer) -> None:
    stale = sign_note(b"other\n", witness).splitlines(keepends=True)[-1]
    note = sign_note(b"hello\n", signer) + stale
    assert add_signature(note, witness) == sign_note(b"hello\n", signer, witness)


def test_body_may_contain_blank_lines(signer: Signer) -> None:
    body = b"a\n\nb\n\n"
    assert open_note(sign_note(body, signer), verifiers=[signer.verifier])[0] == body


note_lines = st.text(alphabet=st.characters(codec="utf-8", exclude_categories=("Cc", "Cs")), max_size=40).map(
    lambda line: line + "\n"
)


@given(lines=st.lists(note_lines, min_size=1, max_size=6))
def test_open_returns_what_was_signed(lines: list[str]) -> None:
    signer = Signer.from_text(signer_text_for(NAME, SEED))
    body = "".join(lines).encode()
    opened, keys = open_note(sign_note(body, signer), verifiers=[signer.verifier])
    assert opened == body
    assert keys == [signer.verifier]
