"""The validated config's devices as the planner's static parameters (:class:`Devices`).

Mapping and units (config -> planner; every power a magnitude, the sign convention is the
planner's, :mod:`agent.units`):

* battery: ``capacity_kwh``, ``charge_max_kw``, ``discharge_max_kw``, one-way efficiencies as
  given; ``soc_min``/``soc_max``/``reserve_soc`` (fractions) times the capacity give
  ``soc_min_kwh``/``soc_max_kwh``/``reserve_kwh``; ``wear_cost_per_kwh`` is the planner's
  ``wear_per_kwh`` (charged on charge and on discharge throughput alike). The quadratic wear term
  is :data:`DEFAULT_BATTERY_WEAR_QUADRATIC_PER_KW2H` (the config has none).
* ev_charger: ``battery_kwh`` -> capacity, ``max_kw`` -> charge limit, ``v2g_max_kw`` (only with
  ``v2g: true`` and a charger that can discharge, :mod:`agent.planning.charger`; else 0, logged
  once as a warning) -> discharge limit, V2G floor :data:`DEFAULT_V2G_FLOOR_SOC` of the capacity, V2G
  wear :data:`DEFAULT_V2G_WEAR_PER_KWH`. ``min_kw`` (the 6 A floor) is not convex: the dispatcher
  honours it, the plan does not.
* heat_pump, else thermostat (a thermostat next to a heat pump is left to its own setpoint):
  ``electric_max_kw``, house R and C, mode; a constant
  ``cop`` or a ``cop_curve`` fitted by least squares to the planner's linear
  ``cop_ref + slope * (T_out - ref)`` (reference at the curve's mean temperature); comfort weight
  :data:`DEFAULT_COMFORT_WEIGHT_PER_K2H` per K^2 h around ``comfort.target_c``.
* water_heater: ``tank_l``, ``element_kw``, ``ua_w_per_k`` / 1000 -> ``standing_loss_kw_per_k``,
  ``inlet_c``, ``ambient_c``, band ``min_c``..``max_c``; taps deliver at
  :data:`DEFAULT_DELIVERY_C` (clipped into ``[inlet_c, min_c]``).
* meter: ``import_max_kw``/``export_max_kw``; missing limits default to the sum of what the
  devices can draw plus :data:`DEFAULT_BASE_ALLOWANCE_KW` (import) or can feed in (export).
* pv_inverter: any one present makes PV part of the model (the planner curtails it only when
  exporting would cost money).
* ``market.source``: a tariff with a ``demand`` charge gives the planner the month's running peak
  (``demand_charge``; its inputs per plan: :mod:`agent.planning.demand`).
* ladders: ``buy_steps``/``sell_steps`` (default :data:`DEFAULT_LADDER_STEPS`) fix the size of
  the problem: the last step of each side is the expected-price step (see
  :mod:`agent.planning.ladders`), the others hold actionable tenders.

The planner models one device of each role; a second one is a :class:`PlanningInputError`.
:func:`planned_devices` tells the cycle which config device plays which planner role.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import TypeVar

import numpy as np
import numpy.typing as npt

from agent.config import Config
from agent.config.devices import Battery, EvCharger, HeatPump, Meter, PvInverter, Thermostat, WaterHeater
from agent.config.thermal import CopPoint
from agent.optimizer import (
    BatteryParams,
    Devices,
    EvParams,
    GridParams,
    HeatPumpParams,
    InputError,
    WaterHeaterParams,
)
from agent.optimizer.heat_pump import COP_MAX, COP_MIN
from agent.planning.charger import discharge_refusal, refusal_note
from agent.planning.errors import PlanningInputError

_log = logging.getLogger("agent.planning")

DEFAULT_LADDER_STEPS = 4  # 3 actionable tenders per interval and side, plus the expected price
# Only enough to break ties between hours of equal price: at 0.001 the plan spread the battery's
# charge over the whole day and exported morning PV it was relying on the afternoon to replace,
# which a cloudier afternoon than forecast did not (every shipped and contract week cost more).
DEFAULT_BATTERY_WEAR_QUADRATIC_PER_KW2H = 0.00005
DEFAULT_V2G_FLOOR_SOC = 0.2  # never discharge the car below a fifth for the grid
DEFAULT_V2G_WEAR_PER_KWH = 0.05
DEFAULT_COMFORT_WEIGHT_PER_K2H = 0.05
DEFAULT_DELIVERY_C = 40.0  # mixing-valve temperature at the taps
DEFAULT_BASE_ALLOWANCE_KW = 10.0  # household load on top of the planned devices, if no fuse given
HP_COP_REF_OUTDOOR_C = 7.0  # EN 14511 A7 rating point, the reference of a constant COP

D = TypeVar("D")


def devices_from_config(
    config: Config, *, buy_steps: int = DEFAULT_LADDER_STEPS, sell_steps: int = DEFAULT_LADDER_STEPS
) -> Devices:
    if buy_steps < 1 or sell_steps < 1:
        raise PlanningInputError("buy_steps", "need at least one step per side (the expected price)")
    battery = _one(config, Battery)
    ev = _one(config, EvCharger)
    thermal = _thermal(config)
    heater = _one(config, WaterHeater)
    try:
        bat = _battery(battery[1]) if battery else None
        car = _ev(*ev) if ev else None
        hp = _heat_pump(thermal[0], thermal[1]) if thermal else None
        wh = _water_heater(heater[1]) if heater else None
        grid = _grid(config, Devices(GridParams(0.0, 0.0), bat, car, hp, wh), buy_steps, sell_steps)
    except InputError as e:
        name = _owner(e.field, battery, ev, thermal, heater)
        raise PlanningInputError(name, str(e)) from e
    return Devices(
        grid=grid,
        battery=bat,
        ev=car,
        heat_pump=hp,
        water_heater=wh,
        pv=bool(config.devices_of(PvInverter)),
        # Every inverter must accept a limit for the plan to count on curtailing (dispatch only
        # ever limits the curtailable ones).
        pv_curtailable=all(d.curtailable for d in config.devices_of(PvInverter).values()),
        demand_charge=config.market.tariff is not None and config.market.tariff.demand is not None,
    )


def _one(config: Config, kind: type[D]) -> tuple[str, D] | None:
    found = config.devices_of(kind)
    if len(found) > 1:
        names = sorted(found)
        raise PlanningInputError(
            f"devices.{names[1]}", f"the planner models one {kind.__name__} (also: {names[0]})"
        )
    return next(iter(found.items()), None)


def _thermal(config: Config) -> tuple[str, HeatPump | Thermostat] | None:
    # A power-controlled heat pump is the better lever; a thermostat next to it keeps its own
    # setpoint (the dispatcher's safe rule) and its draw shows up in the base load.
    hp = _one(config, HeatPump)
    return hp if hp is not None else _one(config, Thermostat)


def planned_devices(config: Config) -> dict[str, str]:
    """Planner role (``battery``, ``ev``, ``heat_pump``, ``water_heater``) -> config device name."""
    out: dict[str, str] = {}
    for role, found in (
        ("battery", _one(config, Battery)),
        ("ev", _one(config, EvCharger)),
        ("heat_pump", _thermal(config)),
        ("water_heater", _one(config, WaterHeater)),
    ):
        if found is not None:
            out[role] = found[0]
    return out


def _owner(field: str, *found: tuple[str, object] | None) -> str:
    """``devices.<name>.<key>`` for a planner field like ``battery.capacity_kwh``."""
    prefix, _, key = field.partition(".")
    roles = {"battery": 0, "ev": 1, "heat_pump": 2, "water_heater": 3}
    if prefix in roles and found[roles[prefix]] is not None:
        entry = found[roles[prefix]]
        assert entry is not None
        return f"devices.{entry[0]}.{key}"
    return f"devices.{field}"


def _battery(b: Battery) -> BatteryParams:
    cap = b.capacity_kwh
    return BatteryParams(
        capacity_kwh=cap,
        charge_max_kw=b.charge_max_kw,
        discharge_max_kw=b.discharge_max_kw,
        charge_efficiency=b.charge_efficiency,
        discharge_efficiency=b.discharge_efficiency,
        soc_min_kwh=b.soc_min * cap,
        soc_max_kwh=b.soc_max * cap,
        reserve_kwh=b.reserve_soc * cap,
        wear_per_kwh=float(b.wear_cost_per_kwh),
        wear_quadratic_per_kw2h=DEFAULT_BATTERY_WEAR_QUADRATIC_PER_KW2H,
    )


def _ev(name: str, e: EvCharger) -> EvParams:
    v2g_kw = e.v2g_max_kw if e.v2g and e.v2g_max_kw is not None else 0.0
    refusal = discharge_refusal(e) if v2g_kw > 0 else None
    if refusal is not None:
        _log.warning("devices.%s.v2g: %s", name, refusal_note(refusal))
        v2g_kw = 0.0
    return EvParams(
        capacity_kwh=e.battery_kwh,
        charge_max_kw=e.max_kw,
        discharge_max_kw=v2g_kw,
        v2g_floor_kwh=DEFAULT_V2G_FLOOR_SOC * e.battery_kwh if v2g_kw > 0 else 0.0,
        v2g_wear_per_kwh=DEFAULT_V2G_WEAR_PER_KWH if v2g_kw > 0 else 0.0,
    )


def cop_line(cop: float | None, curve: Sequence[CopPoint] | None) -> tuple[float, float, float]:
    """(cop_ref, ref_outdoor_c, slope_per_k) of the planner's linear COP."""
    if curve is None:
        assert cop is not None  # the config demands exactly one of cop / cop_curve
        return cop, HP_COP_REF_OUTDOOR_C, 0.0
    temps = np.array([p.outdoor_c for p in curve])
    cops = np.array([p.cop for p in curve])
    ref = float(temps.mean())
    slope = float(np.polyfit(temps - ref, cops, 1)[0])
    return float(cops.mean()), ref, slope


def cooling_cop_series(
    h: HeatPump | Thermostat, outdoor_c: npt.NDArray[np.float64]
) -> npt.NDArray[np.float64]:
    """The COP while cooling for a heat pump in mode auto (its ``cooling_cop``/``_curve``), as the
    planner's line over ``outdoor_c``, clipped as the planner clips its own."""
    cop_ref, ref_c, slope = cop_line(h.cooling_cop, h.cooling_cop_curve)
    return np.clip(cop_ref + slope * (outdoor_c - ref_c), COP_MIN, COP_MAX)


def _heat_pump(name: str, h: HeatPump | Thermostat) -> HeatPumpParams:
    cop_ref, ref_c, slope = cop_line(h.cop, h.cop_curve)
    if cop_ref < 1.0:
        key = "cop" if h.cop_curve is None else "cop_curve"
        raise PlanningInputError(
            f"devices.{name}.{key}",
            f"the planner needs a COP of at least 1 at {ref_c:g} °C (got {cop_ref:.3g})",
        )
    return HeatPumpParams(
        max_kw=h.electric_max_kw,
        r_k_per_kw=h.house.r_k_per_kw,
        c_kwh_per_k=h.house.c_kwh_per_k,
        # auto: each plan's inputs carry the mode in force (planning/inputs.py)
        mode="cooling" if h.mode == "cooling" else "heating",
        cop_ref=cop_ref,
        cop_ref_outdoor_c=ref_c,
        cop_slope_per_k=slope,
        comfort_weight_per_k2h=DEFAULT_COMFORT_WEIGHT_PER_K2H,
    )


def _water_heater(w: WaterHeater) -> WaterHeaterParams:
    return WaterHeaterParams(
        volume_l=w.tank_l,
        element_kw=w.element_kw,
        standing_loss_kw_per_k=w.ua_w_per_k / 1000.0,
        ambient_c=w.ambient_c,
        inlet_c=w.inlet_c,
        delivery_c=min(max(DEFAULT_DELIVERY_C, w.inlet_c), w.min_c),
        min_c=w.min_c,
        max_c=w.max_c,
    )


def _grid(config: Config, planned: Devices, buy_steps: int, sell_steps: int) -> GridParams:
    bat, ev, hp, wh = planned.battery, planned.ev, planned.heat_pump, planned.water_heater
    meter = config.devices[config.meter_name]
    assert isinstance(meter, Meter)
    draw = DEFAULT_BASE_ALLOWANCE_KW + sum(
        x
        for x in (
            bat.charge_max_kw if bat else 0.0,
            ev.charge_max_kw if ev else 0.0,
            hp.max_kw if hp else 0.0,
            wh.element_kw if wh else 0.0,
        )
    )
    feed = sum(p.peak_kw for p in config.devices_of(PvInverter).values())
    feed += (bat.discharge_max_kw if bat else 0.0) + (ev.discharge_max_kw if ev else 0.0)
    return GridParams(
        import_limit_kw=meter.import_max_kw if meter.import_max_kw is not None else draw,
        export_limit_kw=meter.export_max_kw if meter.export_max_kw is not None else feed,
        buy_steps=buy_steps,
        sell_steps=sell_steps,
    )
