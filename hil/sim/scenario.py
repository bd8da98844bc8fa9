"""Simulation scenarios: which home, when, how fast, what the agent is told, and which faults.

A scenario is one YAML file in the format ``hems plan`` reads too (docs/scenario-format.md,
``agent.scenario``): the site, the devices, the tariff and the data. The rig's own keys live under
``simulate:`` (speed, cycle, the agent's config, the retailer's pricing, faults, a preset).
:func:`load_scenario` checks every key and raises :class:`ScenarioError` naming the key path (or
the data file, row and column). Unknown keys are errors, so a typo never silently drops a fault.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, Literal, get_args

from agent.scenario import ScenarioError, ScenarioSpec, load_spec, parse_spec
from hil.plant.params import HomeParams
from hil.sim.contract import ContractSpec, parse_contract
from hil.sim.home import PRESETS, home_params, pricing_overrides

__all__ = [
    "FAULT_KINDS",
    "PRESETS",
    "Fault",
    "Scenario",
    "ScenarioError",
    "load_scenario",
    "merge",
    "parse_scenario",
]

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
    spec: ScenarioSpec | None = None  # the scenario as the agent reads it (devices, data, tariff)
    seed: int = 2015  # the weather forecast's errors (and any other randomness of the run)
    # The household's contract (simulate.contract): the agent runs under it, with no retailer.
    contract: ContractSpec | None = None

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


def _fault(doc: Any, i: int) -> Fault:
    key = f"simulate.faults[{i}]"
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


SIMULATE_KEYS = {"preset", "speed", "cycle_s", "agent", "pricing", "faults", "seed", "contract"}
MAX_DAYS = 366.0


def parse_scenario(doc: Any, *, path: Path | None = None) -> Scenario:
    return from_spec(parse_spec(doc, path=path))


def _seed(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ScenarioError("simulate.seed", f"must be a whole number >= 0, got {value!r}")
    return value


def load_scenario(path: Path) -> Scenario:
    return from_spec(load_spec(path))


def from_spec(spec: ScenarioSpec) -> Scenario:
    d = dict(spec.simulate)
    _known(d, "simulate.", SIMULATE_KEYS)
    if spec.days > MAX_DAYS:
        raise ScenarioError("days", f"at most {MAX_DAYS:g} days for a simulation")
    pricing = _map(d.get("pricing", {}), "simulate.pricing")
    faults = tuple(_fault(f, i) for i, f in enumerate(d.get("faults") or []))
    return Scenario(
        name=spec.name,
        home=home_params(spec),
        start=spec.start,
        days=spec.days,
        speed=_number(d.get("speed", 2400.0), "simulate.speed", lo=1.0, hi=20_000.0),
        cycle_s=_number(d.get("cycle_s", 60.0), "simulate.cycle_s", lo=1.0, hi=900.0),
        agent=_map(d.get("agent", {}), "simulate.agent"),
        pricing=pricing_overrides(spec) | {str(k): str(v) for k, v in pricing.items()},
        faults=tuple(sorted(faults, key=lambda f: f.at_s)),
        path=spec.path,
        spec=spec,
        seed=_seed(d.get("seed", 2015)),
        contract=_contract(d, spec, faults),
    )


def _contract(d: dict[str, Any], spec: ScenarioSpec, faults: tuple[Fault, ...]) -> ContractSpec | None:
    if "contract" not in d:
        return None
    for i, f in enumerate(faults):
        if f.kind in ("retailer_silent", "bad_tender"):
            raise ScenarioError(
                f"simulate.faults[{i}].kind", f"{f.kind} needs the retailer; a run under a contract has none"
            )
    return parse_contract(d["contract"], spec.path.parent if spec.path else Path.cwd())


def merge(base: dict[str, Any], extra: dict[str, Any]) -> dict[str, Any]:
    """``extra`` laid over ``base``, mappings merged key by key."""
    out = dict(base)
    for k, v in extra.items():
        out[k] = merge(out[k], v) if isinstance(v, dict) and isinstance(out.get(k), dict) else v
    return out
