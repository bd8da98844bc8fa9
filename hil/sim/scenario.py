"""Simulation scenarios: which home, when, how fast, what the agent is told, and which faults.

A scenario is one YAML file (format in ``hil/README.md``); :func:`load_scenario` checks every key
and raises :class:`ScenarioError` naming the key path of the first problem. Unknown keys are
errors, so a typo never silently drops a fault.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from datetime import datetime, time
from pathlib import Path
from typing import Any, Literal, get_args

import yaml

from hil.errors import HilError
from hil.plant.params import SUMMER, WINTER, HomeParams

PRESETS = {"summer": SUMMER, "winter": WINTER}
FaultKind = Literal[
    "modbus_gone",
    "modbus_garbage",
    "mqtt_silent",
    "mqtt_drop",
    "broker_restart",
    "retailer_silent",
    "bad_tender",
    "clock_jump",
]
FAULT_KINDS: tuple[str, ...] = get_args(FaultKind)
MODBUS_DEVICES = ("meter", "inverter")
MQTT_DEVICES = ("thermostat", "water_heater", "ev_charger", "weather")
BAD_TENDERS = (
    "bad_json",
    "nan",
    "misaligned",
    "wrong_currency",
    "over_cap",
    "huge_quantity",
    "unknown_field",
    "one_mb",
)


class ScenarioError(HilError):
    """A scenario file is unusable; ``field`` is the key path (``faults[2].device``)."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field


@dataclass(frozen=True)
class Fault:
    at_s: float  # simulated seconds after the start
    kind: FaultKind
    device: str | None = None
    duration_s: float = 0.0  # how long the fault lasts (0: an instant event)
    tender: str | None = None  # bad_tender: which breakage
    seconds: float = 0.0  # clock_jump: how far forward


@dataclass(frozen=True)
class Scenario:
    name: str
    home: HomeParams
    start: datetime
    days: float = 1.0
    speed: float = 2400.0
    cycle_s: float = 60.0
    agent: dict[str, Any] = field(default_factory=dict)  # merged into the generated agent config
    pricing: dict[str, str] = field(default_factory=dict)  # PricingRules overrides (decimal strings)
    faults: tuple[Fault, ...] = ()
    path: Path | None = None
    seed: int = 2015  # the weather forecast's errors (and any other randomness of the run)

    def with_days(self, days: float) -> Scenario:
        return dataclasses.replace(self, days=days)


def _map(value: Any, key: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise ScenarioError(key, f"must be a mapping, got {type(value).__name__}")
    return value


def _known(doc: dict[str, Any], key: str, allowed: set[str]) -> None:
    for k in doc:
        if k not in allowed:
            raise ScenarioError(f"{key}{k}", f"unknown key; allowed: {', '.join(sorted(allowed))}")


def _number(value: Any, key: str, *, lo: float | None = None, hi: float | None = None) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ScenarioError(key, f"must be a number, got {value!r}")
    if (lo is not None and value < lo) or (hi is not None and value > hi):
        raise ScenarioError(key, f"{value} outside {lo}..{hi}")
    return float(value)


def _home(doc: dict[str, Any]) -> HomeParams:
    preset = doc.get("preset")
    if preset not in PRESETS:
        raise ScenarioError("home.preset", f"must be one of {', '.join(PRESETS)}, got {preset!r}")
    base = PRESETS[preset]
    fields = {f.name: f for f in dataclasses.fields(HomeParams)}
    changes: dict[str, Any] = {}
    for k, raw in doc.items():
        v = raw
        if k == "preset":
            continue
        if k not in fields or k in ("week", "timezone"):
            raise ScenarioError(f"home.{k}", "not a home parameter (see hil/plant/params.py)")
        current = getattr(base, k)
        if isinstance(current, time):
            try:
                v = time.fromisoformat(str(raw))
            except ValueError as e:
                raise ScenarioError(f"home.{k}", f"needs HH:MM, got {raw!r}") from e
        elif isinstance(current, bool):
            if not isinstance(v, bool):
                raise ScenarioError(f"home.{k}", "must be true or false")
        elif isinstance(current, float | int):
            v = _number(raw, f"home.{k}")
        elif isinstance(current, str) and v != current and k == "mode":
            raise ScenarioError(f"home.{k}", "the mode follows the preset's season")
        changes[k] = v
    return dataclasses.replace(base, **changes)


def _fault(doc: Any, i: int) -> Fault:
    key = f"faults[{i}]"
    d = _map(doc, key)
    _known(d, f"{key}.", {"at_h", "kind", "device", "duration_s", "tender", "seconds"})
    kind = d.get("kind")
    if kind not in FAULT_KINDS:
        raise ScenarioError(f"{key}.kind", f"must be one of {', '.join(FAULT_KINDS)}, got {kind!r}")
    at_s = _number(d.get("at_h"), f"{key}.at_h", lo=0.0) * 3600.0
    duration = _number(d.get("duration_s", 0.0), f"{key}.duration_s", lo=0.0, hi=7 * 86400.0)
    device = d.get("device")
    if kind.startswith("modbus") and device not in MODBUS_DEVICES:
        raise ScenarioError(f"{key}.device", f"must be one of {', '.join(MODBUS_DEVICES)}")
    if kind.startswith("mqtt") and device not in MQTT_DEVICES:
        raise ScenarioError(f"{key}.device", f"must be one of {', '.join(MQTT_DEVICES)}")
    if (
        kind in ("modbus_gone", "modbus_garbage", "mqtt_silent", "mqtt_drop", "retailer_silent")
        and not duration
    ):
        raise ScenarioError(f"{key}.duration_s", f"{kind} needs a duration > 0")
    tender = d.get("tender")
    if kind == "bad_tender" and tender not in BAD_TENDERS:
        raise ScenarioError(f"{key}.tender", f"must be one of {', '.join(BAD_TENDERS)}")
    seconds = _number(d.get("seconds", 0.0), f"{key}.seconds", lo=0.0, hi=86400.0)
    if kind == "clock_jump" and not seconds:
        raise ScenarioError(f"{key}.seconds", "a clock jump needs seconds > 0 (forward)")
    return Fault(at_s, kind, device, duration, tender, seconds)


def parse_scenario(doc: Any, *, path: Path | None = None) -> Scenario:
    d = _map(doc, "scenario")
    _known(d, "", {"name", "home", "start", "days", "speed", "cycle_s", "agent", "pricing", "faults", "seed"})
    home = _home(_map(d.get("home", {"preset": "summer"}), "home"))
    raw_start = d.get("start")
    try:
        start = datetime.fromisoformat(str(raw_start))
    except ValueError as e:
        raise ScenarioError("start", f"needs ISO 8601 with a UTC offset, got {raw_start!r}") from e
    if start.tzinfo is None:
        raise ScenarioError("start", "needs a UTC offset (quote it in YAML)")
    pricing = _map(d.get("pricing", {}), "pricing")
    faults = tuple(_fault(f, i) for i, f in enumerate(d.get("faults") or []))
    return Scenario(
        name=str(d.get("name") or (path.stem if path else "scenario")),
        home=home,
        start=start,
        days=_number(d.get("days", 1.0), "days", lo=1 / 24, hi=28.0),
        speed=_number(d.get("speed", 2400.0), "speed", lo=1.0, hi=20_000.0),
        cycle_s=_number(d.get("cycle_s", 60.0), "cycle_s", lo=1.0, hi=900.0),
        agent=_map(d.get("agent", {}), "agent"),
        pricing={str(k): str(v) for k, v in pricing.items()},
        faults=tuple(sorted(faults, key=lambda f: f.at_s)),
        path=path,
        seed=_seed(d.get("seed", 2015)),
    )


def _seed(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ScenarioError("seed", f"must be a whole number >= 0, got {value!r}")
    return value


def load_scenario(path: Path) -> Scenario:
    try:
        doc = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as e:
        raise ScenarioError(str(path), f"cannot read: {e}") from e
    except yaml.YAMLError as e:
        raise ScenarioError(str(path), f"not YAML: {e}") from e
    return parse_scenario(doc, path=path)


def merge(base: dict[str, Any], extra: dict[str, Any]) -> dict[str, Any]:
    """``extra`` laid over ``base``, mappings merged key by key."""
    out = dict(base)
    for k, v in extra.items():
        out[k] = merge(out[k], v) if isinstance(v, dict) and isinstance(out.get(k), dict) else v
    return out
