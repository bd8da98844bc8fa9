"""SunSpec model definitions, read from the JSON files the SunSpec Alliance publishes.

pysunspec2 ships them (``sunspec2/models/json/model_<id>.json``); we read only the files, at
run time, so the register layout is never hand-typed. The fixed top-level block of a model is
laid out, and a model's repeating group where it has one (the DC inputs of model 160); the
agent reads no nested groups (curves).
"""

from __future__ import annotations

import functools
import json
from dataclasses import dataclass
from importlib import resources
from typing import Any

from drivers.errors import DriverConfigError

# SunSpec point type -> registers it spans (strings take their declared size).
_FIXED_SIZES = {
    "uint16": 1,
    "int16": 1,
    "acc16": 1,
    "enum16": 1,
    "bitfield16": 1,
    "sunssf": 1,
    "count": 1,
    "pad": 1,
    "uint32": 2,
    "int32": 2,
    "acc32": 2,
    "enum32": 2,
    "bitfield32": 2,
    "float32": 2,
    "ipaddr": 2,
    "uint64": 4,
    "int64": 4,
    "acc64": 4,
    "bitfield64": 4,
    "float64": 4,
    "eui48": 4,
    "ipv6addr": 8,
}


@dataclass(frozen=True, slots=True)
class PointDef:
    name: str
    offset: int  # registers from the model's ID register
    size: int
    type: str
    sf: str | int | None  # the name of the scale-factor point, or a fixed exponent
    units: str
    mandatory: bool
    writable: bool
    label: str


@dataclass(frozen=True, slots=True)
class GroupDef:
    """A repeating group: ``length`` registers per repeat, offsets from the repeat's start."""

    name: str
    length: int
    points: dict[str, PointDef]

    def point(self, name: str) -> PointDef:
        try:
            return self.points[name]
        except KeyError:
            raise DriverConfigError(f"SunSpec group {self.name} has no point {name!r}") from None


@dataclass(frozen=True, slots=True)
class ModelDef:
    id: int
    name: str
    label: str
    fixed_length: int  # registers of the fixed block after ID and L
    points: dict[str, PointDef]
    repeating: GroupDef | None = None  # repeats fill the registers after the fixed block

    def point(self, name: str) -> PointDef:
        try:
            return self.points[name]
        except KeyError:
            raise DriverConfigError(f"SunSpec model {self.id} has no point {name!r}") from None


def _model_dir() -> Any:
    return resources.files("sunspec2").joinpath("models", "json")


@functools.cache
def load_model(model_id: int) -> ModelDef:
    """The definition of SunSpec model ``model_id``; :class:`DriverConfigError` if unpublished."""
    path = _model_dir().joinpath(f"model_{model_id}.json")
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise DriverConfigError(f"no published SunSpec definition for model {model_id}") from None
    group = doc["group"]
    points, length = _points(group["points"])
    # A top-level group without a fixed count repeats to fill the model's length (L).
    groups = [g for g in group.get("groups", ()) if not g.get("count") and not g.get("groups")]
    repeating = None
    if len(groups) == 1:
        repeat_points, repeat_length = _points(groups[0]["points"])
        repeating = GroupDef(str(groups[0]["name"]), repeat_length, repeat_points)
    return ModelDef(
        id=int(doc["id"]),
        name=str(group["name"]),
        label=str(group.get("label", group["name"])),
        fixed_length=length - 2,
        points=points,
        repeating=repeating,
    )


def _points(defs: list[dict[str, Any]]) -> tuple[dict[str, PointDef], int]:
    points: dict[str, PointDef] = {}
    offset = 0
    for p in defs:
        size = int(p.get("size") or _FIXED_SIZES.get(p["type"], 1))
        points[p["name"]] = PointDef(
            name=p["name"],
            offset=offset,
            size=size,
            type=p["type"],
            sf=p.get("sf"),
            units=str(p.get("units", "")).strip(),
            mandatory=p.get("mandatory") == "M",
            writable="W" in str(p.get("access", "R")),
            label=str(p.get("label", p["name"])),
        )
        offset += size
    return points, offset


def known_model(model_id: int) -> bool:
    return bool(_model_dir().joinpath(f"model_{model_id}.json").is_file())
