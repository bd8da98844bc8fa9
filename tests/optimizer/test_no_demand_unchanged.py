"""A home whose contract has no demand charge plans exactly as before demand charges were modelled.

``data/plan_without_demand.json`` was recorded by the planner of the commit before the demand
charge (``_record`` below, run on that tree): the QP it built for this home — variables, rows,
the matrices and the numbers of one re-plan — and the plan it made. The QP must match it entry
for entry: the same problem gives the solver the same work, so the plan is the same bytes on one
machine. The plan is compared to 1e-6 as well, as a machine with other floating-point libraries
may solve the same problem a hair differently.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from agent.optimizer import (
    BatteryInputs,
    EvInputs,
    EvSession,
    HeatPumpInputs,
    PlanInputs,
    Planner,
    WaterHeaterInputs,
    synthetic,
)
from agent.optimizer.grid import GridInputs

RECORDED = Path(__file__).parent / "data" / "plan_without_demand.json"
T_N, DT_H = 4, 1.0


def _problem() -> tuple[Planner, PlanInputs]:
    """The synthetic home (every device) with round numbers: no noise, no trigonometry."""
    prices = np.array([[0.30, 0.42], [0.12, 0.24], [0.18, 0.30], [0.45, 0.57]])
    inputs = PlanInputs(
        grid=GridInputs(
            buy_price_per_kwh=prices,
            buy_max_kw=np.array([[3.0, 30.0]] * T_N),
            sell_price_per_kwh=prices - 0.2,
            sell_max_kw=np.array([[2.0, 30.0]] * T_N),
            position_kw=np.array([0.0, 1.0, 0.0, -0.5]),
            import_adder_per_kwh=np.full(T_N, 0.05),
            export_adder_per_kwh=np.zeros(T_N),
        ),
        base_kw=np.array([0.5, 0.75, 1.25, 0.5]),
        pv_kw=np.array([0.0, 2.5, 4.0, 0.5]),
        battery=BatteryInputs(energy_kwh=5.0, terminal_value_per_kwh=0.15),
        ev=EvInputs((EvSession(1, 4, 25.0, 35.0),)),
        heat_pump=HeatPumpInputs(
            indoor_c=20.5,
            outdoor_c=np.array([2.0, 4.0, 6.0, 3.0]),
            band_lo_c=np.full(T_N, 19.5),
            band_hi_c=np.full(T_N, 23.0),
            target_c=np.full(T_N, 21.0),
            gain_kw=np.array([0.0, 0.25, 0.5, 0.0]),
        ),
        water_heater=WaterHeaterInputs(tank_c=52.0, draw_l=np.array([0.0, 30.0, 0.0, 60.0])),
    )
    return Planner(synthetic.devices(), T_N, DT_H), inputs


def _record(planner: Planner, inputs: PlanInputs) -> dict[str, Any]:
    """The QP of one re-plan and the plan made from it (solve times left out: they vary)."""
    s = planner.model.structure
    n = planner.model.numbers(inputs)
    p_mat, a_mat, positions = s.matrices()
    values, where = n.a_values(positions)
    a_mat.data[where] = values
    a = a_mat.tocoo()
    plan = planner.plan(inputs).to_json()
    del plan["solver"]
    return {
        "variables": list(s.var_names),
        "rows": [[r.name, str(r.sense)] for r in s.rows],
        "p_diag": p_mat.diagonal().tolist(),
        "a": {"row": a.row.tolist(), "col": a.col.tolist(), "val": a.data.tolist()},
        "q": n.q.tolist(),
        "lo": n.lo.tolist(),
        "hi": n.hi.tolist(),
        "plan": plan,
    }


Record = tuple[dict[str, Any], dict[str, Any]]


@pytest.fixture(scope="module")
def now_and_then() -> Record:
    then: dict[str, Any] = json.loads(RECORDED.read_text(encoding="utf-8"))
    return _record(*_problem()), then


@pytest.mark.parametrize("part", ["variables", "rows", "p_diag", "a", "q", "lo", "hi"])
def test_the_problem_is_the_one_before_demand_charges(now_and_then: Record, part: str) -> None:
    now, then = now_and_then
    assert now[part] == then[part]


def test_the_plan_is_the_one_before_demand_charges(now_and_then: Record) -> None:
    now, then = now_and_then
    plan, before = now["plan"], then["plan"]
    assert sorted(plan) == sorted(before)
    assert sorted(plan["series"]) == sorted(before["series"])
    assert sorted(plan["cost"]) == sorted(before["cost"])
    for name, values in before["series"].items():
        assert plan["series"][name] == pytest.approx(values, abs=1e-6), name
    for name, value in before["cost"].items():
        assert plan["cost"][name] == pytest.approx(value, abs=1e-6), name
    assert plan["marginal_value_per_kwh"] == pytest.approx(before["marginal_value_per_kwh"], abs=1e-6)
    assert plan["total_cost"] == pytest.approx(before["total_cost"], abs=1e-6)
