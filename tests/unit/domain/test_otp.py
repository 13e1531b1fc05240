"""HOTP/TOTP against RFC 4226 Appendix D and RFC 6238 Appendix B (values from shared/reference)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from deskguard.domain.otp import b32_secret, hotp, match_totp, time_step, totp

VECTORS = Path(__file__).resolve().parents[4] / "shared" / "reference" / "test-vectors.md"
SEEDS = {
    "sha1": b"12345678901234567890",
    "sha256": b"12345678901234567890123456789012",
    "sha512": b"1234567890123456789012345678901234567890123456789012345678901234",
}


def _section(title: str) -> str:
    text = VECTORS.read_text()
    start = text.index(title)
    return text[start : text.index("###", start + 5)]


def rfc6238_rows() -> list[tuple[int, str, str, str]]:
    rows = re.findall(
        r"^\| (\d+) \| [^|]+\| [0-9A-F]+ \| (\d{8}) \| (\d{8}) \| (\d{8}) \|$",
        _section("### 2.1 RFC 6238"),
        re.M,
    )
    assert len(rows) == 6, "the RFC 6238 table in shared/reference/test-vectors.md changed shape"
    return [(int(t), a, b, c) for t, a, b, c in rows]


def rfc4226_rows() -> list[tuple[int, str]]:
    rows = re.findall(
        r"^\| (\d) \| `[0-9a-f]+` \| `[0-9a-f]+` \| \d+ \| (\d{6}) \|$", _section("### 2.2 RFC 4226"), re.M
    )
    assert len(rows) == 10
    return [(int(c), code) for c, code in rows]


@pytest.mark.parametrize(("counter", "code"), rfc4226_rows())
def test_hotp_rfc4226(counter: int, code: str) -> None:
    assert hotp(SEEDS["sha1"], counter) == code


@pytest.mark.parametrize("row", rfc6238_rows(), ids=lambda r: str(r[0]))
@pytest.mark.parametrize("algorithm", ["sha1", "sha256", "sha512"])
def test_totp_rfc6238(row: tuple[int, str, str, str], algorithm: str) -> None:
    t, *codes = row
    expected = dict(zip(["sha1", "sha256", "sha512"], codes, strict=True))[algorithm]
    assert totp(SEEDS[algorithm], t, digits=8, algorithm=algorithm) == expected


def test_six_digit_truncation_and_negative_time() -> None:
    assert totp(SEEDS["sha1"], 1111111111) == "050471"
    assert totp(SEEDS["sha1"], 2000000000) == "279037"
    assert totp(SEEDS["sha1"], -1) == "755224"  # negative times round down to step 0
    assert b32_secret(SEEDS["sha1"]) == "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ"
    with pytest.raises(ValueError):
        hotp(SEEDS["sha1"], -1)


def test_match_returns_the_step_within_the_window_only() -> None:
    seed, now = SEEDS["sha1"], 1_234_567_890
    step = time_step(now)
    assert match_totp(seed, totp(seed, now), unix_time=now) == step
    assert match_totp(seed, totp(seed, now - 30), unix_time=now) == step - 1
    assert match_totp(seed, totp(seed, now - 90), unix_time=now) is None
    assert match_totp(seed, "12345", unix_time=now) is None
    assert match_totp(seed, "abcdef", unix_time=now) is None


@given(st.binary(min_size=10, max_size=64), st.integers(min_value=0, max_value=2**40))
def test_a_code_always_matches_its_own_step(seed: bytes, t: int) -> None:
    assert match_totp(seed, totp(seed, t), unix_time=t) is not None
