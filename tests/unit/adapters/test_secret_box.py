"""Secrets at rest: AES-GCM bound to its context; keyed MACs; a short master key refused."""

from __future__ import annotations

import pytest
from cryptography.exceptions import InvalidTag

from deskguard.adapters.system import AesGcmSecretBox
from deskguard.domain.errors import ConfigurationError

KEY = bytes(range(32))


def test_seal_round_trips_and_never_contains_the_plaintext() -> None:
    box = AesGcmSecretBox(KEY)
    sealed = box.seal(b"JBSWY3DPEHPK3PXP-seed", context="totp:t:f")
    assert b"JBSWY3DP" not in sealed
    assert box.open(sealed, context="totp:t:f") == b"JBSWY3DPEHPK3PXP-seed"
    assert box.seal(b"x", context="c") != box.seal(b"x", context="c")  # fresh nonce each time


def test_a_sealed_secret_cannot_be_moved_to_another_context_or_tampered() -> None:
    box = AesGcmSecretBox(KEY)
    sealed = box.seal(b"seed", context="totp:t:f1")
    with pytest.raises(InvalidTag):
        box.open(sealed, context="totp:t:f2")
    with pytest.raises(InvalidTag):
        box.open(sealed[:-1] + bytes([sealed[-1] ^ 1]), context="totp:t:f1")
    with pytest.raises(InvalidTag):
        AesGcmSecretBox(bytes(32)).open(sealed, context="totp:t:f1")


def test_mac_is_keyed_and_context_bound() -> None:
    a, b = AesGcmSecretBox(KEY), AesGcmSecretBox(bytes(32))
    assert a.mac("42", context="push:r") == a.mac("42", context="push:r")
    assert a.mac("42", context="push:r") != a.mac("42", context="push:s")
    assert a.mac("42", context="push:r") != b.mac("42", context="push:r")


def test_a_short_master_key_is_refused() -> None:
    with pytest.raises(ConfigurationError):
        AesGcmSecretBox(b"short")
