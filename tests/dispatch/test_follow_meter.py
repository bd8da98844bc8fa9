"""follow_meter: the battery makes up unplanned import and unplanned export, nothing else."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from agent.dispatch import BatteryTarget, DispatchTarget
from agent.dispatch.battery import follow_meter
from agent.dispatch.snapshot import Sample, Snapshot
from tests.dispatch.conftest import dispatcher, snapshot

W = st.floats(min_value=-20_000.0, max_value=20_000.0, allow_nan=False)


@given(plan_w=W, plan_grid_w=W, rest_w=W)
def test_the_meter_ends_between_zero_and_the_planned_flow_or_the_plan_stands(
    plan_w: float, plan_grid_w: float, rest_w: float
) -> None:
    out_w = follow_meter(plan_w, plan_grid_w, rest_w)
    meter_w = rest_w + out_w
    tol = 1e-6 * (1.0 + abs(plan_w) + abs(plan_grid_w) + abs(rest_w))
    lo, hi = min(plan_grid_w, 0.0), max(plan_grid_w, 0.0)
    assert lo - tol <= meter_w <= hi + tol
    if lo <= rest_w + plan_w <= hi:
        assert out_w == plan_w  # only unplanned import or export moves the battery off its plan
    else:
        # it moved no further than needed: the meter sits on the nearer edge
        assert min(abs(meter_w - lo), abs(meter_w - hi)) <= tol


@given(plan_w=W, plan_grid_w=W, rest_w=W)
def test_a_planned_export_the_sun_did_not_provide_costs_no_charge(
    plan_w: float, plan_grid_w: float, rest_w: float
) -> None:
    meter_w = rest_w + plan_w
    if plan_grid_w < meter_w <= 0.0:  # less export than planned, still no import
        assert follow_meter(plan_w, plan_grid_w, rest_w) == plan_w


async def test_an_old_meter_reading_is_not_followed() -> None:
    """Two readings minutes apart do not make the rest of the home: the plan's power stands."""
    d, _ = dispatcher()  # a 10 s cycle: readings up to 20 s old are followed
    target = DispatchTarget({"battery": BatteryTarget(-3.0, grid_kw=4.3)})
    fresh = snapshot({"battery": {"battery.power_w": -3000.0}, "grid": {"meter.power_w": -2500.0}})
    got = (await d.dispatch(target, fresh)).devices["battery"]
    assert got.command is not None and got.command.value == pytest.approx(-500.0, abs=0.2)
    assert "meter" in got.limited_by
    samples = dict(fresh.samples)
    samples["grid"] = {"meter.power_w": Sample(-2500.0, "W", 25.0)}
    d, _ = dispatcher()
    got = (await d.dispatch(target, Snapshot(fresh.taken_at, fresh.mono_s, samples, fresh.problems))).devices[
        "battery"
    ]
    assert got.command is not None and got.command.value == pytest.approx(-3000.0, abs=0.2)
    assert "meter" not in got.limited_by
