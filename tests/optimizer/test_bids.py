"""Bid curves: accepting any tender the agent would post from them never raises the plan's cost."""

from __future__ import annotations

import dataclasses

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from agent.optimizer import Plan, PlanInputs, Planner, synthetic

T_N, DT_H = 24, 1.0
PLANNER = Planner(synthetic.devices(), T_N, DT_H)


def _accept(inputs: PlanInputs, t: int, quantity_kw: float) -> PlanInputs:
    position = inputs.grid.position_kw.copy()
    position[t] += quantity_kw
    return dataclasses.replace(inputs, grid=dataclasses.replace(inputs.grid, position_kw=position))


def _curves(seed: int) -> tuple[PlanInputs, Plan]:
    inputs = synthetic.inputs(T_N, DT_H, seed % 24, seed)
    return inputs, PLANNER.plan(inputs, elapsed_intervals=None, bid_intervals=3)


@settings(max_examples=6, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.integers(0, 1000), fraction=st.sampled_from([1.0, 0.5, 0.1]))
def test_accepting_a_posted_tender_never_raises_the_cost(seed: int, fraction: float) -> None:
    inputs, plan = _curves(seed)
    assert len(plan.bids) == 3
    tried = 0
    for curve in plan.bids:
        for point in curve.points:
            if abs(point.quantity_kw) < 1e-3:
                continue
            q = point.quantity_kw * fraction
            after = PLANNER.plan(_accept(inputs, curve.interval, q), elapsed_intervals=None)
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
