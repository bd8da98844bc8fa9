"""Decoding a SunSpec model block: raw registers -> values with units and scale factors.

Every SunSpec type has a "not implemented" marker (0x8000 for int16 and scale factors, 0xFFFF
for uint16/enum16, NaN for floats, ...). A point holding its marker is recorded as
unimplemented, never decoded into a number, and asking for it raises
:class:`~drivers.errors.ProtocolError`. A scale factor outside -10..10 is garbage as well.

Accumulators are the exception: their marker is 0, which is also what a counter reads that has
not counted yet (the export counter of a home that never exported). A 0 accumulator reads 0:
energy is booked from counter deltas, so a counter that stays at 0 books nothing, where calling
it unimplemented failed a meter that had simply never exported.
"""

from __future__ import annotations

import math
import struct
from dataclasses import dataclass, field

from drivers.errors import DriverConfigError, ProtocolError
from drivers.modbus.codec import RegType, decode, encode
from drivers.modbus.sunspec.models import GroupDef, ModelDef, PointDef

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

# A 0 "count" is a legitimate count, a 0 accumulator a counter at zero (see above).
_ZERO_IS_VALUE = {"count", "acc16", "acc32", "acc64"}
SF_RANGE = range(-10, 11)


@dataclass(frozen=True)
class PointValues:
    """Decoded points of one block (a model's fixed block or one repeat of its group)."""

    what: str  # "SunSpec model 160" or "SunSpec model 160 module 2", for messages
    points: dict[str, PointDef]
    values: dict[str, float | int | str] = field(default_factory=dict)
    unimplemented: frozenset[str] = frozenset()

    def get(self, name: str) -> float | int | str:
        if name not in self.points:
            raise DriverConfigError(f"{self.what} has no point {name!r}")
        if name in self.values:
            return self.values[name]
        raise ProtocolError(f"{self.what} point {name} is not implemented")

    def number(self, name: str) -> float:
        value = self.get(name)
        if isinstance(value, str):
            raise ProtocolError(f"{self.what} point {name} is text, not a number")
        return float(value)

    def has(self, name: str) -> bool:
        return name in self.values

    def units(self, name: str) -> str:
        if name not in self.points:
            raise DriverConfigError(f"{self.what} has no point {name!r}")
        return self.points[name].units


@dataclass(frozen=True)
class ModelValues(PointValues):
    """The decoded fixed block of one model instance, and the repeats of its group."""

    model: ModelDef = field(kw_only=True)
    address: int = field(kw_only=True)  # register address of the model's ID
    repeats: tuple[PointValues, ...] = field(default=(), kw_only=True)


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


def _decode_points(
    what: str,
    points: dict[str, PointDef],
    regs: list[int],
    scale: dict[str, int | float | str],
) -> PointValues:
    """Decode ``points`` from ``regs``; scale factors named by points come from ``scale`` or the block."""
    raw: dict[str, int | float | str] = {}
    for point in points.values():
        value = _raw(point, regs)
        if value is not None:
            raw[point.name] = value
    values: dict[str, float | int | str] = {}
    missing: set[str] = set()
    for point in points.values():
        if point.name not in raw:
            missing.add(point.name)
            continue
        value = raw[point.name]
        if point.type == "sunssf":
            if not isinstance(value, int) or value not in SF_RANGE:
                raise ProtocolError(f"{what} scale factor {point.name}={value} is garbage")
            values[point.name] = value
            continue
        if point.sf is None or isinstance(value, str):
            values[point.name] = value
            continue
        exponent = point.sf if isinstance(point.sf, int) else raw.get(point.sf, scale.get(point.sf))
        if not isinstance(exponent, int):
            missing.add(point.name)  # a value without its scale factor is not a number we know
            continue
        if exponent not in SF_RANGE:
            raise ProtocolError(f"{what} scale factor {point.sf}={exponent} is garbage")
        values[point.name] = float(value) * 10.0**exponent
    return PointValues(what, points, values, frozenset(missing))


def decode_model(model: ModelDef, address: int, regs: list[int]) -> ModelValues:
    """Decode ``regs`` (starting at the model's ID register) into engineering values.

    Registers beyond the fixed block are the repeats of the model's group, if it has one.
    """
    if len(regs) < 2 or regs[0] != model.id:
        raise ProtocolError(f"registers at {address} do not hold SunSpec model {model.id}")
    what = f"SunSpec model {model.id}"
    fixed = _decode_points(what, model.points, regs, {})
    repeats: list[PointValues] = []
    group = model.repeating
    if group is not None:
        start = 2 + model.fixed_length
        count = (len(regs) - start) // group.length
        for i in range(count):
            block = regs[start + i * group.length : start + (i + 1) * group.length]
            repeats.append(_decode_points(f"{what} {group.name} {i + 1}", group.points, block, fixed.values))
    return ModelValues(
        what,
        model.points,
        fixed.values,
        fixed.unimplemented,
        model=model,
        address=address,
        repeats=tuple(repeats),
    )


def repeat_count(model: ModelDef, length: int) -> int:
    """How many repeats of the model's group a block of ``length`` (L) registers holds."""
    group: GroupDef | None = model.repeating
    if group is None or length <= model.fixed_length:
        return 0
    return (length - model.fixed_length) // group.length


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
