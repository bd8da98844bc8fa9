"""Register <-> number codecs for Modbus holding/input registers.

A value of ``n`` bits spans ``n/16`` registers. Within each register the bytes are big-endian
(the Modbus rule); devices disagree only on the order of the registers (``word_order``): "big"
puts the most significant register first (SunSpec, Carlo Gavazzi floats), "little" the least
significant first (EM24 integers, many hybrid inverters).

Decoding rejects what cannot be a measurement (NaN or infinite floats) with
:class:`~drivers.errors.ProtocolError`; encoding rejects values that do not fit the type with
:class:`~drivers.errors.DriverConfigError` before anything is sent.
"""

from __future__ import annotations

import math
import struct
from enum import StrEnum
from typing import Literal

from drivers.errors import DriverConfigError, ProtocolError

WordOrder = Literal["big", "little"]


class RegType(StrEnum):
    U16 = "u16"
    S16 = "s16"
    U32 = "u32"
    S32 = "s32"
    U64 = "u64"
    S64 = "s64"
    F32 = "f32"
    F64 = "f64"

    @property
    def registers(self) -> int:
        return _FORMATS[self][1]

    @property
    def is_float(self) -> bool:
        return self in (RegType.F32, RegType.F64)


# struct format (big-endian), register count
_FORMATS: dict[RegType, tuple[str, int]] = {
    RegType.U16: (">H", 1),
    RegType.S16: (">h", 1),
    RegType.U32: (">I", 2),
    RegType.S32: (">i", 2),
    RegType.U64: (">Q", 4),
    RegType.S64: (">q", 4),
    RegType.F32: (">f", 2),
    RegType.F64: (">d", 4),
}


def _ordered(registers: list[int], word_order: WordOrder) -> list[int]:
    return list(reversed(registers)) if word_order == "little" else list(registers)


def decode(registers: list[int], reg_type: RegType, word_order: WordOrder = "big") -> int | float:
    """The raw number held in ``registers`` (exactly ``reg_type.registers`` of them)."""
    fmt, count = _FORMATS[reg_type]
    if len(registers) != count:
        raise ProtocolError(f"{reg_type} needs {count} register(s), got {len(registers)}")
    for r in registers:
        if not 0 <= r <= 0xFFFF:
            raise ProtocolError(f"register value {r} is not 16 bits")
    raw = b"".join(r.to_bytes(2, "big") for r in _ordered(registers, word_order))
    value: int | float = struct.unpack(fmt, raw)[0]
    if isinstance(value, float) and not math.isfinite(value):
        raise ProtocolError(f"{reg_type} register value is {value} (not a measurement)")
    return value


def encode(value: int | float, reg_type: RegType, word_order: WordOrder = "big") -> list[int]:
    """Registers holding ``value``; integers must be integral and in range for ``reg_type``."""
    fmt, _count = _FORMATS[reg_type]
    if reg_type.is_float:
        if not math.isfinite(value):
            raise DriverConfigError(f"cannot write non-finite value {value} as {reg_type}")
        packed_value: int | float = float(value)
    else:
        if isinstance(value, float) and not value.is_integer():
            raise DriverConfigError(f"{value} is not an integer and cannot be written as {reg_type}")
        packed_value = int(value)
    try:
        raw = struct.pack(fmt, packed_value)
    except (struct.error, OverflowError) as e:
        raise DriverConfigError(f"{value} does not fit {reg_type}") from e
    regs = [int.from_bytes(raw[i : i + 2], "big") for i in range(0, len(raw), 2)]
    return _ordered(regs, word_order)


def scaled(raw: int | float, scale: float, sign: int = 1) -> float:
    """Engineering value of a raw register number: ``raw * scale * sign``."""
    return float(raw) * scale * sign


def unscaled(value: float, scale: float, reg_type: RegType, sign: int = 1) -> int | float:
    """The raw number to write for an engineering ``value`` (rounded for integer types)."""
    if scale == 0:
        raise DriverConfigError("scale must not be 0")
    raw = value / scale * sign
    return raw if reg_type.is_float else round(raw)
