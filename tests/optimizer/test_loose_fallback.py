"""A solve that cannot reach its tolerance within its iterations is finished at the looser one.

Guards a run of failed plans: in the summer week's first days 5 of 338 whole-problem solves
stopped at PIQP's iteration limit short of 1e-8, and each left dispatch without a new plan.
"""

from __future__ import annotations

import pytest

from agent.optimizer import Planner, synthetic
from agent.optimizer.piqp_backend import PiqpSettings

T_N, DT_H = 48, 0.5


def test_an_unreachable_tolerance_ends_in_a_plan_at_the_looser_one() -> None:
    inputs = synthetic.inputs(T_N, DT_H)
    # 1e-14 is beyond what double precision lets PIQP certify within its 200 iterations.
    strict = Planner(
        synthetic.devices(), T_N, DT_H, piqp_settings=PiqpSettings(screen=False, eps_abs=1e-14, eps_rel=1e-15)
    )
    plan = strict.plan(inputs)
    assert strict._piqp is not None
    assert strict._piqp.loose_solves == 1
    reference = Planner(synthetic.devices(), T_N, DT_H, piqp_settings=PiqpSettings(screen=False)).plan(inputs)
    # Solved to 1e-6 against 1e-8: the same optimum within the looser tolerance.
    assert plan.total_cost == pytest.approx(reference.total_cost, abs=1e-5)


def test_a_reachable_tolerance_needs_no_second_solve() -> None:
    planner = Planner(synthetic.devices(), T_N, DT_H, piqp_settings=PiqpSettings(screen=False))
    planner.plan(synthetic.inputs(T_N, DT_H))
    assert planner._piqp is not None
    assert planner._piqp.loose_solves == 0
