"""One re-plan's inputs: ladders, positions, forecasts and the measured device states.

The horizon is ``planner.horizon_h`` of ``planner.step`` intervals from the one holding ``now``
(:func:`plan_horizon`); its length is fixed, so the planner is built once with
:func:`planner_shape`. Positions come per metering interval (the ledger's); a plan step longer
than the metering interval gets the mean of the positions inside it (equal energy).

Measured states are plain values the cycle read from its snapshot; a missing one (None) falls
back, and the fallback is reported in :attr:`BuiltInputs.fallbacks`:

* battery SoC -> the reserve floor (the plan does not count on energy it may not have);
* EV plugged unknown -> not plugged; plugged with energy unknown -> ``DEFAULT_EV_SOC`` of its
  battery; departure unknown -> the next configured ``departure_time`` (but a car still short of
  its target within ``OVERDUE_WINDOW`` after today's departure time charges now); target
  unknown -> ``target_soc`` of the battery; a car not plugged in is expected at its usual
  ``arrival_time``, if one is configured (:mod:`agent.planning.ev_sessions`);
  a departure already past or inside the current interval -> the end of the current interval;
* indoor temperature -> the comfort target; tank temperature -> the tank's ``target_c``.

Other assumptions: the house gains ``house.internal_gain_kw`` plus ``house.solar_aperture_m2``
times the irradiance forecast (none where it is not forecast); comfort band ``target_c +-
band_c`` of the mode in force when the horizon starts (the heat pump's ``mode``: heating,
cooling or auto by its cooling season; the whole horizon in one mode); energy left in the battery
at the horizon's end is worth the cheap hours' expected buy price plus import network charge,
after a round trip's losses (what putting it back costs); a price missing altogether is
:data:`DEFAULT_PRICE_PER_KWH`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

import numpy as np

from agent.config import Config
from agent.config.devices import EvCharger, HeatPump, Thermostat, WaterHeater
from agent.forecast import Forecasts
from agent.market.intervals import Interval, containing, horizon
from agent.market.records import SpotPrice, Tender
from agent.optimizer import (
    BatteryInputs,
    DemandInputs,
    Devices,
    EvInputs,
    HeatPumpInputs,
    InputError,
    PlanInputs,
    WaterHeaterInputs,
)
from agent.optimizer.structure import Vec
from agent.planning.devices import cooling_cop_series, planned_devices
from agent.planning.errors import PlanningInputError
from agent.planning.ev_sessions import SessionBuilder, measured
from agent.planning.ladders import Ladders, build_ladders
from agent.planning.market import MarketRules

DEFAULT_PRICE_PER_KWH = 0.30
# Energy left in the battery at the horizon's end is valued at this quantile of the horizon's
# import costs (the cheap hours, robust to a single odd price).
TERMINAL_PRICE_QUANTILE = 0.1


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
    horizon: tuple[Interval, ...] | None = None,
    spot_offset: Callable[[Sequence[Interval]], Vec] | None = None,
    demand: DemandInputs | None = None,
) -> BuiltInputs:
    """``horizon``: the plan's intervals from ``now`` where the caller has them already
    (:func:`plan_horizon` otherwise). ``spot_offset``: per plan interval, how spot settles
    against the forward quotes' mid (:class:`agent.trading.spot_premium.SpotPremium`; None: it
    settles at the mid). ``demand``: the contract's demand charge over the horizon, where it has
    one (:func:`agent.planning.demand.demand_inputs`)."""
    ivs = plan_horizon(config, now) if horizon is None else horizon
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
        spot_spread_per_kwh=config.market.spot_spread_per_kwh,
        base_kw=base,
        forward_trading=config.market.forward_trading,
        spot_offset_per_kwh=None if spot_offset is None else spot_offset(ivs),
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
            demand=demand,
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


def _battery(ctx: _Ctx, ladders: Ladders) -> BatteryInputs | None:
    p, state, fb = ctx.devices.battery, ctx.state, ctx.fallbacks
    if p is None:
        return None
    soc = measured("battery_soc", state.battery_soc)
    if soc is not None and not 0.0 <= soc <= 1.0:
        raise PlanningInputError("state.battery_soc", f"must be a fraction 0..1, got {soc}")
    if soc is None:
        fb["battery_soc"] = f"reserve floor {p.reserve_kwh:g} kWh"
        energy = p.reserve_kwh
    else:
        energy = soc * p.capacity_kwh
    # What a kWh left at the horizon's end is worth: an import avoided later, network charge
    # included (without it, a plan made in the evening, whose horizon ends before the next
    # evening, would rather export the next day's surplus than store it), but priced as the
    # cheap hours and after a round trip's losses: that is all it costs to put a kWh back. A
    # higher value (the median price) made holding a full battery to the horizon's end pay more
    # than using it for the night's loads: the car charged from the grid beside a full battery,
    # and the next day's sun, with no room left, went out at the export price.
    avoided = np.asarray(ladders.expected_buy_per_kwh) + np.asarray(ladders.grid.import_adder_per_kwh)
    cheap = float(np.quantile(avoided, TERMINAL_PRICE_QUANTILE))
    value = cheap * p.charge_efficiency * p.discharge_efficiency
    return BatteryInputs(energy_kwh=energy, terminal_value_per_kwh=value)


def _ev(ctx: _Ctx) -> EvInputs | None:
    if ctx.devices.ev is None:
        return None
    cfg = ctx.config.devices[ctx.names["ev"]]
    assert isinstance(cfg, EvCharger)
    state = ctx.state
    builder = SessionBuilder(
        cfg, ctx.devices.ev, ivs=ctx.ivs, now=ctx.now, zone=ctx.config.zone, fallbacks=ctx.fallbacks
    )
    return builder.build(state.ev_plugged, state.ev_energy_kwh, state.ev_target_kwh, state.ev_departure)


def _house(ctx: _Ctx) -> HeatPumpInputs | None:
    state, fb, n = ctx.state, ctx.fallbacks, len(ctx.ivs)
    if ctx.devices.heat_pump is None:
        return None
    cfg = ctx.config.devices[ctx.names["heat_pump"]]
    assert isinstance(cfg, HeatPump | Thermostat)
    # one mode for the whole horizon: the one in force when it starts (agent/season.py)
    mode = cfg.mode_rule().mode_at(ctx.ivs[0].start_utc, ctx.config.zone)
    comfort = cfg.comfort_in(mode)
    indoor = measured("indoor_c", state.indoor_c)
    if indoor is None:
        indoor = comfort.target_c
        fb["indoor_c"] = f"{indoor:g} °C (comfort target)"
    ghi = ctx.forecasts.ghi_w_per_m2
    sun_kw = np.zeros(n) if ghi is None else np.maximum(np.asarray(ghi, dtype=np.float64), 0.0) / 1000.0
    gain_kw = cfg.house.internal_gain_kw + cfg.house.solar_aperture_m2 * sun_kw
    outdoor_c = np.asarray(ctx.forecasts.outdoor_c, dtype=np.float64)
    # mode auto: the params' COP line is the heating one; cooling has its own
    cop = cooling_cop_series(cfg, outdoor_c) if cfg.mode == "auto" and mode == "cooling" else None
    return HeatPumpInputs(
        indoor_c=indoor,
        outdoor_c=outdoor_c,
        band_lo_c=np.full(n, comfort.target_c - comfort.band_c),
        band_hi_c=np.full(n, comfort.target_c + comfort.band_c),
        target_c=np.full(n, comfort.target_c),
        gain_kw=gain_kw,
        mode=mode,
        cop=cop,
    )


def _tank(ctx: _Ctx) -> WaterHeaterInputs | None:
    state, fb = ctx.state, ctx.fallbacks
    if ctx.devices.water_heater is None:
        return None
    cfg = ctx.config.devices[ctx.names["water_heater"]]
    assert isinstance(cfg, WaterHeater)
    tank = measured("tank_c", state.tank_c)
    if tank is None:
        tank = cfg.target_c
        fb["tank_c"] = f"{tank:g} °C (target_c)"
    draws = np.maximum(np.asarray(ctx.forecasts.draw_l, dtype=np.float64), 0.0)
    return WaterHeaterInputs(tank_c=tank, draw_l=draws)
