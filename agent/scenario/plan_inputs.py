"""A scenario as the planner's problem: device parameters and per-interval inputs (``hems plan``).

Prices come from the tariff over the forward price (one ladder step each way, capped far above
any connection); PV is the ``pv_kw`` series where the scenario has one, else the array's peak
power scaled by global irradiance with a performance ratio of :data:`PV_PERFORMANCE_RATIO` (a
flat-plate estimate; the rig's plant models the sun's geometry); the house's gains are its
internal gain plus its solar aperture times global irradiance.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import UTC, datetime

import numpy as np

from agent.optimizer.battery import BatteryInputs
from agent.optimizer.errors import InputError
from agent.optimizer.ev import EvInputs, EvSession
from agent.optimizer.grid import GridInputs, GridParams
from agent.optimizer.heat_pump import HeatPumpInputs
from agent.optimizer.model import Devices, PlanInputs
from agent.optimizer.water_heater import WaterHeaterInputs
from agent.scenario.errors import ScenarioError
from agent.scenario.series import SeriesSpec, Vec, data_seconds, interpolate_at, load_raw, mean_over
from agent.scenario.spec import ScenarioSpec
from agent.scenario.tariff import random_spot
from agent.scenario.timeline import daily_trips, data_instants, draw_litres

PV_PERFORMANCE_RATIO = 0.85  # inverter, temperature and wiring losses of a typical array
LADDER_CAP_KW = 1000.0  # the tariff sells and buys any amount: one uncapped step each way


@dataclass(frozen=True)
class PlanProblem:
    name: str
    devices: Devices
    inputs: PlanInputs
    starts: list[datetime]
    dt_h: float


def resample_all(spec: ScenarioSpec, starts: list[datetime]) -> dict[str, Vec]:
    """Every named data series on the intervals ``starts`` (plus ``spot_price_per_kwh``)."""
    tz = spec.site.zone
    step_s = spec.step.total_seconds()
    at = data_instants(starts, spec.start, spec.replay, tz)
    out: dict[str, Vec] = {}
    for name, s in spec.data.items():
        if isinstance(s, float):
            out[name] = np.full(len(starts), s)
            continue
        raw = load_raw(s)
        secs = data_seconds(s, at, tz)
        out[name] = (
            mean_over(raw, secs, step_s) if s.method == "mean" else interpolate_at(raw, secs + step_s / 2)
        )
    if "spot_price_per_kwh" not in out and "forward_price_per_kwh" in out:
        fwd = spec.data["forward_price_per_kwh"]
        if spec.tariff.spot.model == "forward" or not isinstance(fwd, SeriesSpec):
            out["spot_price_per_kwh"] = out["forward_price_per_kwh"].copy()
        else:
            raw = random_spot(load_raw(fwd), spec.tariff.spot)
            out["spot_price_per_kwh"] = mean_over(raw, data_seconds(fwd, at, tz), step_s)
    return out


def plan_problem(spec: ScenarioSpec) -> PlanProblem:
    starts = spec.starts()
    try:
        return _build(spec, starts)
    except InputError as e:
        raise ScenarioError(e.field, e.message) from e


def _build(spec: ScenarioSpec, starts: list[datetime]) -> PlanProblem:
    n = len(starts)
    dt_h = spec.step.total_seconds() / 3600.0
    data = resample_all(spec, starts)
    if "forward_price_per_kwh" not in data:
        raise ScenarioError("data.forward_price_per_kwh", "missing: a plan needs the forward price")
    fwd = data["forward_price_per_kwh"]
    t = spec.tariff
    imp, exp = t.network_per_kwh(starts)
    cap = np.full((n, 1), LADDER_CAP_KW)
    grid = GridInputs(
        buy_price_per_kwh=t.import_energy_per_kwh(fwd)[:, None],
        buy_max_kw=cap,
        sell_price_per_kwh=t.export_per_kwh(fwd)[:, None],
        sell_max_kw=cap.copy(),
        position_kw=np.zeros(n),
        import_adder_per_kwh=imp,
        export_adder_per_kwh=exp,
    )
    ghi = data.get("ghi_w_per_m2", np.zeros(n))
    dev = spec.devices
    if "pv_kw" in data:
        pv_kw = np.maximum(data["pv_kw"], 0.0)
    elif dev.pv is not None:
        pv_kw = np.maximum(ghi, 0.0) / 1000.0 * dev.pv.peak_kw * PV_PERFORMANCE_RATIO
    else:
        pv_kw = np.zeros(n)
    base = data.get("base_load_kw", np.zeros(n))
    devices = Devices(
        grid=GridParams(spec.import_limit_kw, spec.export_limit_kw),
        battery=dev.battery.params if dev.battery else None,
        ev=dev.ev.params if dev.ev else None,
        heat_pump=dev.heat_pump.params if dev.heat_pump else None,
        water_heater=dev.water_heater.params if dev.water_heater else None,
        pv=bool(np.any(pv_kw > 0)),
        pv_curtailable=dev.pv.curtailable if dev.pv else True,
    )
    inputs = PlanInputs(
        grid=grid,
        base_kw=np.maximum(base, 0.0),
        pv_kw=pv_kw,
        battery=BatteryInputs(dev.battery.energy_kwh, dev.battery.terminal_value_per_kwh)
        if dev.battery
        else None,
        ev=_ev(spec, starts) if dev.ev else None,
        heat_pump=_heat_pump(spec, data, ghi, n, starts[0]) if dev.heat_pump else None,
        water_heater=_water_heater(spec, data, starts, dt_h) if dev.water_heater else None,
    )
    return PlanProblem(spec.name, devices, inputs, starts, dt_h)


def _ev(spec: ScenarioSpec, starts: list[datetime]) -> EvInputs:
    ev = spec.devices.ev
    assert ev is not None
    first = starts[0].astimezone(UTC)  # arithmetic in UTC (one zone's datetimes subtract by wall clock)
    end = starts[-1].astimezone(UTC) + spec.step
    trips = ev.trips or (daily_trips(ev.daily, first, end, spec.site.zone) if ev.daily else ())

    def index(at: datetime) -> int:
        # plugged in for every interval that starts at or after the arrival and before the departure
        return math.ceil((at.astimezone(UTC) - first) / spec.step - 1e-9)

    sessions = [
        EvSession(index(tr.arrive), index(tr.depart), tr.arrival_kwh, tr.target_kwh)
        for tr in trips
        if tr.depart > first and tr.arrive < end
    ]
    return EvInputs(tuple(sessions))


def _heat_pump(spec: ScenarioSpec, data: dict[str, Vec], ghi: Vec, n: int, start: datetime) -> HeatPumpInputs:
    hp = spec.devices.heat_pump
    assert hp is not None
    if "outdoor_c" not in data:
        raise ScenarioError("data.outdoor_c", "missing: the heat pump needs the outdoor temperature")
    # one mode for the whole problem: the one in force at its start (agent/season.py)
    mode = hp.rule.mode_at(start, spec.site.zone)
    target_c, band_c = hp.comfort(mode)
    target = np.full(n, target_c)
    return HeatPumpInputs(
        indoor_c=hp.indoor_c,
        outdoor_c=data["outdoor_c"],
        band_lo_c=target - band_c,
        band_hi_c=target + band_c,
        target_c=target,
        gain_kw=hp.internal_gain_kw + hp.solar_aperture_m2 * np.maximum(ghi, 0.0) / 1000.0,
        mode=mode,
    )


def _water_heater(
    spec: ScenarioSpec, data: dict[str, Vec], starts: list[datetime], dt_h: float
) -> WaterHeaterInputs:
    wh = spec.devices.water_heater
    assert wh is not None
    litres = np.array(draw_litres(wh.daily_draws, starts, spec.step, spec.site.zone))
    if "hot_water_l_per_h" in data:
        litres = litres + np.maximum(data["hot_water_l_per_h"], 0.0) * dt_h
    return WaterHeaterInputs(wh.tank_c, litres)
