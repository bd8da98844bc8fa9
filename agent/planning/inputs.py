"""One re-plan's inputs: ladders, positions, forecasts and the measured device states.

The horizon is ``planner.horizon_h`` of ``planner.step`` intervals from the one holding ``now``
(:func:`plan_horizon`); its length is fixed, so the planner is built once with
:func:`planner_shape`. Positions come per metering interval (the ledger's); a plan step longer
than the metering interval gets the mean of the positions inside it (equal energy).

Measured states are plain values the cycle read from its snapshot; a missing one (None) falls
back, and the fallback is reported in :attr:`BuiltInputs.fallbacks`:

* battery SoC -> the reserve floor (the plan does not count on energy it may not have);
* EV plugged unknown -> not plugged (no session: the plan does not count on the car);
  plugged with energy unknown -> :data:`DEFAULT_EV_SOC` of its battery; departure unknown ->
  the next configured ``departure_time`` (but a car still short of its target within
  :data:`OVERDUE_WINDOW` after today's departure time charges now); target unknown ->
  ``target_soc`` of the battery;
  a departure already past or inside the current interval -> the end of the current interval;
* indoor temperature -> the comfort target; tank temperature -> the tank's ``target_c``.

Other assumptions: the house gains ``house.internal_gain_kw`` plus ``house.solar_aperture_m2``
times the irradiance forecast (none where it is not forecast); comfort band ``target_c +-
band_c``; energy left in the battery at the horizon's end is worth the median expected buy price
plus import network charge, times the discharge efficiency (what it will save later); a price
missing altogether is :data:`DEFAULT_PRICE_PER_KWH`.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal

import numpy as np

from agent.config import Config
from agent.config.devices import EvCharger, HeatPump, Thermostat, WaterHeater
from agent.forecast import Forecasts
from agent.market.intervals import Interval, containing, horizon
from agent.market.records import SpotPrice, Tender
from agent.optimizer import (
    BatteryInputs,
    Devices,
    EvInputs,
    EvSession,
    HeatPumpInputs,
    InputError,
    PlanInputs,
    WaterHeaterInputs,
)
from agent.planning.devices import planned_devices
from agent.planning.errors import PlanningInputError
from agent.planning.ladders import Ladders, build_ladders
from agent.planning.market import MarketRules

DEFAULT_PRICE_PER_KWH = 0.30
DEFAULT_EV_SOC = 0.5
# A car still plugged in up to this long after its usual departure time is late to leave, not
# parked until tomorrow: what it still lacks is charged at once. (Later, a plugged car is taken
# as back for the next departure: the charger does not say when it was plugged in.)
OVERDUE_WINDOW = timedelta(hours=1)


@dataclass(frozen=True)
class MeasuredState:
    battery_soc: float | None = None  # fraction 0..1
    ev_plugged: bool | None = None
    ev_energy_kwh: float | None = None
    ev_departure: datetime | None = None
    ev_target_kwh: float | None = None
    indoor_c: float | None = None
    tank_c: float | None = None


@dataclass(frozen=True)
class BuiltInputs:
    inputs: PlanInputs
    ladders: Ladders
    intervals: tuple[Interval, ...]
    fallbacks: Mapping[str, str] = field(default_factory=dict)  # state -> what was assumed


def planner_shape(config: Config) -> tuple[int, float]:
    """(horizon in intervals, step in hours) to build the :class:`~agent.optimizer.Planner` with."""
    step_s = config.planner.step.nominal.total_seconds()  # a sub-day step: exact
    return int(config.planner.horizon_h * 3600 // step_s), step_s / 3600.0


def plan_horizon(config: Config, now: datetime) -> tuple[Interval, ...]:
    count, _ = planner_shape(config)
    return tuple(horizon(containing(now, config.planner.step, config.zone), count))


def build_inputs(
    config: Config,
    devices: Devices,
    now: datetime,
    *,
    tenders: Sequence[Tender],
    forecasts: Forecasts,
    state: MeasuredState,
    positions_kw: Mapping[Interval, Decimal],
    open_kw: Mapping[str, Decimal] | None = None,
    spot: Sequence[SpotPrice] = (),
    default_price_per_kwh: float = DEFAULT_PRICE_PER_KWH,
) -> BuiltInputs:
    ivs = plan_horizon(config, now)
    n = len(ivs)
    for name in ("base_load_kw", "pv_kw", "outdoor_c", "draw_l"):
        if len(getattr(forecasts, name)) != n:
            got = len(getattr(forecasts, name))
            raise PlanningInputError(f"forecasts.{name}", f"expected {n} values, got {got}")
    base = np.maximum(np.asarray(forecasts.base_load_kw, dtype=np.float64), 0.0)
    pv = np.maximum(np.asarray(forecasts.pv_kw, dtype=np.float64), 0.0) if devices.pv else np.zeros(n)
    ladders = build_ladders(
        tenders,
        ivs,
        devices.grid,
        MarketRules.from_config(config),
        now,
        position_kw=_positions(ivs, positions_kw, config),
        open_kw=open_kw,
        spot=spot,
        default_price_per_kwh=default_price_per_kwh,
        base_kw=base,
    )
    ctx = _Ctx(config, planned_devices(config), devices, state, forecasts, ivs, now, {})
    try:
        inputs = PlanInputs(
            grid=ladders.grid,
            base_kw=base,
            pv_kw=pv,
            battery=_battery(ctx, ladders),
            ev=_ev(ctx),
            heat_pump=_house(ctx),
            water_heater=_tank(ctx),
        )
    except InputError as e:
        raise PlanningInputError(e.field, str(e)) from e
    return BuiltInputs(inputs, ladders, ivs, ctx.fallbacks)


@dataclass
class _Ctx:
    config: Config
    names: Mapping[str, str]
    devices: Devices
    state: MeasuredState
    forecasts: Forecasts
    ivs: tuple[Interval, ...]
    now: datetime
    fallbacks: dict[str, str]


def _positions(ivs: tuple[Interval, ...], given: Mapping[Interval, Decimal], config: Config) -> np.ndarray:
    out = np.zeros(len(ivs))
    for i, iv in enumerate(ivs):
        if iv in given:
            out[i] = float(given[iv])
        elif iv.duration.is_longer_than(config.metering_interval):
            subs = iv.children(config.metering_interval)
            out[i] = sum(float(given.get(s, Decimal(0))) for s in subs) / len(subs)
    return out


def _measured(name: str, value: float | None) -> float | None:
    if value is not None and not math.isfinite(value):
        raise PlanningInputError(f"state.{name}", f"must be a finite number, got {value}")
    return value


def _battery(ctx: _Ctx, ladders: Ladders) -> BatteryInputs | None:
    p, state, fb = ctx.devices.battery, ctx.state, ctx.fallbacks
    if p is None:
        return None
    soc = _measured("battery_soc", state.battery_soc)
    if soc is not None and not 0.0 <= soc <= 1.0:
        raise PlanningInputError("state.battery_soc", f"must be a fraction 0..1, got {soc}")
    if soc is None:
        fb["battery_soc"] = f"reserve floor {p.reserve_kwh:g} kWh"
        energy = p.reserve_kwh
    else:
        energy = soc * p.capacity_kwh
    # What a kWh left at the horizon's end saves later: an import at the expected price plus the
    # network charge on it (without the charge, a plan made in the evening, whose horizon ends
    # before the next evening, would rather export the next day's surplus than store it).
    avoided = np.asarray(ladders.expected_buy_per_kwh) + np.asarray(ladders.grid.import_adder_per_kwh)
    value = float(np.median(avoided)) * p.discharge_efficiency
    return BatteryInputs(energy_kwh=energy, terminal_value_per_kwh=value)


def _ev(ctx: _Ctx) -> EvInputs | None:
    p, state, fb, ivs = ctx.devices.ev, ctx.state, ctx.fallbacks, ctx.ivs
    if p is None:
        return None
    cfg = ctx.config.devices[ctx.names["ev"]]
    assert isinstance(cfg, EvCharger)
    if state.ev_plugged is None:
        fb["ev_plugged"] = "not plugged in"
    if not state.ev_plugged:
        return EvInputs(())
    energy = _measured("ev_energy_kwh", state.ev_energy_kwh)
    if energy is None:
        energy = DEFAULT_EV_SOC * p.capacity_kwh
        fb["ev_energy_kwh"] = f"{energy:g} kWh"
    target = _measured("ev_target_kwh", state.ev_target_kwh)
    if target is None:
        target = cfg.target_soc * p.capacity_kwh
        fb["ev_target_kwh"] = f"{target:g} kWh (target_soc)"
    departure = state.ev_departure
    if departure is None:
        overdue = _overdue_departure(ctx.now, cfg, ctx.config)
        if overdue is not None and energy < target - 1e-6:
            # Still plugged in and short of its target after the usual departure: the car is
            # late to leave, so finish now rather than by tomorrow's departure.
            departure = overdue
            fb["ev_departure"] = f"{overdue.isoformat()} passed, still plugged in: charging now"
        else:
            departure = _next_clock_time(ctx.now, cfg, ctx.config)
            fb["ev_departure"] = departure.isoformat()
    step = ivs[0].span
    index = max(1, (departure - ivs[0].start_utc) // step)
    return EvInputs((EvSession(0, int(index), max(energy, 0.0), min(max(target, 0.0), p.capacity_kwh)),))


def _overdue_departure(now: datetime, cfg: EvCharger, config: Config) -> datetime | None:
    """Today's configured departure if it passed less than :data:`OVERDUE_WINDOW` ago."""
    local = now.astimezone(config.zone)
    at = datetime.combine(local.date(), cfg.departure_time, tzinfo=config.zone)
    return at if at <= local < at + OVERDUE_WINDOW else None


def _next_clock_time(now: datetime, cfg: EvCharger, config: Config) -> datetime:
    local = now.astimezone(config.zone)
    at = datetime.combine(local.date(), cfg.departure_time, tzinfo=config.zone)
    if at <= local:
        at = datetime.combine(local.date() + timedelta(days=1), cfg.departure_time, tzinfo=config.zone)
    return at


def _house(ctx: _Ctx) -> HeatPumpInputs | None:
    state, fb, n = ctx.state, ctx.fallbacks, len(ctx.ivs)
    if ctx.devices.heat_pump is None:
        return None
    cfg = ctx.config.devices[ctx.names["heat_pump"]]
    assert isinstance(cfg, HeatPump | Thermostat)
    comfort = cfg.comfort
    indoor = _measured("indoor_c", state.indoor_c)
    if indoor is None:
        indoor = comfort.target_c
        fb["indoor_c"] = f"{indoor:g} °C (comfort target)"
    ghi = ctx.forecasts.ghi_w_per_m2
    sun_kw = np.zeros(n) if ghi is None else np.maximum(np.asarray(ghi, dtype=np.float64), 0.0) / 1000.0
    gain_kw = cfg.house.internal_gain_kw + cfg.house.solar_aperture_m2 * sun_kw
    return HeatPumpInputs(
        indoor_c=indoor,
        outdoor_c=np.asarray(ctx.forecasts.outdoor_c, dtype=np.float64),
        band_lo_c=np.full(n, comfort.target_c - comfort.band_c),
        band_hi_c=np.full(n, comfort.target_c + comfort.band_c),
        target_c=np.full(n, comfort.target_c),
        gain_kw=gain_kw,
    )


def _tank(ctx: _Ctx) -> WaterHeaterInputs | None:
    state, fb = ctx.state, ctx.fallbacks
    if ctx.devices.water_heater is None:
        return None
    cfg = ctx.config.devices[ctx.names["water_heater"]]
    assert isinstance(cfg, WaterHeater)
    tank = _measured("tank_c", state.tank_c)
    if tank is None:
        tank = cfg.target_c
        fb["tank_c"] = f"{tank:g} °C (target_c)"
    draws = np.maximum(np.asarray(ctx.forecasts.draw_l, dtype=np.float64), 0.0)
    return WaterHeaterInputs(tank_c=tank, draw_l=draws)
