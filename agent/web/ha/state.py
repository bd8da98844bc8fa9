"""The documents the bridge publishes: the state (one JSON object every entity reads a field
of) and the forecast (JSON attributes of the import price sensor, for automations).

Plain functions of the running agent; the month's bill is read from the ledger, so
:func:`month_cost` blocks and runs in a thread.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from agent.config.devices import HeatPump, Thermostat
from agent.market.intervals import Duration, containing
from agent.web import controls, live

if TYPE_CHECKING:
    from agent.runtime.app import RunningAgent

# HA keeps at most 16 KiB of attributes per state in its recorder: 48 steps of 9 numbers stay
# well under it (a test measures the size).
FORECAST_STEPS = 48
PLAN_SERIES = ("grid_kw", "battery_kw", "ev_kw", "heat_pump_kw", "water_heater_kw", "pv_kw")


def month_cost(agent: RunningAgent, now: datetime) -> tuple[float, str]:
    """This month's bill so far and when the month began (blocking: the ledger is read)."""
    month = containing(now, Duration.P1M, agent.config.zone)
    bill = agent.ledger.bill(agent.config.party_id, month.start_utc, now)
    return float(bill.total), month.start.isoformat()


def configured_comfort_c(agent: RunningAgent) -> float | None:
    for device in agent.config.devices.values():
        if isinstance(device, HeatPump | Thermostat):
            return float(device.comfort.target_c)
    return None


def water_heater_mode(agent: RunningAgent) -> str:
    o = agent.state.overrides
    if o.water_heater_hold:
        return "off"
    if o.water_heater_boost_until is not None and agent.clock.now() < o.water_heater_boost_until:
        return "high_demand"
    return "eco"


def boost_hours(agent: RunningAgent) -> float:
    until = agent.state.overrides.water_heater_boost_until
    if until is None:
        return 0.0
    return round(max(0.0, (until - agent.clock.now()).total_seconds() / 3600.0), 2)


def _connectivity(agent: RunningAgent) -> dict[str, bool | None]:
    out: dict[str, bool | None] = {}
    for name, h in live.health(agent)["devices"].items():
        state = h.get("state")
        out[f"{name}_connected"] = None if state in (None, "unknown") else state == "ok"
    if agent.link is not None:
        out["retailer_connected"] = agent.link.client.connected
    return out


def state_document(agent: RunningAgent, cost: tuple[float, str] | None = None) -> dict[str, Any]:
    doc: dict[str, Any] = {f"{f.key}_power_w": f.power_w for f in live.flows(agent)}
    meter = (agent.state.snapshot or {}).get("samples", {}).get(agent.config.meter_name, {})
    for key, quantity in (("grid_import_kwh", "meter.import_kwh"), ("grid_export_kwh", "meter.export_kwh")):
        sample = meter.get(quantity)
        doc[key] = sample.get("value") if isinstance(sample, dict) else None
    doc |= {key: round(kwh, 4) for key, kwh in agent.energy.saved.items()}
    doc |= live.readings(agent)
    doc |= live.prices_now(agent)
    c = controls.controls_json(agent)
    doc |= {k: c[k] for k in controls.FIELDS if k in c}
    doc["water_heater_boost_h"] = boost_hours(agent)
    doc["water_heater_mode"] = water_heater_mode(agent)
    target = agent.state.overrides.comfort_target_c
    doc["comfort_target_c_effective"] = target if target is not None else configured_comfort_c(agent)
    doc["mode"] = agent.state.mode
    doc |= _connectivity(agent)
    if cost is not None:
        doc["cost_this_month"], doc["cost_since"] = round(cost[0], 4), cost[1]
    else:
        doc["cost_this_month"], doc["cost_since"] = None, None
    return doc


def forecast_document(agent: RunningAgent) -> dict[str, Any]:
    """The plan's coming steps with their prices, at most :data:`FORECAST_STEPS`."""
    record = agent.cycle.planning.current
    first = live.plan_index(agent)
    if record is None or first is None:
        return {"made_at": None, "steps": []}
    grid = record.built.inputs.grid
    steps = []
    for i in range(first, min(len(record.built.intervals), first + FORECAST_STEPS)):
        step: dict[str, Any] = {
            "start": record.built.intervals[i].start.isoformat(),
            "import_price_per_kwh": live.best_price(grid.buy_price_per_kwh[i], grid.buy_max_kw[i], low=True),
            "export_price_per_kwh": live.best_price(
                grid.sell_price_per_kwh[i], grid.sell_max_kw[i], low=False
            ),
            "marginal_value_per_kwh": round(float(record.plan.marginal_value_per_kwh[i]), 5),
        }
        for series in PLAN_SERIES:
            values = record.plan.series.get(series)
            if values is not None and len(values) > i:
                step[series] = round(float(values[i]), 3)
        steps.append(step)
    return {"made_at": record.made_at.isoformat(), "steps": steps}
