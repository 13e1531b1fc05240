"""The real clock, randomness and secret box (AES-256-GCM under the master key, HMAC-SHA256).

Tests and simulations inject ``FixedClock`` and ``SeededRandomness`` instead, so runs replay exactly.
"""

from __future__ import annotations

import hashlib
import hmac
import random
import secrets
from datetime import UTC, datetime, timedelta

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from deskguard.domain.errors import ConfigurationError


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(UTC)


class FixedClock:
    """A clock that moves only when told to."""

    def __init__(self, start: datetime) -> None:
        if start.tzinfo is None:
            raise ValueError("FixedClock needs an aware datetime")
        self._now = start

    def now(self) -> datetime:
        return self._now

    def advance(self, **delta: float) -> None:
        self._now += timedelta(**delta)

    def set(self, when: datetime) -> None:
        self._now = when


class SystemRandomness:
    def new_id(self, prefix: str) -> str:
        return f"{prefix}_{secrets.token_hex(10)}"

    def token(self, nbytes: int) -> str:
        return secrets.token_urlsafe(nbytes)

    def randbelow(self, n: int) -> int:
        return secrets.randbelow(n)


class SeededRandomness:
    """Deterministic randomness for simulations and tests. Never for production secrets."""

    def __init__(self, seed: int) -> None:
        self._rng = random.Random(seed)

    def new_id(self, prefix: str) -> str:
        return f"{prefix}_{self._rng.getrandbits(80):020x}"

    def token(self, nbytes: int) -> str:
        return self._rng.randbytes(nbytes).hex()

    def randbelow(self, n: int) -> int:
        return self._rng.randrange(n)


class AesGcmSecretBox:
    """Seals secrets with AES-256-GCM; the ``context`` is bound as associated data, so a sealed TOTP
    seed cannot be replayed as another factor's. Keys are derived from the master key with HKDF."""

    _NONCE = 12

    def __init__(self, master_key: bytes) -> None:
        if len(master_key) < 32:
            raise ConfigurationError("the master key must be at least 32 bytes")
        self._enc = AESGCM(self._derive(master_key, b"deskguard/seal/v1"))
        self._mac_key = self._derive(master_key, b"deskguard/mac/v1")

    @staticmethod
    def _derive(master: bytes, info: bytes) -> bytes:
        return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=info).derive(master)

    def seal(self, plaintext: bytes, *, context: str) -> bytes:
        nonce = secrets.token_bytes(self._NONCE)
        return b"\x01" + nonce + self._enc.encrypt(nonce, plaintext, context.encode())

    def open(self, sealed: bytes, *, context: str) -> bytes:
        if not sealed or sealed[0] != 1:
            raise ValueError("unknown sealed-secret format")
        nonce, body = sealed[1 : 1 + self._NONCE], sealed[1 + self._NONCE :]
        return self._enc.decrypt(nonce, body, context.encode())

    def mac(self, value: str, *, context: str) -> str:
        return hmac.new(self._mac_key, f"{context}\x00{value}".encode(), hashlib.sha256).hexdigest()
