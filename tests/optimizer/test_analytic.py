"""Cases small enough to solve by hand: the planner must find exactly that optimum."""

from __future__ import annotations

import numpy as np
import pytest

from agent.optimizer import (
    BatteryInputs,
    BatteryParams,
    Devices,
    EvInputs,
    EvParams,
    EvSession,
    HeatPumpInputs,
    HeatPumpParams,
    PlanInputs,
    Planner,
    penalties,
)
from tests.optimizer.helpers import spot_grid, spot_params, zeros

BACKENDS = ["piqp", "reference"]


def _solve(planner: Planner, inputs: PlanInputs, backend: str):  # type: ignore[no-untyped-def]
    return planner.plan(inputs) if backend == "piqp" else planner.reference_plan(inputs)


def _battery(eta: float = 0.9) -> Devices:
    return Devices(
        grid=spot_params(),
        battery=BatteryParams(
            capacity_kwh=10.0, charge_max_kw=5.0, discharge_max_kw=5.0, charge_efficiency=eta,
            discharge_efficiency=eta,
        ),
        pv=False,
    )  # fmt: skip


@pytest.mark.parametrize("backend", BACKENDS)
def test_two_price_arbitrage_with_losses(backend: str) -> None:
    # Charge 5 kW for an hour at 0.1 (4.5 kWh stored), sell all back at 0.5: 4.5 * 0.9 = 4.05 kW.
    planner = Planner(_battery(), horizon=2, dt_h=1.0)
    inputs = PlanInputs(
        grid=spot_grid([0.1, 0.5]), base_kw=zeros(2), pv_kw=zeros(2), battery=BatteryInputs(0.0)
    )
    plan = _solve(planner, inputs, backend)
    assert plan.series["battery_kw"] == pytest.approx([5.0, -4.05], abs=1e-5)
    assert plan.series["grid_kw"] == pytest.approx([5.0, -4.05], abs=1e-5)
    assert plan.total_cost == pytest.approx(5.0 * 0.1 - 4.05 * 0.5, abs=1e-6)
    # Both intervals trade on an unlimited step, so a kWh is worth exactly its price there.
    assert plan.marginal_value_per_kwh == pytest.approx([0.1, 0.5], abs=1e-5)


@pytest.mark.parametrize("backend", BACKENDS)
def test_losses_eat_a_small_spread(backend: str) -> None:
    # 0.5 * 0.81 = 0.405 < 0.45: cycling the battery would lose money, so it stays idle.
    planner = Planner(_battery(), horizon=2, dt_h=1.0)
    inputs = PlanInputs(
        grid=spot_grid([0.45, 0.5]), base_kw=zeros(2), pv_kw=zeros(2), battery=BatteryInputs(0.0)
    )
    plan = _solve(planner, inputs, backend)
    assert np.abs(plan.series["battery_charge_kw"]).max() < 1e-5
    assert plan.total_cost == pytest.approx(0.0, abs=1e-6)


def _ev(arrival: int, arrival_kwh: float, target_kwh: float) -> tuple[Planner, PlanInputs]:
    devices = Devices(
        grid=spot_params(),
        ev=EvParams(capacity_kwh=60.0, charge_max_kw=11.0, charge_efficiency=1.0),
        pv=False,
    )
    inputs = PlanInputs(
        grid=spot_grid([0.4, 0.1, 0.3, 0.2]),
        base_kw=zeros(4),
        pv_kw=zeros(4),
        ev=EvInputs((EvSession(arrival, 4, arrival_kwh, target_kwh),)),
    )
    return Planner(devices, horizon=4, dt_h=1.0), inputs


@pytest.mark.parametrize("backend", BACKENDS)
def test_ev_that_must_charge_takes_the_cheapest_hours(backend: str) -> None:
    planner, inputs = _ev(0, 10.0, 30.0)
    plan = _solve(planner, inputs, backend)
    # 20 kWh needed: 11 in the 0.1 hour, the remaining 9 in the 0.2 hour.
    assert plan.series["ev_kw"] == pytest.approx([0.0, 11.0, 0.0, 9.0], abs=1e-5)
    assert plan.series["ev_kwh"][-1] == pytest.approx(30.0, abs=1e-5)
    assert plan.total_cost == pytest.approx(11 * 0.1 + 9 * 0.2, abs=1e-6)


@pytest.mark.parametrize("backend", BACKENDS)
def test_ev_arriving_too_late_charges_flat_out_and_pays_the_shortfall(backend: str) -> None:
    planner, inputs = _ev(3, 10.0, 30.0)
    plan = _solve(planner, inputs, backend)
    assert plan.series["ev_kw"] == pytest.approx([0.0, 0.0, 0.0, 11.0], abs=1e-5)
    assert plan.cost["ev_penalty"] == pytest.approx(9.0 * penalties.EV_SHORTFALL_PER_KWH, abs=1e-4)


@pytest.mark.parametrize("backend", BACKENDS)
def test_comfort_band_under_flat_prices_holds_the_lower_edge(backend: str) -> None:
    # No comfort weight: under a flat price the cheapest comfortable path drifts down to 20 °C and
    # then holds it, which at 0 °C outside takes 20 K / R / COP = 20 / 10 / 4 = 0.5 kW.
    t_n = 48
    hp = HeatPumpParams(max_kw=3.0, r_k_per_kw=10.0, c_kwh_per_k=10.0, cop_ref=4.0)
    planner = Planner(Devices(grid=spot_params(), heat_pump=hp, pv=False), horizon=t_n, dt_h=1.0)
    inputs = PlanInputs(
        grid=spot_grid([0.3] * t_n),
        base_kw=zeros(t_n),
        pv_kw=zeros(t_n),
        heat_pump=HeatPumpInputs(
            indoor_c=21.0, outdoor_c=zeros(t_n), band_lo_c=np.full(t_n, 20.0), band_hi_c=np.full(t_n, 22.0),
            target_c=np.full(t_n, 21.0), gain_kw=zeros(t_n),
        ),
    )  # fmt: skip
    plan = _solve(planner, inputs, backend)
    t_in = plan.series["indoor_c"]
    assert t_in.min() >= 20.0 - 1e-5
    assert t_in[-10:] == pytest.approx(20.0, abs=1e-4)
    assert plan.series["heat_pump_kw"][-10:] == pytest.approx(0.5, abs=1e-4)
    assert plan.cost["comfort_penalty"] == pytest.approx(0.0, abs=1e-6)


@pytest.mark.parametrize("backend", BACKENDS)
def test_pv_is_curtailed_at_a_negative_export_price_only_when_the_inverter_allows_it(backend: str) -> None:
    # 4 kW of PV, no load, exporting costs 0.05/kWh. A curtailable inverter is turned down to 0
    # export; one the config says cannot be curtailed keeps exporting and the plan pays for it
    # (guards against planning a curtailment dispatch will never carry out).
    inputs = PlanInputs(grid=spot_grid([0.3], [-0.05]), base_kw=zeros(1), pv_kw=np.array([4.0]))
    for curtailable, curtail_kw, cost in ((True, 4.0, 0.0), (False, 0.0, 4.0 * 0.05)):
        devices = Devices(grid=spot_params(), pv=True, pv_curtailable=curtailable)
        plan = _solve(Planner(devices, horizon=1, dt_h=1.0), inputs, backend)
        assert plan.series["pv_curtail_kw"] == pytest.approx([curtail_kw], abs=1e-4)
        assert plan.total_cost == pytest.approx(cost, abs=1e-4)


@pytest.mark.parametrize("backend", BACKENDS)
def test_uncurtailable_pv_above_the_export_limit_is_still_a_plan(backend: str) -> None:
    # Nowhere for 8 kW to go with a 5 kW export limit: the plan exists and shows the forbidden
    # curtailment at its penalty rather than failing.
    devices = Devices(grid=spot_params(export_limit_kw=5.0), pv=True, pv_curtailable=False)
    inputs = PlanInputs(grid=spot_grid([0.3], [0.1]), base_kw=zeros(1), pv_kw=np.array([8.0]))
    plan = _solve(Planner(devices, horizon=1, dt_h=1.0), inputs, backend)
    assert plan.series["pv_curtail_kw"] == pytest.approx([3.0], abs=1e-4)
    assert plan.cost["pv_forbidden_curtailment"] == pytest.approx(
        3.0 * penalties.FORBIDDEN_CURTAILMENT_PER_KWH, rel=1e-4
    )
