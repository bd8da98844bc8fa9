"""Any starting state gives a checked plan: every bound it can break is soft (penalties.py)."""

from __future__ import annotations

import dataclasses
import itertools

import numpy as np
import pytest

from agent.optimizer import (
    BatteryInputs,
    EvInputs,
    EvSession,
    HeatPumpInputs,
    Planner,
    WaterHeaterInputs,
    synthetic,
)

T_N, DT_H = 48, 0.5
PLANNER = Planner(synthetic.devices(), T_N, DT_H)

BATTERY_KWH = [0.0, 0.5, 25.0]  # empty, below the SoC floor, above the capacity (10 kWh)
INDOOR_C = [-15.0, 40.0]  # frozen house, overheated house
TANK_C = [4.0, 98.0]
EV = [
    EvSession(1, 2, 0.0, 60.0),  # arrives empty one interval before leaving, wants it full
    EvSession(0, 1, 70.0, 60.0),  # plugged in above its capacity, leaving now
    EvSession(-5, 3, 5.0, 55.0),  # plugged in for a while already, leaving soon
]


@pytest.mark.parametrize(
    ("battery_kwh", "indoor_c", "tank_c", "session"),
    list(itertools.product(BATTERY_KWH, INDOOR_C, TANK_C, EV))[::2],
)
def test_extreme_starting_states_still_plan(
    battery_kwh: float, indoor_c: float, tank_c: float, session: EvSession
) -> None:
    base = synthetic.inputs(T_N, DT_H, 0, 1)
    assert base.heat_pump is not None and base.water_heater is not None
    inputs = dataclasses.replace(
        base,
        battery=BatteryInputs(battery_kwh),
        heat_pump=dataclasses.replace(base.heat_pump, indoor_c=indoor_c),
        water_heater=WaterHeaterInputs(tank_c, base.water_heater.draw_l),
        ev=EvInputs((session,)),
    )
    plan = PLANNER.plan(inputs)  # raises if the solver or the plan check fails
    assert plan.solver.max_violation <= 1e-3
    # Out-of-bounds states are driven back: the battery moves toward its limits at full power.
    e = plan.series["battery_kwh"]
    if battery_kwh > 10.0:
        assert e[0] < battery_kwh
    if battery_kwh < 1.0:
        assert e[0] > battery_kwh
    if indoor_c < 0:
        assert plan.series["heat_pump_kw"][0] == pytest.approx(3.0, abs=1e-3)


def test_base_load_above_the_fuse_and_a_huge_position_still_plan() -> None:
    base = synthetic.inputs(T_N, DT_H, 0, 2)
    grid = dataclasses.replace(base.grid, position_kw=np.full(T_N, 80.0), buy_max_kw=np.zeros((T_N, 2)))
    inputs = dataclasses.replace(base, base_kw=np.full(T_N, 30.0), grid=grid)
    plan = PLANNER.plan(inputs)
    assert plan.series["import_over_limit_kw"].max() > 0  # 30 kW base load through a 17 kW limit
    assert plan.cost["import_limit_penalty"] > 0


def test_cold_house_and_tank_with_no_heat_pump_power_still_plan() -> None:
    base = synthetic.inputs(T_N, DT_H, 0, 3)
    assert base.heat_pump is not None
    hp = HeatPumpInputs(
        indoor_c=5.0,
        outdoor_c=np.full(T_N, -25.0),
        band_lo_c=np.full(T_N, 21.0),
        band_hi_c=np.full(T_N, 21.0),
        target_c=np.full(T_N, 21.0),
        gain_kw=np.zeros(T_N),
    )
    inputs = dataclasses.replace(base, heat_pump=hp, water_heater=WaterHeaterInputs(2.0, np.full(T_N, 100.0)))
    plan = PLANNER.plan(inputs)
    assert plan.cost["comfort_penalty"] > 0
    assert plan.cost["tank_penalty"] > 0
