"""Building a SunSpec register image from engineering values (the inverse of decoding).

Used by device emulators (the HIL rig) and tests to serve what a real SunSpec device serves:
the 'SunS' marker, models laid out from the published definitions (with the repeats of a
model's group, e.g. the DC inputs of model 160), the end model. A point not given holds its
"not implemented" marker.
"""

from __future__ import annotations

import struct
from collections.abc import Mapping, Sequence
from typing import TypeAlias

from drivers.errors import DriverConfigError
from drivers.modbus.codec import RegType, encode
from drivers.modbus.sunspec.decode import NUMERIC_TYPES
from drivers.modbus.sunspec.discovery import END_MODEL_ID, SUNS
from drivers.modbus.sunspec.models import PointDef, load_model

Value = float | int | str
# (model id, fixed-block values) or (model id, fixed-block values, one mapping per repeat)
ModelSpec: TypeAlias = (
    tuple[int, Mapping[str, Value]] | tuple[int, Mapping[str, Value], Sequence[Mapping[str, Value]]]
)


def _marker_registers(point: PointDef) -> list[int]:
    spec = NUMERIC_TYPES.get(point.type)
    if spec is None:
        return [0] * point.size
    reg_type, marker = spec
    if reg_type is RegType.F32:
        return [0x7FC0, 0]
    if reg_type is RegType.F64:
        return [0x7FF8, 0, 0, 0]
    return encode(marker if marker is not None else 0, reg_type)


def _point_registers(
    what: str, point: PointDef, values: Mapping[str, Value], scale: Mapping[str, Value]
) -> list[int]:
    if point.name not in values:
        return _marker_registers(point)
    value = values[point.name]
    if point.type == "string":
        raw = str(value).encode("utf-8")[: point.size * 2].ljust(point.size * 2, b"\x00")
        return [int.from_bytes(raw[i : i + 2], "big") for i in range(0, len(raw), 2)]
    spec = NUMERIC_TYPES.get(point.type)
    if spec is None or isinstance(value, str):
        raise DriverConfigError(f"{what} point {point.name}: cannot encode {value!r}")
    reg_type, _marker = spec
    exponent = 0
    if isinstance(point.sf, int):
        exponent = point.sf
    elif point.sf is not None:
        sf = values.get(point.sf, scale.get(point.sf, 0))
        if not isinstance(sf, int):
            raise DriverConfigError(f"{what} scale factor {point.sf} must be an integer")
        exponent = sf
    raw_value = float(value) / 10.0**exponent
    if reg_type.is_float:
        fmt = ">f" if reg_type is RegType.F32 else ">d"
        packed = struct.pack(fmt, raw_value)
        return [int.from_bytes(packed[i : i + 2], "big") for i in range(0, len(packed), 2)]
    return encode(round(raw_value), reg_type)


def model_registers(
    model_id: int, values: Mapping[str, Value], repeats: Sequence[Mapping[str, Value]] = ()
) -> list[int]:
    """``ID, L``, the fixed block of one model and the repeats of its group."""
    model = load_model(model_id)
    what = f"model {model_id}"
    unknown = set(values) - set(model.points)
    if unknown:
        raise DriverConfigError(f"{what} has no point(s) {sorted(unknown)}")
    group = model.repeating
    if repeats and group is None:
        raise DriverConfigError(f"{what} has no repeating group")
    repeat_length = group.length if group is not None else 0
    regs: list[int] = []
    for point in model.points.values():
        if point.name == "ID":
            regs.append(model_id)
        elif point.name == "L":
            regs.append(model.fixed_length + len(repeats) * repeat_length)
        else:
            regs.extend(_point_registers(what, point, values, {}))
    if group is not None:
        for i, repeat in enumerate(repeats):
            where = f"{what} {group.name} {i + 1}"
            unknown = set(repeat) - set(group.points)
            if unknown:
                raise DriverConfigError(f"{where} has no point(s) {sorted(unknown)}")
            for point in group.points.values():
                regs.extend(_point_registers(where, point, repeat, values))
    return regs


def build_image(models: Sequence[ModelSpec]) -> list[int]:
    """'SunS', the given models in order, and the end model: registers from the base address."""
    regs = list(SUNS)
    for spec in models:
        regs.extend(model_registers(*spec))
    regs.extend([END_MODEL_ID, 0])
    return regs
