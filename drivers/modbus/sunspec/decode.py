"""Decoding a SunSpec model block: raw registers -> values with units and scale factors.

Every SunSpec type has a "not implemented" marker (0x8000 for int16 and scale factors, 0xFFFF
for uint16/enum16, 0 for accumulators, NaN for floats, ...). A point holding its marker is
recorded as unimplemented, never decoded into a number, and asking for it raises
:class:`~drivers.errors.ProtocolError`. A scale factor outside -10..10 is garbage as well.
"""

from __future__ import annotations

import math
import struct
from dataclasses import dataclass, field

from drivers.errors import ProtocolError
from drivers.modbus.codec import RegType, decode, encode
from drivers.modbus.sunspec.models import ModelDef, PointDef

NUMERIC_TYPES: dict[str, tuple[RegType, int | None]] = {
    # type: (codec type, not-implemented raw value)
    "uint16": (RegType.U16, 0xFFFF),
    "int16": (RegType.S16, -0x8000),
    "sunssf": (RegType.S16, -0x8000),
    "enum16": (RegType.U16, 0xFFFF),
    "bitfield16": (RegType.U16, 0xFFFF),
    "count": (RegType.U16, 0),
    "acc16": (RegType.U16, 0),
    "uint32": (RegType.U32, 0xFFFFFFFF),
    "int32": (RegType.S32, -0x80000000),
    "enum32": (RegType.U32, 0xFFFFFFFF),
    "bitfield32": (RegType.U32, 0xFFFFFFFF),
    "acc32": (RegType.U32, 0),
    "uint64": (RegType.U64, 0xFFFFFFFFFFFFFFFF),
    "int64": (RegType.S64, -0x8000000000000000),
    "acc64": (RegType.U64, 0),
    "bitfield64": (RegType.U64, 0xFFFFFFFFFFFFFFFF),
    "float32": (RegType.F32, None),
    "float64": (RegType.F64, None),
}

# "count" 0 is a legitimate count; only accumulators use 0 as their marker.
_ZERO_IS_VALUE = {"count"}
SF_RANGE = range(-10, 11)


@dataclass(frozen=True)
class ModelValues:
    """The decoded fixed block of one model instance."""

    model: ModelDef
    address: int  # register address of the model's ID
    values: dict[str, float | int | str] = field(default_factory=dict)
    unimplemented: frozenset[str] = frozenset()

    def get(self, name: str) -> float | int | str:
        point = self.model.point(name)
        if name in self.values:
            return self.values[name]
        raise ProtocolError(f"SunSpec model {self.model.id} point {point.name} is not implemented")

    def number(self, name: str) -> float:
        value = self.get(name)
        if isinstance(value, str):
            raise ProtocolError(f"SunSpec model {self.model.id} point {name} is text, not a number")
        return float(value)

    def has(self, name: str) -> bool:
        return name in self.values

    def units(self, name: str) -> str:
        return self.model.point(name).units


def _raw(point: PointDef, regs: list[int]) -> int | float | str | None:
    chunk = regs[point.offset : point.offset + point.size]
    if len(chunk) < point.size:
        return None
    if point.type == "string":
        text = b"".join(r.to_bytes(2, "big") for r in chunk).split(b"\x00", 1)[0]
        return text.decode("utf-8", errors="replace").strip() or None
    spec = NUMERIC_TYPES.get(point.type)
    if spec is None:
        return None  # pad, addresses: nothing the agent reads
    reg_type, marker = spec
    if reg_type.is_float:
        fmt = ">f" if reg_type is RegType.F32 else ">d"
        number = struct.unpack(fmt, b"".join(r.to_bytes(2, "big") for r in chunk))[0]
        if math.isnan(number):
            return None
        if math.isinf(number):
            raise ProtocolError(f"SunSpec point {point.name} is {number}")
        return float(number)
    value = decode(chunk, reg_type)
    if marker is not None and value == marker and not (marker == 0 and point.type in _ZERO_IS_VALUE):
        return None
    return value


def decode_model(model: ModelDef, address: int, regs: list[int]) -> ModelValues:
    """Decode ``regs`` (starting at the model's ID register) into engineering values."""
    if len(regs) < 2 or regs[0] != model.id:
        raise ProtocolError(f"registers at {address} do not hold SunSpec model {model.id}")
    raw: dict[str, int | float | str] = {}
    for point in model.points.values():
        value = _raw(point, regs)
        if value is not None:
            raw[point.name] = value
    values: dict[str, float | int | str] = {}
    missing: set[str] = set()
    for point in model.points.values():
        if point.name not in raw:
            missing.add(point.name)
            continue
        value = raw[point.name]
        if point.type == "sunssf":
            if not isinstance(value, int) or value not in SF_RANGE:
                raise ProtocolError(f"SunSpec model {model.id} scale factor {point.name}={value} is garbage")
            values[point.name] = value
            continue
        if point.sf is None or isinstance(value, str):
            values[point.name] = value
            continue
        exponent = point.sf if isinstance(point.sf, int) else raw.get(point.sf)
        if not isinstance(exponent, int):
            missing.add(point.name)  # a value without its scale factor is not a number we know
            continue
        if exponent not in SF_RANGE:
            raise ProtocolError(f"SunSpec model {model.id} scale factor {point.sf}={exponent} is garbage")
        values[point.name] = float(value) * 10.0**exponent
    return ModelValues(model, address, values, frozenset(missing))


def encode_scaled(model: ModelDef, current: ModelValues, name: str, value: float) -> list[int]:
    """Registers to write ``value`` into point ``name``, using the device's own scale factor."""
    point = model.point(name)
    spec = NUMERIC_TYPES.get(point.type)
    if spec is None:
        raise ProtocolError(f"SunSpec point {name} of type {point.type} is not writable as a number")
    reg_type, _marker = spec
    exponent = 0
    if isinstance(point.sf, int):
        exponent = point.sf
    elif point.sf is not None:
        sf = current.get(point.sf)
        if not isinstance(sf, int):
            raise ProtocolError(f"SunSpec scale factor {point.sf} is not an integer")
        exponent = sf
    raw = value / 10.0**exponent
    return encode(raw if reg_type.is_float else round(raw), reg_type)
