"""Topic maps: how one kind of MQTT device publishes its values and takes commands, as YAML data.

A map names the capability it provides and, per value the capability needs, the topic (with
``{base}`` standing for the device's base topic from the config), the JSON path inside the
payload, the type, scale and the plausible range. Writes name the command topic, a payload
template (``"{value}"`` is replaced by the value) and the value whose read-back confirms it.

Maps ship in ``drivers/mqtt/maps/*.yaml``; ``load_map`` also takes a path to a site's own file.
Every mistake in a map is a :class:`~drivers.errors.DriverConfigError` naming the file and key.
"""

from __future__ import annotations

import math
import re
from pathlib import Path
from typing import Any, Literal, Self

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from drivers.errors import DriverConfigError
from drivers.mqtt.jsonpath import JsonPath, PathSyntaxError, parse_path

MAPS_DIR = Path(__file__).with_name("maps")
_PLACEHOLDER = re.compile(r"\{([^}]*)\}")

Capability = Literal["meter", "thermostat", "water_heater", "ev_charger"]
ValueType = Literal["float", "bool", "str"]
Scalar = float | bool | str

# value name -> type, for what each capability must be able to read and write.
REQUIRED_VALUES: dict[str, dict[str, ValueType]] = {
    "meter": {"import_kwh": "float", "export_kwh": "float", "power_w": "float"},
    "thermostat": {"indoor_c": "float", "setpoint_c": "float", "mode": "str"},
    "water_heater": {"tank_c": "float", "element_on": "bool"},
    "ev_charger": {
        "plugged": "bool",
        "charging": "bool",
        "power_w": "float",
        "current_limit_a": "float",
        "session_kwh": "float",
    },
}
REQUIRED_WRITES: dict[str, dict[str, ValueType]] = {
    "meter": {},
    "thermostat": {"setpoint_c": "float"},
    "water_heater": {"element_on": "bool"},
    "ev_charger": {"current_limit_a": "float"},
}
THERMOSTAT_MODES = ("off", "heat", "cool", "auto")
# An EV charger map with this write can discharge the vehicle (V2G): the value is the signed
# current per phase, negative (the map's range lies at or below 0); charging and pausing go
# through ``current_limit_a``.
DISCHARGE_WRITE = "discharge_current_a"


def map_key(raw: Any) -> str:
    """The canonical text of a JSON scalar, as used for ``map:`` keys (3 and 3.0 are both "3")."""
    if isinstance(raw, bool):
        return "true" if raw else "false"
    if isinstance(raw, float) and math.isfinite(raw) and raw.is_integer():
        return str(int(raw))
    if raw is None:
        return "null"
    return str(raw)


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def _check_topic(topic: str) -> str:
    for name in _PLACEHOLDER.findall(topic):
        if name != "base":
            raise ValueError(f"unknown placeholder {{{name}}} in topic {topic!r}; only {{base}} is allowed")
    if any(c in topic for c in "#+"):
        raise ValueError(f"topic {topic!r} must be a plain topic, without wildcards")
    return topic


class ValueSpec(_Strict):
    topic: str = Field(min_length=1)
    path: str = ""
    format: Literal["json", "text"] = "json"
    type: ValueType = "float"
    unit: str = ""
    scale: float = 1.0
    offset: float = 0.0
    min: float | None = None  # plausible range after scale/offset; outside is a protocol error
    max: float | None = None
    map: dict[str, Scalar] | None = None  # raw scalar (canonical text) -> value
    stale_after_s: float | None = Field(default=None, gt=0)  # None: the device's setting
    optional: bool = False  # not every device of this kind publishes it

    _topic = field_validator("topic")(_check_topic)

    @field_validator("map", mode="before")
    @classmethod
    def _keys(cls, raw: Any) -> Any:
        return {map_key(k): v for k, v in raw.items()} if isinstance(raw, dict) else raw

    @field_validator("path")
    @classmethod
    def _path(cls, text: str) -> str:
        try:
            parse_path(text)
        except PathSyntaxError as e:
            raise ValueError(str(e)) from e
        return text

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        if self.min is not None and self.max is not None and self.min > self.max:
            raise ValueError(f"min {self.min:g} > max {self.max:g}")
        if not (math.isfinite(self.scale) and self.scale != 0 and math.isfinite(self.offset)):
            raise ValueError("scale must be finite and non-zero, offset finite")
        if self.map is not None:
            for k, v in self.map.items():
                if _type_of(v) != self.type:
                    raise ValueError(f"map entry {k!r}: {v!r} is not of type {self.type}")
        return self

    @property
    def json_path(self) -> JsonPath:
        return parse_path(self.path)


class VerifySpec(_Strict):
    value: str  # the name of a value in ``values`` that reflects the write
    tolerance: float = Field(default=0.0, ge=0)
    expect: Scalar | None = None  # read back this instead of the written value
    # How long the device may take to act and publish its new state (OpenEVSE: a few seconds).
    timeout_s: float = Field(default=10.0, gt=0, le=600)


class ZeroWrite(_Strict):
    """A different command for the value 0 (e.g. OpenEVSE pauses with ``state: disabled``)."""

    payload: Any
    verify: VerifySpec | None = None


class WriteSpec(_Strict):
    topic: str = Field(min_length=1)
    format: Literal["json", "text"] = "json"
    payload: Any = "{value}"
    type: ValueType = "float"
    min: float | None = None  # the device's accepted range; writes outside never leave us
    max: float | None = None
    integer: bool = False  # the device takes whole numbers: round down (never above the request)
    map: dict[str, Any] | None = None  # value (canonical text) -> payload, e.g. true -> "on"
    when_zero: ZeroWrite | None = None
    verify: VerifySpec
    qos: Literal[0, 1, 2] = 1
    retain: bool = False

    _topic = field_validator("topic")(_check_topic)

    @field_validator("map", mode="before")
    @classmethod
    def _keys(cls, raw: Any) -> Any:
        return {map_key(k): v for k, v in raw.items()} if isinstance(raw, dict) else raw

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        if self.min is not None and self.max is not None and self.min > self.max:
            raise ValueError(f"min {self.min:g} > max {self.max:g}")
        if self.type == "float" and (self.min is None or self.max is None):
            raise ValueError("a numeric write needs min and max: nothing is written without limits")
        return self


class Availability(_Strict):
    """The device's own online/offline topic (its last will): offline makes every value stale."""

    topic: str
    path: str = ""
    format: Literal["json", "text"] = "text"
    offline: str = "offline"

    _topic = field_validator("topic")(_check_topic)


class OnStop(_Strict):
    """A command sent when the agent stops, handing the device back to its own control."""

    topic: str
    payload: str

    _topic = field_validator("topic")(_check_topic)


class TopicMap(_Strict):
    name: str
    description: str = ""
    source: str = ""  # where the topics are documented
    capability: Capability
    availability: Availability | None = None
    values: dict[str, ValueSpec]
    writes: dict[str, WriteSpec] = Field(default_factory=dict)
    on_stop: OnStop | None = None

    @model_validator(mode="after")
    def _covers_capability(self) -> Self:
        for kind, table, need in (
            ("values", self.values, REQUIRED_VALUES[self.capability]),
            ("writes", self.writes, REQUIRED_WRITES[self.capability]),
        ):
            for name, typ in need.items():
                if name not in table:
                    raise ValueError(f"{kind}.{name}: required for a {self.capability} map")
                if table[name].type != typ:
                    raise ValueError(f"{kind}.{name}.type: must be {typ} (got {table[name].type})")
                if kind == "values" and self.values[name].optional:
                    raise ValueError(f"values.{name}.optional: a {self.capability} always needs it")
        for name, w in self.writes.items():
            for v in (w.verify, w.when_zero.verify if w.when_zero else None):
                if v is not None and v.value not in self.values:
                    raise ValueError(f"writes.{name}.verify.value: no value named {v.value!r}")
        discharge = self.writes.get(DISCHARGE_WRITE)
        if discharge is not None:
            if self.capability != "ev_charger":
                raise ValueError(f"writes.{DISCHARGE_WRITE}: only an ev_charger map can discharge")
            if discharge.type != "float" or discharge.max is None or discharge.max > 0:
                raise ValueError(f"writes.{DISCHARGE_WRITE}.max: a discharge current is negative (max <= 0)")
        if self.capability == "thermostat":
            modes = self.values["mode"].map
            if modes is None or not set(map(str, modes.values())) <= set(THERMOSTAT_MODES):
                raise ValueError(f"values.mode.map: must map the device's modes to {THERMOSTAT_MODES}")
        return self


def _type_of(v: Any) -> ValueType:
    if isinstance(v, bool):
        return "bool"
    if isinstance(v, int | float):
        return "float"
    return "str"


def builtin_maps() -> tuple[str, ...]:
    return tuple(sorted(p.stem for p in MAPS_DIR.glob("*.yaml")))


def load_map(name_or_path: str | Path) -> TopicMap:
    """A built-in map by name (``openevse``) or a YAML file by path."""
    path = Path(name_or_path)
    if path.suffix not in (".yaml", ".yml"):
        path = MAPS_DIR / f"{name_or_path}.yaml"
        if not path.is_file():
            raise DriverConfigError(
                f"unknown topic map {str(name_or_path)!r}; built-in maps: {', '.join(builtin_maps())}",
                field="driver.topic_map",
            )
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as e:
        raise DriverConfigError(f"cannot read topic map {path}: {e}", field="driver.topic_map") from e
    try:
        return TopicMap.model_validate(raw)
    except ValidationError as e:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in err['loc']) or '(top)'}: {err['msg']}" for err in e.errors()
        )
        raise DriverConfigError(f"topic map {path}: {problems}", field="driver.topic_map") from e
