import math
import struct

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from drivers.errors import DriverConfigError, ProtocolError
from drivers.modbus.codec import RegType, decode, encode, scaled, unscaled

_INT_RANGES = {
    RegType.U16: (0, 2**16 - 1),
    RegType.S16: (-(2**15), 2**15 - 1),
    RegType.U32: (0, 2**32 - 1),
    RegType.S32: (-(2**31), 2**31 - 1),
    RegType.U64: (0, 2**64 - 1),
    RegType.S64: (-(2**63), 2**63 - 1),
}

word_orders = st.sampled_from(["big", "little"])


@st.composite
def int_cases(draw: st.DrawFn) -> tuple[RegType, int]:
    t = draw(st.sampled_from(sorted(_INT_RANGES)))
    lo, hi = _INT_RANGES[t]
    return t, draw(st.integers(lo, hi))


@settings(max_examples=200)
@given(int_cases(), word_orders)
def test_integer_round_trip(case: tuple[RegType, int], order: str) -> None:
    t, value = case
    regs = encode(value, t, order)  # type: ignore[arg-type]
    assert len(regs) == t.registers
    assert all(0 <= r <= 0xFFFF for r in regs)
    assert decode(regs, t, order) == value  # type: ignore[arg-type]


@settings(max_examples=200)
@given(st.floats(allow_nan=False, allow_infinity=False, width=32), word_orders)
def test_f32_round_trip(value: float, order: str) -> None:
    assert decode(encode(value, RegType.F32, order), RegType.F32, order) == value  # type: ignore[arg-type]


@settings(max_examples=200)
@given(int_cases())
def test_word_order_little_is_reversed_registers(case: tuple[RegType, int]) -> None:
    # Guards against swapping bytes instead of words: only register order differs.
    t, value = case
    assert encode(value, t, "little") == list(reversed(encode(value, t, "big")))


def test_known_vectors() -> None:
    # 0x0001_0002 big-endian words = 65538; little word order reads it as 0x0002_0001.
    assert decode([0x0001, 0x0002], RegType.U32, "big") == 65538
    assert decode([0x0001, 0x0002], RegType.U32, "little") == 0x00020001
    assert decode([0xFFFF], RegType.S16) == -1
    assert decode([0x4348, 0x0000], RegType.F32) == 200.0  # SDM630 style float
    assert encode(-2, RegType.S32) == [0xFFFF, 0xFFFE]


@pytest.mark.parametrize("regs", [[0x7FC0, 0x0000], [0x7F80, 0x0000], [0xFF80, 0x0000]])
def test_nan_and_infinity_are_protocol_errors(regs: list[int]) -> None:
    # A meter returning NaN must never become a number in the snapshot.
    with pytest.raises(ProtocolError, match="not a measurement"):
        decode(regs, RegType.F32)


def test_wrong_register_count_is_protocol_error() -> None:
    with pytest.raises(ProtocolError, match="needs 2"):
        decode([1], RegType.U32)


@pytest.mark.parametrize(("value", "t"), [(70000, RegType.U16), (-1, RegType.U32), (1.5, RegType.S16)])
def test_encode_out_of_range_is_refused(value: float, t: RegType) -> None:
    with pytest.raises(DriverConfigError):
        encode(value, t)


def test_encode_non_finite_float_is_refused() -> None:
    with pytest.raises(DriverConfigError, match="non-finite"):
        encode(math.inf, RegType.F32)


@settings(max_examples=200)
@given(
    st.integers(-(2**15), 2**15 - 1),
    st.sampled_from([0.001, 0.01, 0.1, 1.0, 10.0, 100.0]),
    st.sampled_from([1, -1]),
)
def test_scale_round_trip_for_integers(raw: int, scale: float, sign: int) -> None:
    value = scaled(raw, scale, sign)
    assert unscaled(value, scale, RegType.S16, sign) == raw


def test_scaled_f32_matches_struct() -> None:
    raw = struct.unpack(">f", bytes.fromhex("41200000"))[0]
    assert scaled(raw, 0.001) == pytest.approx(0.01)
