"""The plan as the page charts it: one row per plan step, every number named with its unit.

Prices are what the retailer's ladders offer in each step (the cheapest step on offer to buy,
the best to sell: tenders, indicative quotes or the fallback where none), next to the plan's
marginal value of energy. States are at the end of each step; bands are the comfort and tank
limits the planner keeps to (softly). Under a contract with a demand charge, the month's peak
import as the plan will have raised it by the end of each step.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from agent.config.devices import Battery, EvCharger, HeatPump, Thermostat, WaterHeater
from agent.planning import planned_devices
from agent.web.live import best_price

if TYPE_CHECKING:
    from agent.runtime.app import RunningAgent


def _col(series: Any, name: str, scale: float = 1.0) -> list[float | None] | None:
    if name not in series:
        return None
    return [round(float(v) * scale, 4) for v in np.asarray(series[name], dtype=np.float64)]


def plan_chart(agent: RunningAgent) -> dict[str, Any]:
    """Everything the plan chart needs, or ``{"available": False, "reason": ...}``."""
    record = agent.cycle.planning.current
    if record is None:
        reason = agent.cycle.planning.last_error or "no plan yet"
        return {"available": False, "reason": reason}
    plan, grid = record.plan, record.built.inputs.grid
    series = plan.series
    roles, devices = planned_devices(agent.config), agent.config.devices
    rows = len(record.built.intervals)
    out: dict[str, Any] = {
        "available": True,
        "made_at": record.made_at.isoformat(),
        "reason": record.reason,
        "step_h": plan.dt_h,
        "currency": agent.config.site.currency,
        "intervals": [i.start.isoformat() for i in record.built.intervals],
        "now_index": record.index_at(agent.clock.now()),
        "import_price_per_kwh": [
            best_price(grid.buy_price_per_kwh[t], grid.buy_max_kw[t], low=True) for t in range(rows)
        ],
        "export_price_per_kwh": [
            best_price(grid.sell_price_per_kwh[t], grid.sell_max_kw[t], low=False) for t in range(rows)
        ],
        "marginal_value_per_kwh": [round(float(v), 6) for v in plan.marginal_value_per_kwh],
        "grid_kw": _col(series, "grid_kw"),
        "position_kw": [round(float(v), 4) for v in grid.position_kw],
        "pv_kw": _col(series, "pv_kw"),
        "base_kw": _col(series, "base_kw"),
        "battery_kw": _col(series, "battery_kw"),
        "ev_kw": _col(series, "ev_kw"),
        "heat_pump_kw": _col(series, "heat_pump_kw"),
        "water_heater_kw": _col(series, "water_heater_kw"),
        "cost": {k: round(v, 6) for k, v in plan.cost.items()},
        "total_cost": round(plan.total_cost, 6),
        "solver": {"backend": plan.solver.backend, "status": plan.solver.status, "ms": plan.solver.solve_ms},
    }
    battery = devices.get(roles.get("battery", ""))
    if isinstance(battery, Battery):
        out["battery_soc_pct"] = _col(series, "battery_kwh", 100.0 / battery.capacity_kwh)
    ev = devices.get(roles.get("ev", ""))
    if isinstance(ev, EvCharger):
        out["ev_soc_pct"] = _col(series, "ev_kwh", 100.0 / ev.battery_kwh)
    thermal = devices.get(roles.get("heat_pump", ""))
    if isinstance(thermal, HeatPump | Thermostat):
        out["indoor_c"] = _col(series, "indoor_c")
        hp = record.built.inputs.heat_pump
        if hp is not None:
            out["comfort_lo_c"] = [round(float(v), 3) for v in hp.band_lo_c]
            out["comfort_hi_c"] = [round(float(v), 3) for v in hp.band_hi_c]
            out["heat_mode"] = hp.mode  # the mode the whole plan works in
    tank = devices.get(roles.get("water_heater", ""))
    if isinstance(tank, WaterHeater):
        out["tank_c"] = _col(series, "tank_c")
        out["tank_min_c"] = tank.min_c
        out["tank_max_c"] = tank.max_c
    if "demand_peak_kw" in series:  # the contract bills the month's peak import
        out["demand_peak_kw"] = _col(series, "demand_peak_kw")
    return out
