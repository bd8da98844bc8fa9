"""Re-plans without the penalty slacks: the same plan as the whole problem, or the whole problem."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from agent.optimizer import BatteryInputs, PlanInputs, Planner, synthetic
from agent.optimizer.penalties import SOFT_VARIABLES
from agent.optimizer.piqp_backend import PiqpSettings

T_N, DT_H = 48, 0.5
SCREENED = Planner(synthetic.devices(), T_N, DT_H, piqp_settings=PiqpSettings(screen=True))
WHOLE = Planner(synthetic.devices(), T_N, DT_H, piqp_settings=PiqpSettings(screen=False))


def _fallbacks() -> int:
    assert SCREENED._piqp is not None
    return SCREENED._piqp.screen_fallbacks


def _same_plan(inputs: PlanInputs) -> None:
    screened, whole = SCREENED.plan(inputs), WHOLE.plan(inputs)
    # Both solves stop at 1e-8; the optimum's cost is unique, the plan's split need not be.
    assert screened.total_cost == pytest.approx(whole.total_cost, rel=1e-6, abs=1e-6)
    np.testing.assert_allclose(screened.series["grid_kw"], whole.series["grid_kw"], atol=1e-2)


def test_soft_variables_are_declared_by_the_model() -> None:
    # A name that drifted from its device module would silently stop being screened.
    assert set(SOFT_VARIABLES) <= set(SCREENED.model.structure.var_names)


@settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.integers(0, 10_000))
def test_an_ordinary_re_plan_is_certified_and_matches_the_whole_problem(seed: int) -> None:
    before = _fallbacks()
    _same_plan(synthetic.inputs(T_N, DT_H, seed % 48, seed))
    assert _fallbacks() == before  # the smaller problem's answer was proven optimal


def test_the_smaller_problems_duals_satisfy_the_whole_problems_optimality_conditions() -> None:
    # The marginal values (trade-row duals) of a degenerate problem are not unique, so they are not
    # compared with the whole problem's solve; instead they must make the whole problem's KKT hold:
    # P x + q + A'y + z = 0 with z >= 0 only where x sits on its upper bound, <= 0 on its lower.
    backend = SCREENED._piqp
    assert backend is not None
    n = SCREENED.model.numbers(synthetic.inputs(T_N, DT_H, 11, 11))
    before = backend.screen_fallbacks
    raw = backend.solve(n)
    assert backend.screen_fallbacks == before
    v = backend._vectors(n)
    a_eq = backend._a_eq
    y_eq = raw.y[backend._eq_rows]
    z = np.zeros(raw.x.size)
    z[backend._box_cols] = raw.y[backend._box_rows]
    stationarity = backend._p.diagonal() * raw.x + v["c"] + a_eq.T @ y_eq + z
    assert np.abs(stationarity).max() < 1e-6
    # Complementarity, to the interior point's own precision: a multiplier is paid only on a
    # bound the variable (nearly) sits on.
    lower_gap = np.where(np.isfinite(v["x_l"]), raw.x - v["x_l"], np.inf)
    upper_gap = np.where(np.isfinite(v["x_u"]), v["x_u"] - raw.x, np.inf)
    assert np.all(np.minimum(lower_gap, upper_gap) >= -1e-6)
    pushed_down, pushed_up = np.maximum(-z, 0.0), np.maximum(z, 0.0)
    far = 1e12  # an infinite bound: any multiplier on it fails the check
    assert np.all(pushed_down * np.minimum(lower_gap, far) < 1e-7)
    assert np.all(pushed_up * np.minimum(upper_gap, far) < 1e-7)
    assert np.abs(a_eq @ raw.x - v["b"]).max() < 1e-6


@pytest.mark.parametrize(
    "change",
    [
        # Battery far above its 10 kWh capacity: bat_high must carry the excursion at first.
        lambda i: dataclasses.replace(i, battery=BatteryInputs(energy_kwh=25.0)),
        # Base load above the 17 kW fuse in one interval: "over" must take the excess.
        lambda i: dataclasses.replace(i, base_kw=np.where(np.arange(T_N) == 5, 25.0, i.base_kw)),
        # No ladder on offer at all: what storage cannot cover is unmatched energy.
        lambda i: dataclasses.replace(
            i,
            grid=dataclasses.replace(
                i.grid, buy_max_kw=0 * i.grid.buy_max_kw, sell_max_kw=0 * i.grid.sell_max_kw
            ),
        ),
    ],
    ids=["battery-above-capacity", "load-above-fuse", "no-ladder"],
)
def test_a_plan_that_needs_a_penalty_slack_falls_back_to_the_whole_problem(change: object) -> None:
    backend = SCREENED._piqp
    assert backend is not None
    ordinary = synthetic.inputs(T_N, DT_H, 7, 7)
    inputs = change(ordinary)  # type: ignore[operator]
    SCREENED.plan(ordinary)  # an ordinary plan first: the smaller problem is trusted
    before = _fallbacks()
    _same_plan(inputs)
    assert _fallbacks() == before + 1
    # While the condition lasts the whole problem is solved straight away: a smaller problem that
    # needs a slack is infeasible, and once cost PIQP its whole iteration budget on every re-plan
    # (115-153 ms instead of 18 at 24 h @ 5 min).
    _same_plan(inputs)
    assert _fallbacks() == before + 1
    # An ordinary plan, solved whole, leaves the slacks idle and so trusts the smaller one again.
    SCREENED.plan(ordinary)
    screen = backend._screen(())
    assert screen is not None
    assert screen.trusted
    SCREENED.plan(ordinary)
    assert _fallbacks() == before + 1
