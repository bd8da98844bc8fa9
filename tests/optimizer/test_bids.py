"""Bid curves: accepting any tender the agent would post from them never raises the plan's cost."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from agent.optimizer import Plan, PlanInputs, Planner, synthetic
from agent.optimizer.piqp_backend import PRECISE_EPS_ABS, PRECISE_EPS_REL, PiqpSettings

T_N, DT_H = 24, 1.0
PLANNER = Planner(synthetic.devices(), T_N, DT_H)
# The cost comparison below is between two plans, each only as exact as its solve. At a
# tolerance of 1e-6 a plan's cost can sit up to ~2e-5 (relative) above the optimum, more than the
# 1e-6 the property is checked to (seed=126, fraction=1.0 once failed by that solver noise, not by a
# wrong bid); solved at the probes' 1e-8 the worst of 400 seeds is 1.3e-8.
PRECISE_SETTINGS = PiqpSettings(eps_abs=PRECISE_EPS_ABS, eps_rel=PRECISE_EPS_REL)
PRECISE = Planner(synthetic.devices(), T_N, DT_H, piqp_settings=PRECISE_SETTINGS)


def _accept(inputs: PlanInputs, t: int, quantity_kw: float) -> PlanInputs:
    position = inputs.grid.position_kw.copy()
    position[t] += quantity_kw
    return dataclasses.replace(inputs, grid=dataclasses.replace(inputs.grid, position_kw=position))


def _curves(seed: int, planner: Planner = PLANNER) -> tuple[PlanInputs, Plan]:
    inputs = synthetic.inputs(T_N, DT_H, seed % 24, seed)
    return inputs, planner.plan(inputs, elapsed_intervals=None, bid_intervals=3)


@settings(max_examples=6, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.integers(0, 1000), fraction=st.sampled_from([1.0, 0.5, 0.1]))
@example(seed=126, fraction=1.0)  # failed by 8.7e-6 over the 7e-6 tolerance with plans at 1e-6
@example(seed=268, fraction=1.0)  # the worst of 400 seeds at 1e-6: 2.1e-5 relative
def test_accepting_a_posted_tender_never_raises_the_cost(seed: int, fraction: float) -> None:
    inputs, plan = _curves(seed, PRECISE)
    assert len(plan.bids) == 3
    tried = 0
    for curve in plan.bids:
        for point in curve.points:
            if abs(point.quantity_kw) < 1e-3:
                continue
            q = point.quantity_kw * fraction
            after = PRECISE.plan(_accept(inputs, curve.interval, q), elapsed_intervals=None)
            paid = q * point.price_per_kwh * DT_H  # + we pay for a purchase, - we are paid for a sale
            assert after.total_cost + paid <= plan.total_cost + 1e-6 * (1 + abs(plan.total_cost))
            tried += 1
    assert tried > 0


def test_bid_curves_fall_with_price() -> None:
    _, plan = _curves(3)
    for curve in plan.bids:
        prices = [p.price_per_kwh for p in curve.points]
        qty = np.array([p.quantity_kw for p in curve.points])
        assert prices == sorted(prices)
        assert np.all(np.diff(qty) <= 1e-3), qty
        assert qty[0] >= 0 >= qty[-1]  # below the marginal value it buys, above it sells


def test_skipped_probes_agree_with_probing_every_price() -> None:
    # Guards the bisection in Planner._curve: a price it fills in without a solve must get the
    # quantity a solve at that price gives.
    fine = (-0.2, -0.1, -0.05, -0.03, -0.02, -0.01, 0.01, 0.02, 0.03, 0.05, 0.1, 0.2)
    skipped = 0
    for seed in (3, 11):
        inputs = synthetic.inputs(T_N, DT_H, seed, seed)
        before = PLANNER.probe_solves
        plan = PLANNER.plan(inputs, elapsed_intervals=None, bid_intervals=2, bid_offsets_per_kwh=fine)
        solves = PLANNER.probe_solves - before
        n = PLANNER.model.numbers(inputs)
        base = PLANNER._solve(n, None)
        for curve in plan.bids:
            assert len(curve.points) == len(fine)
            for point in curve.points:
                exact = PLANNER._probe(n, base, curve.interval, point.price_per_kwh)
                assert exact is not None
                assert point.quantity_kw == pytest.approx(exact, abs=1.5e-4)  # one 0.1 W truncation step
        skipped += 2 * len(fine) - solves
    assert skipped > 0  # the shortcut is taken on this data, so the comparison above tests it


WHOLE = Planner(synthetic.devices(), T_N, DT_H, piqp_settings=PiqpSettings(screen=False))
SCREENED_PROBES = Planner(
    synthetic.devices(), T_N, DT_H, piqp_settings=PiqpSettings(screen=True, screen_probes=True)
)


@settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.integers(0, 10_000))
def test_every_curve_point_matches_a_probe_of_the_whole_problem(seed: int) -> None:
    # The curve's probes solve the problem without the penalty slacks (screened.py); each point
    # must be what the whole problem, solved at the same price, would trade. Tolerance: 5 W. The
    # probe's objective is nearly flat in the quantity (only the battery's 0.002/kW²h wear curves
    # it), so two solves that agree on the cost to 1e-9 can differ by ~1 W in the last digits (worst
    # seen 1.4 W over 60 seeds); a price step is never that narrow.
    inputs, plan = _curves(seed, SCREENED_PROBES)
    n = WHOLE.model.numbers(inputs)
    base = WHOLE._solve(n, None)
    compared = 0
    for curve in plan.bids:
        for point in curve.points:
            whole = WHOLE._probe(n, base, curve.interval, point.price_per_kwh)
            assert whole is not None
            assert point.quantity_kw == pytest.approx(whole, abs=5e-3)
            compared += 1
    assert compared == 3 * 6
