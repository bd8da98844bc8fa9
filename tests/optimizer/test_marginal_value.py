"""The dual of the trade balance is the value of a kWh: equal to the price of an unconstrained step."""

from __future__ import annotations

import numpy as np
import pytest

from agent.optimizer import Planner, synthetic

T_N, DT_H = 48, 0.5


@pytest.mark.parametrize("backend", ["piqp", "reference"])
def test_marginal_value_equals_the_price_of_an_interior_step(backend: str) -> None:
    planner = Planner(synthetic.devices(), T_N, DT_H)
    inputs = synthetic.inputs(T_N, DT_H, 5, 7)
    plan = planner.plan(inputs) if backend == "piqp" else planner.reference_plan(inputs)
    g = inputs.grid
    checked = 0
    for k, (side, prices, caps) in enumerate(
        [("buy", g.buy_price_per_kwh, g.buy_max_kw), ("sell", g.sell_price_per_kwh, g.sell_max_kw)] * 1
    ):
        for step in range(prices.shape[1]):
            q = plan.series[f"{side}_{step}_kw"]
            interior = (q > 1e-3) & (q < caps[:, step] - 1e-3)
            np.testing.assert_allclose(
                plan.marginal_value_per_kwh[interior], prices[interior, step], atol=1e-4
            )
            checked += int(interior.sum())
        assert k in (0, 1)
    assert checked >= 5  # the scenario must exercise the claim, not pass vacuously


def test_marginal_value_lies_between_the_binding_steps() -> None:
    # Where a step is full, the value of energy is at least its price (you'd want more of it).
    planner = Planner(synthetic.devices(), T_N, DT_H)
    inputs = synthetic.inputs(T_N, DT_H, 0, 9)
    plan = planner.plan(inputs)
    g = inputs.grid
    full = plan.series["buy_0_kw"] > g.buy_max_kw[:, 0] - 1e-4
    assert np.all(plan.marginal_value_per_kwh[full] >= g.buy_price_per_kwh[full, 0] - 1e-4)
