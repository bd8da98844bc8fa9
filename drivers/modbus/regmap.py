"""Register maps: a non-SunSpec Modbus device described as YAML data.

A map names each quantity it offers (``power_w``, ``import_kwh``, ``battery_soc_pct``, ...)
with its address, type, scale, word order and sign, and describes the writes it supports
(``controls``). The generic driver derives capabilities from the names present, so a new
meter model is a new YAML file, not new code. Maps live in ``drivers/modbus/maps/<name>.yaml``.

Sign: ``sign: -1`` turns a device that counts export as positive into our +import convention.
"""

from __future__ import annotations

import functools
from importlib import resources
from typing import Annotated, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from drivers.errors import DriverConfigError
from drivers.modbus.codec import RegType, WordOrder
from drivers.modbus.link import Table

Address = Annotated[int, Field(ge=0, le=0xFFFF)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)


class Defaults(_Strict):
    table: Table = Table.HOLDING
    type: RegType = RegType.U16
    word_order: WordOrder = "big"


class PointSpec(_Strict):
    address: Address
    unit: str = ""
    table: Table | None = None
    type: RegType | None = None
    word_order: WordOrder | None = None
    scale: float = 1.0
    sign: Literal[1, -1] = 1
    # Physically possible range of the engineering value; anything outside is garbage.
    min: float | None = None
    max: float | None = None
    label: str = ""


class Register(_Strict):
    """A writable register: ``raw = value / scale``."""

    address: Address
    type: RegType = RegType.U16
    word_order: WordOrder = "big"
    scale: float = 1.0


class PercentControl(Register):
    """A power cap written as a percentage of the rated power (``rated_point``)."""

    kind: Literal["percent_of_rated"]
    rated_point: str
    # The percentage that means "no cap".
    off_pct: float = 100.0


class SignedControl(Register):
    """One register holds a signed setpoint in our sign convention (after ``sign``)."""

    kind: Literal["signed"]
    sign: Literal[1, -1] = 1


class Direction(Register):
    idle: int
    charge: int
    discharge: int


class SplitControl(_Strict):
    """A direction register and a magnitude register per direction (e.g. forced charge)."""

    kind: Literal["split"]
    direction: Direction
    charge: Register
    discharge: Register


Control = Annotated[PercentControl | SignedControl | SplitControl, Field(discriminator="kind")]


class RegisterMap(_Strict):
    name: str
    source: str  # where the register list comes from (manual, version)
    defaults: Defaults = Defaults()
    # Registers further apart than this are read in separate requests.
    max_gap: Annotated[int, Field(ge=0, le=100)] = 10
    points: dict[str, PointSpec]
    controls: dict[str, Control] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _controls_refer_to_points(self) -> RegisterMap:
        for name, control in self.controls.items():
            if isinstance(control, PercentControl) and control.rated_point not in self.points:
                raise ValueError(f"controls.{name}.rated_point: no point {control.rated_point!r}")
        return self

    def resolved(self, name: str) -> ResolvedPoint:
        p = self.points[name]
        return ResolvedPoint(
            name=name,
            address=p.address,
            table=p.table or self.defaults.table,
            type=p.type or self.defaults.type,
            word_order=p.word_order or self.defaults.word_order,
            scale=p.scale,
            sign=p.sign,
            unit=p.unit,
            min=p.min,
            max=p.max,
        )

    def all_points(self) -> list[ResolvedPoint]:
        return [self.resolved(n) for n in self.points]


class ResolvedPoint(BaseModel):
    model_config = ConfigDict(frozen=True)
    name: str
    address: int
    table: Table
    type: RegType
    word_order: WordOrder
    scale: float
    sign: int
    unit: str
    min: float | None
    max: float | None

    @property
    def end(self) -> int:
        return self.address + self.type.registers


def parse_map(text: str, source: str) -> RegisterMap:
    try:
        doc = yaml.safe_load(text)
    except yaml.YAMLError as e:
        raise DriverConfigError(f"{source}: not valid YAML: {e}") from e
    try:
        return RegisterMap.model_validate(doc)
    except ValidationError as e:
        problems = "; ".join(f"{'.'.join(map(str, err['loc']))}: {err['msg']}" for err in e.errors())
        raise DriverConfigError(f"{source}: {problems}") from e


def available_maps() -> tuple[str, ...]:
    folder = resources.files("drivers.modbus").joinpath("maps")
    return tuple(sorted(p.name.removesuffix(".yaml") for p in folder.iterdir() if p.name.endswith(".yaml")))


@functools.cache
def load_map(name: str) -> RegisterMap:
    """The built-in map ``name``; :class:`DriverConfigError` naming ``driver.register_map``."""
    path = resources.files("drivers.modbus").joinpath("maps", f"{name}.yaml")
    if not path.is_file():
        raise DriverConfigError(
            f"no register map {name!r}; available: {', '.join(available_maps())}",
            field="driver.register_map",
        )
    return parse_map(path.read_text(encoding="utf-8"), f"maps/{name}.yaml")
