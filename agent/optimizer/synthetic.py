"""A synthetic home with every device on, for the benchmark and the tests.

Prices, forecasts and sessions are smooth daily shapes plus seeded noise, written as functions of
the absolute interval index so that a receding horizon sees the same world shifted by one
interval per re-plan (with fresh forecast noise, as a real forecast would change).
"""

from __future__ import annotations

import numpy as np

from agent.optimizer.battery import BatteryInputs, BatteryParams
from agent.optimizer.ev import EvInputs, EvParams, EvSession
from agent.optimizer.grid import GridInputs, GridParams
from agent.optimizer.heat_pump import HeatPumpInputs, HeatPumpParams
from agent.optimizer.model import Devices, PlanInputs
from agent.optimizer.water_heater import WaterHeaterInputs, WaterHeaterParams


def devices() -> Devices:
    return Devices(
        grid=GridParams(import_limit_kw=17.0, export_limit_kw=10.0, buy_steps=2, sell_steps=2),
        battery=BatteryParams(
            capacity_kwh=10.0,
            charge_max_kw=5.0,
            discharge_max_kw=5.0,
            soc_min_kwh=1.0,
            reserve_kwh=2.0,
            wear_per_kwh=0.02,
            wear_quadratic_per_kw2h=0.002,
        ),
        ev=EvParams(
            capacity_kwh=60.0,
            charge_max_kw=11.0,
            discharge_max_kw=5.0,
            v2g_floor_kwh=20.0,
            v2g_wear_per_kwh=0.03,
        ),
        heat_pump=HeatPumpParams(
            max_kw=3.0,
            r_k_per_kw=8.0,
            c_kwh_per_k=6.0,
            cop_ref=3.2,
            cop_slope_per_k=0.08,
            comfort_weight_per_k2h=0.05,
        ),
        water_heater=WaterHeaterParams(volume_l=200.0, element_kw=3.0),
    )


def inputs(
    horizon: int, dt_h: float, first: int = 0, seed: int = 0, devices_: Devices | None = None
) -> PlanInputs:
    """Inputs for the horizon starting at absolute interval ``first`` (noise drawn from ``seed``)."""
    rng = np.random.default_rng(seed)
    t = np.arange(first, first + horizon)
    hour = (t * dt_h) % 24.0
    day = np.sin(2 * np.pi * (hour - 9) / 24)
    noise = rng.normal(0.0, 0.02, horizon)
    spot = 0.12 + 0.08 * np.sin(2 * np.pi * (hour - 13) / 24) + 0.05 * np.sin(4 * np.pi * hour / 24) + noise
    buy_price = np.stack([spot + 0.18, spot + 0.30], axis=1)
    buy_max = np.stack([np.full(horizon, 3.0), np.full(horizon, 30.0)], axis=1)
    sell_price = np.stack([spot - 0.02, spot - 0.06], axis=1)
    sell_max = np.stack([np.full(horizon, 2.0), np.full(horizon, 30.0)], axis=1)
    pv = np.clip(6.0 * np.sin(np.pi * (hour - 6) / 12), 0.0, None) * (1 + rng.normal(0.0, 0.05, horizon))
    base = 0.4 + 0.3 * np.clip(np.sin(2 * np.pi * (hour - 15) / 24), 0, None) + rng.uniform(0, 0.1, horizon)
    outdoor = 2.0 + 5.0 * day + rng.normal(0.0, 0.3, horizon)
    draw = np.where((hour >= 6.5) & (hour < 7.5) | (hour >= 19) & (hour < 20), 60.0 * dt_h, 0.0)
    days = int(first * dt_h // 24)
    sessions = []
    for d in range(days, days + int(horizon * dt_h / 24) + 2):
        arrive = round((d * 24 + 18) / dt_h) - first
        depart = round((d * 24 + 31) / dt_h) - first
        if depart > 0 and arrive < horizon:
            sessions.append(EvSession(arrive, depart, 25.0, 50.0))
    dev = devices_ or devices()
    return PlanInputs(
        grid=GridInputs(
            buy_price_per_kwh=buy_price,
            buy_max_kw=buy_max,
            sell_price_per_kwh=sell_price,
            sell_max_kw=sell_max,
            position_kw=np.zeros(horizon),
            import_adder_per_kwh=np.full(horizon, 0.05),
            export_adder_per_kwh=np.zeros(horizon),
        ),
        base_kw=base,
        pv_kw=np.clip(pv, 0.0, None),
        battery=BatteryInputs(energy_kwh=5.0) if dev.battery else None,
        ev=EvInputs(tuple(sessions)) if dev.ev else None,
        heat_pump=HeatPumpInputs(
            indoor_c=20.5,
            outdoor_c=outdoor,
            band_lo_c=np.full(horizon, 19.5),
            band_hi_c=np.full(horizon, 23.0),
            target_c=np.full(horizon, 21.0),
            gain_kw=np.zeros(horizon),
        )
        if dev.heat_pump
        else None,
        water_heater=WaterHeaterInputs(tank_c=55.0, draw_l=draw) if dev.water_heater else None,
    )
