"""V2G in the plan: a car is discharged for a good price only while its SoC is known (dispatch
never discharges a car whose SoC it does not know, so the plan must not count on it)."""

from __future__ import annotations

import numpy as np

from agent.market.records import Side
from agent.optimizer import Planner
from agent.planning.devices import devices_from_config
from agent.planning.inputs import MeasuredState, build_inputs, plan_horizon, planner_shape
from tests.planning.helpers import BROKER, NOW, V2G_EV, config, forecasts, tender

CFG = config(extra=V2G_EV, top=BROKER)
DEV = devices_from_config(CFG)
IVS = plan_horizon(CFG, NOW)


def planned_ev_kw(energy_kwh: float | None) -> np.ndarray:
    # The retailer buys 8 kW in every interval at 1.00/kWh: worth selling the car's energy for.
    bids = [tender(f"bid-{i}", iv, Side.BUY, "1.00", "8") for i, iv in enumerate(IVS)]
    state = MeasuredState(battery_soc=0.2, ev_plugged=True, ev_energy_kwh=energy_kwh, ev_target_kwh=10.0)
    fc = forecasts(tuple(i.start for i in IVS))
    built = build_inputs(CFG, DEV, NOW, tenders=bids, forecasts=fc, state=state, positions_kw={})
    assert built.inputs.ev is not None
    assert built.inputs.ev.sessions[0].discharge is (energy_kwh is not None)
    plan = Planner(DEV, *planner_shape(CFG)).plan(built.inputs)
    return np.asarray(plan.series["ev_kw"])


def test_a_car_with_a_known_soc_is_discharged_for_a_good_price() -> None:
    ev_kw = planned_ev_kw(25.0)
    # Near its 5 kW V2G limit (the bids, battery and base load share the 8 kW), never beyond it.
    assert -5.0 - 1e-6 <= ev_kw.min() < -4.0
    assert ev_kw.max() <= 1e-6


def test_a_car_whose_soc_is_unknown_is_not_discharged() -> None:
    # The same 25 kWh, but guessed (the default half of the capacity), not measured.
    assert DEV.ev is not None and DEV.ev.capacity_kwh * 0.5 == 25.0
    ev_kw = planned_ev_kw(None)
    assert ev_kw.min() >= -1e-6
