"""HOTP (RFC 4226) and TOTP (RFC 6238), pure: the caller supplies the time.

Verification returns the matched time step so the use case can record it and refuse a replay
(ASVS 6.5.1: a TOTP value is usable once). Comparison is constant time.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import struct

_DIGESTS = {"sha1": hashlib.sha1, "sha256": hashlib.sha256, "sha512": hashlib.sha512}


def hotp(secret: bytes, counter: int, *, digits: int = 6, algorithm: str = "sha1") -> str:
    if counter < 0:
        raise ValueError("HOTP counter must be non-negative")
    mac = hmac.new(secret, struct.pack(">Q", counter), _DIGESTS[algorithm]).digest()
    offset = mac[-1] & 0x0F
    code = struct.unpack(">I", mac[offset : offset + 4])[0] & 0x7FFFFFFF
    return str(code % 10**digits).zfill(digits)


def time_step(unix_time: float, *, period: int = 30, t0: int = 0) -> int:
    if unix_time < 0:
        return 0
    return int((unix_time - t0) // period)


def totp(
    secret: bytes, unix_time: float, *, digits: int = 6, period: int = 30, algorithm: str = "sha1"
) -> str:
    return hotp(secret, time_step(unix_time, period=period), digits=digits, algorithm=algorithm)


def match_totp(
    secret: bytes,
    code: str,
    *,
    unix_time: float,
    window: int = 1,
    digits: int = 6,
    period: int = 30,
    algorithm: str = "sha1",
) -> int | None:
    """The time step ``code`` is valid for, within ±``window`` steps of ``unix_time``, or None.

    Every candidate is compared (no early exit) so timing does not reveal which step matched.
    """
    if len(code) != digits or not code.isdigit():
        return None
    current = time_step(unix_time, period=period)
    found: int | None = None
    for step in range(max(0, current - window), current + window + 1):
        if hmac.compare_digest(hotp(secret, step, digits=digits, algorithm=algorithm), code):
            found = step if found is None else max(found, step)
    return found


def b32_secret(raw: bytes) -> str:
    """The base32 form authenticator apps take (no padding)."""
    return base64.b32encode(raw).decode().rstrip("=")
