"""RFC 8785 canonical JSON: the RFC's own examples, refusals with paths, properties, and a JS oracle.

The Appendix B number samples and the §3.2.2 / §3.2.3 examples are written from the RFC text; each
Appendix B pair was also checked against Node's ``String(double)`` when this file was written. When
``node`` is installed, a seeded batch of random values is also compared with the RFC's own
JavaScript reference shape (``JSON.stringify`` with sorted keys).
"""

from __future__ import annotations

import enum
import json
import random
import shutil
import struct
import subprocess
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from deskguard.audit.jcs import MAX_SAFE_INTEGER, CanonicalizationError, canonicalize

# RFC 8785 Appendix B: IEEE 754 double (hex) → canonical form.
APPENDIX_B = [
    ("0000000000000000", "0"),
    ("8000000000000000", "0"),
    ("0000000000000001", "5e-324"),
    ("8000000000000001", "-5e-324"),
    ("7fefffffffffffff", "1.7976931348623157e+308"),
    ("ffefffffffffffff", "-1.7976931348623157e+308"),
    ("4340000000000000", "9007199254740992"),
    ("c340000000000000", "-9007199254740992"),
    ("4430000000000000", "295147905179352830000"),
    ("44b52d02c7e14af5", "9.999999999999997e+22"),
    ("44b52d02c7e14af6", "1e+23"),
    ("44b52d02c7e14af7", "1.0000000000000001e+23"),
    ("444b1ae4d6e2ef4e", "999999999999999700000"),
    ("444b1ae4d6e2ef4f", "999999999999999900000"),
    ("444b1ae4d6e2ef50", "1e+21"),
    ("3eb0c6f7a0b5ed8c", "9.999999999999997e-7"),
    ("3eb0c6f7a0b5ed8d", "0.000001"),
    ("41b3de4355555553", "333333333.3333332"),
    ("41b3de4355555554", "333333333.33333325"),
    ("41b3de4355555555", "333333333.3333333"),
    ("41b3de4355555556", "333333333.3333334"),
    ("41b3de4355555557", "333333333.33333343"),
    ("becbf647612f3696", "-0.0000033333333333333333"),
    ("43143ff3c1cb0959", "1424953923781206.2"),
]
APPENDIX_B_ERRORS = ["7fffffffffffffff", "7ff0000000000000"]  # NaN, Infinity


def _double(hex_bits: str) -> float:
    value: float = struct.unpack(">d", bytes.fromhex(hex_bits))[0]
    return value


@pytest.mark.parametrize(("bits", "expected"), APPENDIX_B, ids=[b for b, _ in APPENDIX_B])
def test_appendix_b_numbers(bits: str, expected: str) -> None:
    assert canonicalize(_double(bits)) == expected.encode()


@pytest.mark.parametrize("bits", [*APPENDIX_B_ERRORS, "fff0000000000000"])
def test_nan_and_infinities_are_refused(bits: str) -> None:
    with pytest.raises(CanonicalizationError, match="is not a JSON number"):
        canonicalize({"x": [_double(bits)]})


def test_the_section_3_2_2_example() -> None:
    text = r"""{
      "numbers": [333333333.33333329, 1E30, 4.50, 2e-3, 0.000000000000000000000000001],
      "string": "\u20ac$\u000F\u000aA'\u0042\u0022\u005c\\\"\/",
      "literals": [null, true, false]
    }"""
    expected = (
        '{"literals":[null,true,false],"numbers":[333333333.3333333,1e+30,4.5,0.002,1e-27],'
        '"string":"€$\\u000f\\nA\'B\\"\\\\\\\\\\"/"}'
    )
    assert canonicalize(json.loads(text)) == expected.encode("utf-8")


def test_the_section_3_2_3_sorting_example() -> None:
    text = r"""{
      "\u20ac": "Euro Sign",
      "\r": "Carriage Return",
      "\ufb33": "Hebrew Letter Dalet With Dagesh",
      "1": "One",
      "\ud83d\ude00": "Emoji: Grinning Face",
      "\u0080": "Control",
      "\u00f6": "Latin Small Letter O With Diaeresis"
    }"""
    values = [value for value in json.loads(canonicalize(json.loads(text)))]
    assert values == [
        "\r",
        "1",
        "\u0080",
        "\u00f6",
        "\u20ac",
        "\U0001f600",  # a surrogate pair in UTF-16: sorts below U+FB33 although its code point is higher
        "\ufb33",
    ]


def test_string_escaping() -> None:
    controls = "".join(chr(i) for i in range(0x20))
    expected = (
        '"\\u0000\\u0001\\u0002\\u0003\\u0004\\u0005\\u0006\\u0007\\b\\t\\n\\u000b\\f\\r\\u000e\\u000f'
        "\\u0010\\u0011\\u0012\\u0013\\u0014\\u0015\\u0016\\u0017\\u0018\\u0019\\u001a\\u001b\\u001c"
        '\\u001d\\u001e\\u001f"'
    )
    assert canonicalize(controls) == expected.encode()
    assert canonicalize('"\\/') == b'"\\"\\\\/"'
    # DEL, U+2028/9, non-BMP: all literal UTF-8.
    literal = "\x7f\u2028\u2029é€\U0001f600"
    assert canonicalize(literal) == b'"' + literal.encode("utf-8") + b'"'


def test_numbers_and_literals() -> None:
    assert canonicalize([0, -0.0, 1.0, -1, 1e21, 1e20, 1e-6, 1e-7, 0.1, 123.456, True, False, None]) == (
        b"[0,0,1,-1,1e+21,100000000000000000000,0.000001,1e-7,0.1,123.456,true,false,null]"
    )
    assert canonicalize([MAX_SAFE_INTEGER, -MAX_SAFE_INTEGER]) == b"[9007199254740991,-9007199254740991]"


def test_integers_beyond_the_safe_range_are_refused_unless_already_canonical() -> None:
    with pytest.raises(CanonicalizationError, match=r"counters\[1\]: integer 9007199254740993 is outside"):
        canonicalize({"counters": [1, 2**53 + 1]})  # would silently become ...992 as a double
    for refused in [2**60, -(2**60), 66609165897833512, 10**400]:
        with pytest.raises(CanonicalizationError, match="outside"):
            canonicalize(refused)
    # Digits that already spell a double canonically are what json.loads returns for big integral floats.
    for kept in [2**53, -(2**53), 10**17, 66609165897833510, 10**20]:
        assert canonicalize(kept) == str(kept).encode() == canonicalize(float(kept))


class Colour(enum.StrEnum):
    RED = "red"


class Level(enum.IntEnum):
    HIGH = 3


def test_enum_subclasses_serialise_as_their_value() -> None:
    assert canonicalize({"c": Colour.RED, "l": Level.HIGH}) == b'{"c":"red","l":3}'


@pytest.mark.parametrize(
    ("value", "path", "reason"),
    [
        ({"data": {"items": [1, 2, 3, (4,)]}}, "data.items[3]", "tuple is not a JSON value"),
        ({"a": {1: "x"}}, "a", "object key 1 is a int, not a str"),
        ({"a b": [b"x"]}, '["a b"][0]', "bytes is not a JSON value"),
        ([{"k": {1, 2}}], "[0].k", "set is not a JSON value"),
        ({"s": "\ud800"}, "s", "lone surrogate"),
        ({"\udfff": 1}, "", "lone surrogate"),
        (object(), "", "object is not a JSON value"),
    ],
)
def test_refusals_name_the_path(value: Any, path: str, reason: str) -> None:
    with pytest.raises(CanonicalizationError) as caught:
        canonicalize(value)
    assert caught.value.path == path
    assert reason in caught.value.reason
    assert str(caught.value).startswith(f"{path or '(top level)'}: ")


def test_cycles_and_absurd_nesting_are_refused() -> None:
    cyclic: list[Any] = []
    cyclic.append(cyclic)
    deep: Any = "bottom"
    for _ in range(100_000):
        deep = [deep]
    for value in (cyclic, deep):
        with pytest.raises(CanonicalizationError, match="nested too deeply"):
            canonicalize(value)


json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-MAX_SAFE_INTEGER, max_value=MAX_SAFE_INTEGER)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(),
    lambda children: st.lists(children, max_size=5) | st.dictionaries(st.text(), children, max_size=5),
    max_leaves=25,
)


def as_doubles(value: Any) -> Any:
    """JSON's number model: every number is a double (json.loads reads "66609165897833510" as an int)."""
    if isinstance(value, dict):
        return {key: as_doubles(item) for key, item in value.items()}
    if isinstance(value, list):
        return [as_doubles(item) for item in value]
    if isinstance(value, int | float) and not isinstance(value, bool):
        return float(value)
    return value


@given(json_values)
def test_round_trip_and_idempotence(value: Any) -> None:
    canonical = canonicalize(value)
    assert as_doubles(json.loads(canonical)) == as_doubles(value)
    assert canonicalize(json.loads(canonical)) == canonical
    canonical.decode("utf-8")  # always valid UTF-8


@given(st.dictionaries(st.text(), json_values, max_size=8), st.randoms(use_true_random=False))
def test_key_order_does_not_matter(value: dict[str, Any], rng: random.Random) -> None:
    items = list(value.items())
    rng.shuffle(items)
    assert canonicalize(dict(items)) == canonicalize(value)


@given(st.floats(allow_nan=False, allow_infinity=False))
def test_numbers_parse_back_to_the_same_double(number: float) -> None:
    assert float(canonicalize(number)) == number


_NODE_CANON = """
const canon = (o) => o === null || typeof o !== "object" ? JSON.stringify(o)
  : Array.isArray(o) ? "[" + o.map(canon).join(",") + "]"
  : "{" + Object.keys(o).sort().map((k) => JSON.stringify(k) + ":" + canon(o[k])).join(",") + "}";
const input = JSON.parse(require("fs").readFileSync(0, "utf8"));
process.stdout.write(JSON.stringify(input.map(canon)));
"""


def _random_value(rng: random.Random, depth: int = 0) -> Any:
    kind = rng.randrange(7 if depth < 3 else 5)
    if kind == 0:
        return rng.choice([None, True, False])
    if kind == 1:
        return rng.randint(-MAX_SAFE_INTEGER, MAX_SAFE_INTEGER)
    if kind == 2:  # any finite double, from its bits
        while True:
            number: float = struct.unpack(">d", rng.randbytes(8))[0]
            if number == number and abs(number) != float("inf"):
                return number
    if kind == 3:
        return rng.uniform(-1e6, 1e6) * 10 ** rng.randint(-30, 30)
    if kind == 4:
        return _random_text(rng)
    if kind == 5:
        return [_random_value(rng, depth + 1) for _ in range(rng.randrange(4))]
    return {_random_text(rng): _random_value(rng, depth + 1) for _ in range(rng.randrange(5))}


_ALPHABET = [
    chr(c) for c in [*range(0x40), 0x5C, 0x7F, 0x80, 0xE9, 0x2028, 0x20AC, 0xFB33, 0x1F600, 0x10FFFF]
]


def _random_text(rng: random.Random) -> str:
    return "".join(rng.choice(_ALPHABET) for _ in range(rng.randrange(6)))


@pytest.mark.skipif(shutil.which("node") is None, reason="node is not installed")
def test_agrees_with_javascript() -> None:
    rng = random.Random(8785)
    values = [_random_value(rng) for _ in range(2000)]
    values += [{"\U0001f600": 1, "\ufb33": 2, "é": 3, "e": 4, "\r": 5, "": 6}]
    result = subprocess.run(
        ["node", "-e", _NODE_CANON], input=json.dumps(values), capture_output=True, text=True, check=True
    )
    expected = json.loads(result.stdout)
    for value, js in zip(values, expected, strict=True):
        assert canonicalize(value) == js.encode("utf-8"), value
