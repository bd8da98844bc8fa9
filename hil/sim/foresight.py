"""Perfect foresight: one plan over the whole period with the true series, as a lower bound.

The planner the agent uses, given what no agent can know: the recorded base load, the PV the
array will actually have, the outdoor temperature and solar gains, every hot-water draw and every
EV session of the period, and the spot price of every interval (buy and sell at spot, the
cheapest tariff the retailer offers: its forward ladders straddle spot), plus the DSO's network
charge per imported and exported kWh. Its cost is the plan's grid energy billed that way (energy
at spot plus the network charge on each flow), comparable with the baseline's bill. Under a
household contract it plans against the contract's import and export price of every interval and
its flows are billed by the contract (hil/sim/contract_pricing.py), as the baseline's are; a
contract's demand charge is in its plan as in the agent's (the month's running peak,
agent/optimizer/demand.py), each window starting from the peak the windows before it billed.

Periods longer than :data:`WINDOW_DAYS` are solved in overlapping windows
(:func:`run_foresight_windows`): each window plans ``WINDOW_DAYS`` plus :data:`OVERLAP_DAYS` of
look-ahead and bills only its first ``WINDOW_DAYS``; the heat pump works the whole window in the
mode in force at its start (the agent too keeps one mode per plan), in that mode's comfort band;
every window starts from the home's initial state of the scenario (the stores are not carried
from one window to the next). That makes it a reference, not a strict bound: a window may start
with more in the battery or the tank than the agent had at that moment, and none sees past its
look-ahead.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta

import numpy as np

from agent.config.devices import HeatPump, Thermostat
from agent.config.model import Config
from agent.optimizer import Planner
from agent.optimizer.battery import BatteryInputs
from agent.optimizer.ev import EvInputs, EvSession
from agent.optimizer.grid import GridInputs
from agent.optimizer.heat_pump import HeatPumpInputs
from agent.optimizer.model import PlanInputs
from agent.optimizer.water_heater import WaterHeaterInputs
from agent.planning import devices_from_config
from agent.planning.devices import cooling_cop_series
from hil.errors import HilError
from hil.plant import HomeParams, build_plant
from hil.sim.tariff import Flow, Pricing

# Beyond any real flow: the spot market takes whatever the home meters.
UNLIMITED_KW = 1000.0
WINDOW_DAYS = 7.0
OVERLAP_DAYS = 1.0


@dataclass(frozen=True)
class ForesightResult:
    cost: float
    grid_kw: list[float]
    solve_s: float
    flows: list[tuple[datetime, float, float]] = field(default_factory=list)  # billed: start, in, out (kWh)


def _cooling_cop(config: Config, outdoor_c: np.ndarray) -> np.ndarray:
    """The agent's COP while cooling (its thermal device's cooling curve) over ``outdoor_c``."""
    for dev in config.devices.values():
        if isinstance(dev, HeatPump | Thermostat):
            return cooling_cop_series(dev, outdoor_c)
    raise HilError("the agent's config has no heat pump to take the cooling COP from")


def _days_to_changeover(params: HomeParams, start: datetime, days: float, step_s: float) -> float | None:
    """Days (whole steps) from ``start`` to the first step in another mode, within ``days``."""
    if params.mode != "auto":
        return None
    first = params.mode_at(start)
    for k in range(1, round(days * 86400.0 / step_s)):
        if params.mode_at(start + timedelta(seconds=k * step_s)) != first:
            return k * step_s / 86400.0
    return None


def run_foresight_windows(
    config: Config,
    params: HomeParams,
    start: datetime,
    days: float,
    tariff: Pricing,
    *,
    step_s: float = 900.0,
) -> ForesightResult:
    """:func:`run_foresight` over the period, in overlapping windows where it is long (see above);
    a window also ends where the heat pump changes over, so each is billed in one mode."""
    if days <= WINDOW_DAYS + OVERLAP_DAYS and _days_to_changeover(params, start, days, step_s) is None:
        return run_foresight(config, params, start, days, tariff, step_s=step_s)
    cost, grid_kw, solve_s = 0.0, [], 0.0
    flows: list[Flow] = []
    done = 0.0
    while done < days - 1e-9:
        billed = min(WINDOW_DAYS, days - done)
        change = _days_to_changeover(params, start + timedelta(days=done), billed, step_s)
        billed = min(billed, change or billed)
        planned = min(billed + OVERLAP_DAYS, days - done)
        part = run_foresight(
            config, params, start + timedelta(days=done), planned, tariff, step_s=step_s, bill_days=billed,
            demand_before=flows,
        )  # fmt: skip
        cost, solve_s = cost + part.cost, solve_s + part.solve_s
        grid_kw += part.grid_kw
        flows += part.flows
        done += billed
    # Billed once over the whole period: a contract's standing charges fall once per day and month.
    cost = sum(tariff.flow_costs(flows))
    return ForesightResult(cost, grid_kw, solve_s, flows)


def run_foresight(
    config: Config,
    params: HomeParams,
    start: datetime,
    days: float,
    tariff: Pricing,
    *,
    step_s: float = 900.0,
    bill_days: float | None = None,
    demand_before: Sequence[Flow] = (),
) -> ForesightResult:
    """One plan over ``days``; billed (and its grid series returned) over the first ``bill_days``.
    ``demand_before``: the flows billed before this plan (earlier windows), which set the month's
    peak a demand charge starts from."""
    n = round(days * 86400.0 / step_s)
    n_bill = n if bill_days is None else round(bill_days * 86400.0 / step_s)
    dt_h = step_s / 3600.0
    plant = build_plant(params, start, days=int(days) + 2)
    starts = [start + timedelta(seconds=i * step_s) for i in range(n)]
    mids = [t + timedelta(seconds=step_s / 2) for t in starts]
    buy, sell, import_adder, export_adder = np.array([tariff.plan_prices(t) for t in starts]).T
    weather = [plant.weather.at(t) for t in mids]
    base = np.array([plant.base_load.kw(t) for t in mids])
    pv = np.zeros(n)
    if plant.pv is not None:
        lat, lon = plant.weather.latitude_deg, plant.weather.longitude_deg
        pv = np.array([plant.pv.available_kw(w, lat, lon) for w in weather])
    grid = GridInputs(
        buy_price_per_kwh=buy,
        buy_max_kw=np.full(n, UNLIMITED_KW),
        sell_price_per_kwh=sell,
        sell_max_kw=np.full(n, UNLIMITED_KW),
        position_kw=np.zeros(n),
        import_adder_per_kwh=import_adder,
        export_adder_per_kwh=export_adder,
    )
    demand = tariff.plan_demand(starts, demand_before)
    # The reference plans against what it is billed by: a peak to keep where its prices bill one.
    devices = devices_from_config(config, buy_steps=1, sell_steps=1)
    devices = replace(devices, demand_charge=demand is not None)
    heat = None
    if devices.heat_pump is not None and plant.house is not None:
        # one mode per window, the one in force at its start, as the agent keeps one per plan
        mode = params.mode_at(start)
        target_c, band_c = params.comfort(mode)
        outdoor_c = np.array([w.temp_air_c for w in weather])
        heat = HeatPumpInputs(
            indoor_c=plant.house.indoor_c,
            outdoor_c=outdoor_c,
            band_lo_c=np.full(n, target_c - band_c),
            band_hi_c=np.full(n, target_c + band_c),
            target_c=np.full(n, target_c),
            gain_kw=np.array([plant.house.gains_kw(w.ghi_w_per_m2) for w in weather]),
            mode=mode,
            cop=_cooling_cop(config, outdoor_c) if params.mode == "auto" and mode == "cooling" else None,
        )
    water = None
    if devices.water_heater is not None and plant.tank is not None:
        draws = plant.draws
        litres = [draws.litres_between(t, t + timedelta(seconds=step_s)) if draws else 0.0 for t in starts]
        water = WaterHeaterInputs(tank_c=plant.tank.tank_c, draw_l=np.array(litres))
    ev = None
    if devices.ev is not None and plant.ev is not None:
        sessions = []
        for s in plant.ev.sessions:
            arrival = int((s.arrival - start).total_seconds() // step_s)
            departure = int((s.departure - start).total_seconds() // step_s)
            if departure <= 0 or arrival >= n:
                continue
            arrival_kwh = params.ev_soc_at_arrival * params.ev_battery_kwh
            sessions.append(EvSession(arrival, departure, arrival_kwh, arrival_kwh + s.energy_needed_kwh))
        ev = EvInputs(tuple(sessions))
    battery = None
    if devices.battery is not None and plant.battery is not None:
        import_price = [tariff.buy_per_kwh(t) for t in starts]
        battery = BatteryInputs(
            energy_kwh=plant.battery.energy_kwh, terminal_value_per_kwh=float(np.median(import_price))
        )
    inputs = PlanInputs(
        grid=grid,
        base_kw=base,
        pv_kw=pv,
        battery=battery,
        ev=ev,
        heat_pump=heat,
        water_heater=water,
        demand=demand,
    )
    planner = Planner(devices, n, dt_h)
    plan = planner.plan(inputs)
    grid_kw = np.asarray(plan.series["grid_kw"], dtype=np.float64)
    import_kw = np.asarray(plan.series["import_kw"], dtype=np.float64)
    export_kw = np.asarray(plan.series["export_kw"], dtype=np.float64)
    # Billed by the baseline's rule: energy at spot plus the network charge on each flow. Leaving
    # the charge out made the bound look some 14 EUR a week lower than any home could pay.
    # A meter flows one way at a time: where the plan has both in an interval (it may, at no cost
    # to it, where the contract pays as much for export as it charges for import), only the net
    # flows and is billed.
    flows = [
        (t, max(imp - exp, 0.0) * dt_h, max(exp - imp, 0.0) * dt_h)
        for t, imp, exp in zip(starts[:n_bill], import_kw[:n_bill], export_kw[:n_bill], strict=True)
    ]
    cost = sum(tariff.flow_costs(flows))
    return ForesightResult(float(cost), grid_kw[:n_bill].tolist(), plan.solver.solve_ms / 1000.0, flows)
