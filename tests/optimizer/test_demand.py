"""The demand charge in the plan: the month's running peak, worked out by hand on small homes.

Every home here buys and sells at one price with a small import adder, so importing and exporting
at once costs money and the meter's import is exactly what the loads need.
"""

from __future__ import annotations

from collections.abc import Sequence
from itertools import pairwise

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from agent.optimizer import (
    DemandInputs,
    Devices,
    EvInputs,
    EvParams,
    EvSession,
    InputError,
    PlanInputs,
    Planner,
)
from agent.optimizer.piqp_backend import PiqpBackend, PiqpSettings
from agent.optimizer.reference import ReferenceBackend
from agent.optimizer.structure import Vec
from tests.optimizer.helpers import spot_grid, spot_params, zeros

BACKENDS = ["piqp", "reference"]
ADDER = 0.01  # per kWh imported: no import and export in the same hour


def _demand(
    per_kw: float,
    n: int,
    *,
    counts: Sequence[float] | None = None,
    month_starts: Sequence[float] | None = None,
    so_far_kw: float = 0.0,
) -> DemandInputs:
    return DemandInputs(
        per_kw=per_kw,
        counts=np.ones(n) if counts is None else np.asarray(counts, dtype=float),
        month_starts=np.zeros(n) if month_starts is None else np.asarray(month_starts, dtype=float),
        peak_so_far_kw=so_far_kw,
    )


def _fixed_loads(base_kw: Sequence[float], demand: DemandInputs) -> tuple[Planner, PlanInputs]:
    """A home with nothing to shift: its import is its base load."""
    n = len(base_kw)
    devices = Devices(grid=spot_params(), pv=False, demand_charge=True)
    inputs = PlanInputs(
        grid=spot_grid([0.2] * n, adder=ADDER),
        base_kw=np.asarray(base_kw, dtype=float),
        pv_kw=zeros(n),
        demand=demand,
    )
    return Planner(devices, horizon=n, dt_h=1.0), inputs


def _car(
    prices: Sequence[float], demand: DemandInputs | None, need_kwh: float = 8.0
) -> tuple[Planner, PlanInputs]:
    """A car plugged in for the whole horizon that needs ``need_kwh`` by its end (no losses)."""
    n = len(prices)
    devices = Devices(
        grid=spot_params(),
        ev=EvParams(capacity_kwh=60.0, charge_max_kw=11.0, charge_efficiency=1.0),
        pv=False,
        demand_charge=demand is not None,
    )
    inputs = PlanInputs(
        grid=spot_grid(prices, adder=ADDER),
        base_kw=zeros(n),
        pv_kw=zeros(n),
        ev=EvInputs((EvSession(0, n, 0.0, need_kwh),)),
        demand=demand,
    )
    return Planner(devices, horizon=n, dt_h=1.0), inputs


def _variables(planner: Planner, inputs: PlanInputs, backend: str) -> dict[str, Vec]:
    """The solved QP's own variables (the plan shows the running peak worked out from the import)."""
    n = planner.model.numbers(inputs)
    raw = (
        PiqpBackend(planner.model.structure, PiqpSettings()).solve(n)
        if backend == "piqp"
        else ReferenceBackend(planner.model.structure).solve(n)
    )
    return planner.model.blocks(raw.x)


def _plan(planner: Planner, inputs: PlanInputs, backend: str):  # type: ignore[no-untyped-def]
    return planner.plan(inputs) if backend == "piqp" else planner.reference_plan(inputs)


@pytest.mark.parametrize("backend", BACKENDS)
def test_the_peak_is_the_largest_counted_import(backend: str) -> None:
    # Loads 1, 4, 2, 3 kW; the 4 kW hour lies outside the charge's periods: the peak is 3 kW.
    planner, inputs = _fixed_loads([1.0, 4.0, 2.0, 3.0], _demand(5.0, 4, counts=[1, 0, 1, 1]))
    x = _variables(planner, inputs, backend)
    assert x["pk"][-1] == pytest.approx(3.0, abs=1e-6)
    assert x["pk_rise"].sum() == pytest.approx(3.0, abs=1e-6)
    plan = _plan(planner, inputs, backend)
    assert plan.series["demand_peak_kw"] == pytest.approx([1.0, 1.0, 2.0, 3.0], abs=1e-6)
    assert plan.cost["demand"] == pytest.approx(5.0 * 3.0, abs=1e-5)


@pytest.mark.parametrize("backend", BACKENDS)
def test_a_charge_high_enough_flattens_the_peak(backend: str) -> None:
    # 8 kWh for the car in four hours, the first at 0.10 and the others at 0.30. Charging x kW in
    # the first hour and the rest evenly later costs 0.1x + 0.3(8 - x) + per_kw * max(x, (8-x)/3):
    # above x = 2 each kW moved into the first hour saves 0.20 and raises the peak by one kW.
    prices = [0.10, 0.30, 0.30, 0.30]
    planner, inputs = _car(prices, _demand(0.1, 4))
    low = _plan(planner, inputs, backend)
    assert low.series["import_kw"] == pytest.approx([8.0, 0.0, 0.0, 0.0], abs=1e-5)
    assert low.cost["demand"] == pytest.approx(0.1 * 8.0, abs=1e-5)
    planner, inputs = _car(prices, _demand(1.0, 4))
    high = _plan(planner, inputs, backend)
    assert high.series["import_kw"] == pytest.approx([2.0, 2.0, 2.0, 2.0], abs=1e-5)
    assert high.series["demand_peak_kw"] == pytest.approx([2.0] * 4, abs=1e-5)
    assert high.cost["demand"] == pytest.approx(2.0, abs=1e-5)
    assert high.cost["energy"] == pytest.approx(2.0 * 0.1 + 6.0 * 0.3, abs=1e-5)


@pytest.mark.parametrize("backend", BACKENDS)
def test_without_the_charge_the_car_charges_all_at_once(backend: str) -> None:
    planner, inputs = _car([0.10, 0.30, 0.30, 0.30], None)
    plan = _plan(planner, inputs, backend)
    assert plan.series["import_kw"] == pytest.approx([8.0, 0.0, 0.0, 0.0], abs=1e-5)
    assert "demand" not in plan.cost
    assert "demand_peak_kw" not in plan.series


@pytest.mark.parametrize("backend", BACKENDS)
def test_a_new_month_starts_its_own_peak(backend: str) -> None:
    # Loads 5, 1 | 2, 1 kW with a new month at the third hour: June's peak is 5, July's 2,
    # and both are charged in full (10 * (5 + 2)); a peak carried over would charge 10 * 5.
    demand = _demand(10.0, 4, month_starts=[0, 0, 1, 0])
    planner, inputs = _fixed_loads([5.0, 1.0, 2.0, 1.0], demand)
    x = _variables(planner, inputs, backend)
    assert x["pk"][1] == pytest.approx(5.0, abs=1e-6)
    assert x["pk"][3] == pytest.approx(2.0, abs=1e-6)
    assert x["pk_rise"].sum() == pytest.approx(7.0, abs=1e-6)
    plan = _plan(planner, inputs, backend)
    assert plan.series["demand_peak_kw"] == pytest.approx([5.0, 5.0, 2.0, 2.0], abs=1e-6)
    assert plan.cost["demand"] == pytest.approx(70.0, abs=1e-4)


@pytest.mark.parametrize("backend", BACKENDS)
def test_the_peak_so_far_lowers_the_marginal_charge(backend: str) -> None:
    # As above, but the month already peaked at 3 kW: up to 3 kW costs no demand charge, so the
    # car takes 3 kW in the cheap hour (2 kW from a month without a peak yet) and the rest later
    # at no more than 3 kW; the plan adds no demand charge.
    prices = [0.10, 0.30, 0.30, 0.30]
    planner, inputs = _car(prices, _demand(1.0, 4, so_far_kw=3.0))
    plan = _plan(planner, inputs, backend)
    imp = plan.series["import_kw"]
    assert imp[0] == pytest.approx(3.0, abs=1e-5)
    assert imp[1:].sum() == pytest.approx(5.0, abs=1e-5)
    assert imp.max() <= 3.0 + 1e-5
    assert plan.series["demand_peak_kw"] == pytest.approx([3.0] * 4, abs=1e-5)
    assert plan.cost["demand"] == pytest.approx(0.0, abs=1e-5)
    x = _variables(planner, inputs, backend)
    assert x["pk"][-1] == pytest.approx(3.0, abs=1e-5)


@pytest.mark.parametrize("backend", BACKENDS)
def test_a_peak_above_the_limit_is_counted(backend: str) -> None:
    # A 20 kW load through a 17 kW fuse meters 20 kW of import: the peak counts all of it.
    devices = Devices(grid=spot_params(import_limit_kw=17.0), pv=False, demand_charge=True)
    inputs = PlanInputs(
        grid=spot_grid([0.2, 0.2], adder=ADDER),
        base_kw=np.array([20.0, 1.0]),
        pv_kw=zeros(2),
        demand=_demand(2.0, 2),
    )
    plan = _plan(Planner(devices, horizon=2, dt_h=1.0), inputs, backend)
    assert plan.series["demand_peak_kw"] == pytest.approx([20.0, 20.0], abs=1e-5)
    assert plan.cost["demand"] == pytest.approx(40.0, abs=1e-4)


def test_the_planned_peak_is_the_net_import() -> None:
    # Buying and selling at one price with no adder: importing and exporting in the same hour is
    # free, and the solver may plan such a pair below the peak it must pay anyway (5 kW in the
    # third hour). The planned peak is what the meter nets: 1, 2, then 5 kW.
    devices = Devices(grid=spot_params(), pv=False, demand_charge=True)
    inputs = PlanInputs(
        grid=spot_grid([0.2, 0.2, 0.2]),
        base_kw=np.array([1.0, 2.0, 5.0]),
        pv_kw=zeros(3),
        demand=_demand(1.0, 3),
    )
    plan = Planner(devices, horizon=3, dt_h=1.0).plan(inputs)
    assert plan.series["demand_peak_kw"] == pytest.approx([1.0, 2.0, 5.0], abs=1e-6)
    assert plan.cost["demand"] == pytest.approx(5.0, abs=1e-5)


# --- any fixed loads: the peak of each month is its largest counted load ---------------------

_PLANNERS: dict[int, Planner] = {}


def _oracle(
    base: list[float], counts: list[int], starts: list[int], so_far: float
) -> tuple[list[float], float]:
    """(each month's peak at its last hour, their sum less the peak so far) by slicing months."""
    bounds = [0] + [t for t in range(1, len(base)) if starts[t]] + [len(base)]
    peaks = []
    for i, (a, b) in enumerate(pairwise(bounds)):
        counted = [base[t] for t in range(a, b) if counts[t]]
        peaks.append(max([*counted, so_far if i == 0 else 0.0]))
    return peaks, sum(peaks) - so_far


@settings(max_examples=40, deadline=None)
@given(
    data=st.lists(st.tuples(st.integers(0, 40), st.booleans(), st.booleans()), min_size=1, max_size=8),
    so_far_q=st.integers(0, 40),
    per_kw=st.sampled_from([0.5, 3.0, 12.0]),
)
def test_each_month_is_charged_its_largest_counted_load(
    data: list[tuple[int, bool, bool]], so_far_q: int, per_kw: float
) -> None:
    base = [q / 4 for q, _, _ in data]  # quarter kW steps up to 10 kW
    counts = [int(c) for _, c, _ in data]
    starts = [0] + [int(s) for _, _, s in data[1:]]
    so_far = so_far_q / 4
    n = len(base)
    planner = _PLANNERS.setdefault(
        n, Planner(Devices(grid=spot_params(), pv=False, demand_charge=True), n, 1.0)
    )
    inputs = PlanInputs(
        grid=spot_grid([0.2] * n, adder=ADDER),
        base_kw=np.asarray(base),
        pv_kw=zeros(n),
        demand=_demand(per_kw, n, counts=counts, month_starts=starts, so_far_kw=so_far),
    )
    peaks, rise = _oracle(base, counts, starts, so_far)
    x = _variables(planner, inputs, "piqp")
    ends = [t - 1 for t in range(1, n) if starts[t]] + [n - 1]
    assert x["pk"][ends] == pytest.approx(peaks, abs=1e-5)
    plan = planner.plan(inputs)
    assert plan.series["demand_peak_kw"][ends] == pytest.approx(peaks, abs=1e-5)
    assert plan.cost["demand"] == pytest.approx(per_kw * rise, abs=1e-4)


# --- inputs that do not fit are refused, naming the field ------------------------------------


def test_the_first_interval_cannot_start_a_month() -> None:
    with pytest.raises(InputError) as e:
        _demand(1.0, 3, month_starts=[1, 0, 0])
    assert e.value.field == "demand.month_starts"


def test_counts_are_zero_or_one() -> None:
    with pytest.raises(InputError) as e:
        _demand(1.0, 2, counts=[1.0, 0.5])
    assert e.value.field == "demand.counts"


def test_a_negative_charge_is_refused() -> None:
    with pytest.raises(InputError) as e:
        _demand(-1.0, 2)
    assert e.value.field == "demand.per_kw"


def test_a_model_without_a_demand_charge_refuses_its_inputs() -> None:
    planner, inputs = _car([0.1, 0.3], None, need_kwh=1.0)
    with_demand = PlanInputs(
        grid=inputs.grid, base_kw=inputs.base_kw, pv_kw=inputs.pv_kw, ev=inputs.ev, demand=_demand(1.0, 2)
    )
    with pytest.raises(InputError) as e:
        planner.plan(with_demand)
    assert e.value.field == "inputs.demand"


def test_a_model_with_a_demand_charge_needs_its_inputs() -> None:
    planner, inputs = _car([0.1, 0.3], _demand(1.0, 2), need_kwh=1.0)
    without = PlanInputs(grid=inputs.grid, base_kw=inputs.base_kw, pv_kw=inputs.pv_kw, ev=inputs.ev)
    with pytest.raises(InputError) as e:
        planner.plan(without)
    assert e.value.field == "demand"


def test_the_inputs_must_cover_the_horizon() -> None:
    planner, inputs = _car([0.1, 0.3], _demand(1.0, 3), need_kwh=1.0)
    with pytest.raises(InputError) as e:
        planner.plan(inputs)
    assert e.value.field == "demand.counts"
