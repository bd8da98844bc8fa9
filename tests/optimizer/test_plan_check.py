"""The plan check catches a plan that breaks a limit, the dynamics or the balance."""

from __future__ import annotations

import asyncio
import dataclasses

import numpy as np
import pytest

from agent.optimizer import InputError, PlanCheckError, Planner, synthetic
from agent.optimizer.model import Devices

T_N, DT_H = 24, 1.0


@pytest.fixture(scope="module")
def solved() -> tuple[Planner, object, object]:
    planner = Planner(synthetic.devices(), T_N, DT_H)
    inputs = synthetic.inputs(T_N, DT_H, 0, 4)
    return planner, inputs, planner.plan(inputs)


@pytest.mark.parametrize(
    ("key", "delta"),
    [
        ("battery_charge_kw", 0.5),  # energy no longer follows the charge
        ("battery_kwh", 0.1),
        ("heat_pump_kw", 10.0),  # above the rating
        ("grid_kw", 0.01),  # balance broken
        ("indoor_c", 0.5),
        ("tank_c", 0.5),
        ("pv_curtail_kw", -1.0),
        ("ev_charge_kw", 50.0),
    ],
)
def test_tampered_plan_is_rejected(solved, key: str, delta: float) -> None:  # type: ignore[no-untyped-def]
    planner, inputs, plan = solved
    planner.check(plan, inputs)  # the untouched plan passes
    series = dict(plan.series)
    tampered = series[key].copy()
    tampered[3] += delta
    series[key] = tampered
    bad = dataclasses.replace(plan, series=series)
    with pytest.raises(PlanCheckError):
        planner.check(bad, inputs)


def test_wrong_inputs_name_the_field() -> None:
    planner = Planner(synthetic.devices(), T_N, DT_H)
    good = synthetic.inputs(T_N, DT_H, 0, 0)
    with pytest.raises(InputError) as e:
        planner.plan(dataclasses.replace(good, base_kw=np.zeros(T_N + 1)))
    assert e.value.field == "inputs.base_kw"
    with pytest.raises(InputError) as e:
        dataclasses.replace(good, pv_kw=np.full(T_N, np.nan))
    assert e.value.field == "inputs.pv_kw"
    with pytest.raises(InputError) as e:
        planner.plan(dataclasses.replace(good, battery=None))
    assert e.value.field == "battery"
    battery = synthetic.devices().battery
    assert battery is not None
    with pytest.raises(InputError) as e:
        dataclasses.replace(battery, charge_efficiency=1.5)
    assert e.value.field == "battery.charge_efficiency"
    with pytest.raises(InputError):
        Planner(Devices(grid=synthetic.devices().grid), 0, 1.0)


def test_plan_async_runs_off_the_loop_and_matches() -> None:
    planner = Planner(synthetic.devices(), T_N, DT_H)
    inputs = synthetic.inputs(T_N, DT_H, 0, 5)
    sync = planner.plan(inputs)
    plan = asyncio.run(planner.plan_async(inputs))
    assert plan.total_cost == pytest.approx(sync.total_cost, abs=1e-9)


def test_osqp_backend_warm_starts_across_shifted_replans() -> None:
    # OSQP (ADMM) is the alternative back end: warm-started from the shifted previous solution it
    # must still give checked plans close to the interior-point optimum on a small problem.
    osqp_planner = Planner(synthetic.devices(), T_N, DT_H, backend="osqp")
    exact = Planner(synthetic.devices(), T_N, DT_H)
    for k in range(3):
        inputs = synthetic.inputs(T_N, DT_H, k, k)
        plan = osqp_planner.plan(inputs, elapsed_intervals=1)
        best = exact.plan(inputs).total_cost
        assert plan.solver.backend == "osqp"
        assert abs(plan.total_cost - best) <= 1e-2 * max(1.0, abs(best))
        # Nothing beats the optimum by more than what the 1e-3 row tolerance can buy.
        assert plan.total_cost >= best - 1e-3 * max(1.0, abs(best))
