"""The live picture for the page, the event stream, the metrics and Home Assistant.

Plain functions of the running agent: power flows with units and where each number came from
(measured by a device, planned, or the balance of the others), device health, and the price and
marginal value of the current plan step. Nothing here does I/O or writes to the agent.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from agent.config.devices import EvCharger, HeatPump, Thermostat, WaterHeater
from agent.planning import planned_devices

if TYPE_CHECKING:
    from agent.runtime.app import RunningAgent


@dataclass(frozen=True, slots=True)
class Flow:
    """One power flow in W, signed as agent/units.py says (grid +import, battery/EV +charge)."""

    key: str
    label: str
    power_w: float | None  # None: no fresh value
    source: str  # measured | planned | balance | missing
    device: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "key": self.key,
            "label": self.label,
            "power_w": None if self.power_w is None else round(self.power_w, 1),
            "unit": "W",
            "source": self.source,
            "device": self.device,
        }


def _samples(agent: RunningAgent) -> dict[str, dict[str, Any]]:
    snap = agent.state.snapshot or {}
    samples = snap.get("samples", {})
    return samples if isinstance(samples, dict) else {}


def _number(samples: dict[str, dict[str, Any]], device: str, quantity: str) -> float | None:
    sample = samples.get(device, {}).get(quantity)
    if not isinstance(sample, dict):
        return None
    value = sample.get("value")
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        return None
    return float(value)


def _flag(samples: dict[str, dict[str, Any]], device: str, quantity: str) -> bool | None:
    sample = samples.get(device, {}).get(quantity)
    value = sample.get("value") if isinstance(sample, dict) else None
    return value if isinstance(value, bool) else None


def plan_index(agent: RunningAgent) -> int | None:
    """The plan step holding the clock's now, or None when there is no plan reaching it."""
    record = agent.cycle.planning.current
    return None if record is None else record.index_at(agent.clock.now())


def planned(agent: RunningAgent, series: str) -> float | None:
    record = agent.cycle.planning.current
    idx = plan_index(agent)
    if record is None or idx is None or series not in record.plan.series:
        return None
    return float(record.plan.series[series][idx])


def flows(agent: RunningAgent) -> list[Flow]:
    config, samples = agent.config, _samples(agent)
    roles = planned_devices(config)
    meter = config.meter_name
    out = [Flow("grid", "Grid", _number(samples, meter, "meter.power_w"), "measured", meter)]
    pv_names = [n for n, d in config.devices.items() if d.role == "pv_inverter"]
    pv_values = [_number(samples, n, "pv.power_w") for n in pv_names]
    if pv_names:
        known = [v for v in pv_values if v is not None]
        pv_w = sum(known) if len(known) == len(pv_values) else None
        out.append(Flow("pv", "PV", pv_w, "measured", ",".join(pv_names)))
    if "battery" in roles:
        name = roles["battery"]
        out.append(Flow("battery", "Battery", _number(samples, name, "battery.power_w"), "measured", name))
    if "ev" in roles:
        name = roles["ev"]
        out.append(Flow("ev", "EV", _number(samples, name, "ev.power_w"), "measured", name))
    if "heat_pump" in roles:
        # Heat pumps seldom report their electric power: the plan's setpoint is what it draws.
        kw = planned(agent, "heat_pump_kw")
        name = roles["heat_pump"]
        out.append(Flow("heat_pump", "Heat pump", None if kw is None else kw * 1000.0, "planned", name))
    if "water_heater" in roles:
        out.append(_water_heater(agent, samples, roles["water_heater"]))
    out.append(_base_load(out))
    return out


def _water_heater(agent: RunningAgent, samples: dict[str, dict[str, Any]], name: str) -> Flow:
    measured = _number(samples, name, "water_heater.element_power_w")
    if measured is not None:
        return Flow("water_heater", "Water heater", measured, "measured", name)
    on = _flag(samples, name, "water_heater.element_on")
    device = agent.config.devices[name]
    if on is None or not isinstance(device, WaterHeater):
        return Flow("water_heater", "Water heater", None, "missing", name)
    # A relay-switched element draws its rating when on.
    return Flow("water_heater", "Water heater", device.element_kw * 1000.0 if on else 0.0, "measured", name)


def _base_load(parts: list[Flow]) -> Flow:
    # The meter balance: what flows in (grid import + PV) less what the known loads take.
    by_key = {f.key: f.power_w for f in parts}
    if any(v is None for v in by_key.values()):
        return Flow("base_load", "Base load", None, "missing")
    value = (by_key.get("grid") or 0.0) + (by_key.get("pv") or 0.0)
    for key in ("battery", "ev", "heat_pump", "water_heater"):
        value -= by_key.get(key) or 0.0
    return Flow("base_load", "Base load", max(0.0, value), "balance")


def readings(agent: RunningAgent) -> dict[str, float | bool | None]:
    """SoC (%) and temperatures (°C) now; None where there is no fresh value."""
    samples, roles = _samples(agent), planned_devices(agent.config)
    out: dict[str, float | bool | None] = {}
    if "battery" in roles:
        out["battery_soc_pct"] = _number(samples, roles["battery"], "battery.soc_pct")
    if "ev" in roles:
        name = roles["ev"]
        soc = _number(samples, name, "ev.vehicle_soc_pct")
        if soc is None:
            # Without a vehicle SoC reading the plan's own estimate is the best there is.
            ev_kwh = planned(agent, "ev_kwh")
            device = agent.config.devices[name]
            if ev_kwh is not None and isinstance(device, EvCharger):
                soc = 100.0 * ev_kwh / device.battery_kwh
        out["ev_soc_pct"] = soc
        out["ev_plugged"] = _flag(samples, name, "ev.plugged")
    if "heat_pump" in roles:
        thermostats = [n for n, d in agent.config.devices.items() if d.role == "thermostat"]
        source = thermostats[0] if thermostats else roles["heat_pump"]
        out["indoor_c"] = _number(samples, source, "thermostat.indoor_c")
    if "water_heater" in roles:
        out["tank_c"] = _number(samples, roles["water_heater"], "water_heater.tank_c")
    return out


def heat_mode(agent: RunningAgent) -> str | None:
    """The heat pump's mode now (heating or cooling): the current plan's, else the mode in force
    by its rule (the season); None without a heat pump."""
    roles = planned_devices(agent.config)
    if "heat_pump" not in roles:
        return None
    record = agent.cycle.planning.current
    house = record.built.inputs.heat_pump if record is not None else None
    if house is not None and house.mode is not None:
        return house.mode
    device = agent.config.devices[roles["heat_pump"]]
    assert isinstance(device, HeatPump | Thermostat)
    return device.mode_rule().mode_at(agent.clock.now(), agent.config.zone)


def prices_now(agent: RunningAgent) -> dict[str, float | None]:
    """The current plan step's cheapest import and best export price, and the marginal value."""
    record = agent.cycle.planning.current
    idx = plan_index(agent)
    if record is None or idx is None:
        return {"import_price_per_kwh": None, "export_price_per_kwh": None, "marginal_value_per_kwh": None}
    grid = record.built.inputs.grid
    return {
        "import_price_per_kwh": best_price(grid.buy_price_per_kwh[idx], grid.buy_max_kw[idx], low=True),
        "export_price_per_kwh": best_price(grid.sell_price_per_kwh[idx], grid.sell_max_kw[idx], low=False),
        "marginal_value_per_kwh": float(record.plan.marginal_value_per_kwh[idx]),
    }


def best_price(prices: Any, sizes: Any, *, low: bool) -> float | None:
    offered = [float(p) for p, q in zip(prices, sizes, strict=True) if q > 0]
    if not offered:
        return None
    return min(offered) if low else max(offered)


def health(agent: RunningAgent) -> dict[str, Any]:
    devices = {name: dict(h) for name, h in (agent.state.devices or {}).items()}
    for name, device in agent.devices.items():
        if name not in devices:
            devices[name] = device.health.snapshot().to_dict()
    for name, entry in devices.items():
        cfg = agent.config.devices.get(name)
        entry["role"] = cfg.role if cfg is not None else None
    return {
        "mode": agent.state.mode,
        "devices": devices,
        "tasks": agent.supervisor.status(),
        "link": None if agent.link is None else {"connected": agent.link.client.connected},
    }
