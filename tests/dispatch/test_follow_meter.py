"""follow_meter: the battery makes up unplanned import and unplanned export, nothing else."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from agent.dispatch import BatteryTarget, DispatchTarget
from agent.dispatch.battery import GRID_ZERO_W, follow_meter, plan_window
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


CAP = st.floats(min_value=0.0, max_value=10_000.0, allow_nan=False)


def _inverter(window: tuple[float, float], rest_w: float) -> float:
    """What an inverter's own loop does within the window: bring the meter toward zero."""
    return max(window[0], min(-rest_w, window[1]))


@given(plan_w=W, plan_grid_w=W, rest_w=W, lo_cap=CAP, hi_cap=CAP)
def test_a_window_serves_the_home_never_the_grid(
    plan_w: float, plan_grid_w: float, rest_w: float, lo_cap: float, hi_cap: float
) -> None:
    window = plan_window(plan_w, plan_grid_w, lo_cap, hi_cap)
    if window is None:
        # only a discharge sold to the grid or a charge bought from it is left to an exact power
        assert plan_w * plan_grid_w > 0 and abs(plan_grid_w) >= GRID_ZERO_W
        return
    lo, hi = window
    assert -lo_cap - 0.1 <= lo <= 0.0 <= hi <= hi_cap + 0.1
    battery_w = _inverter(window, rest_w)
    meter_w = rest_w + battery_w
    # the battery never pushes the meter past zero: no export of its charge, no import for it
    assert min(rest_w, 0.0) - 1e-6 <= meter_w <= max(rest_w, 0.0) + 1e-6
    if plan_w < 0:
        assert battery_w >= min(plan_w, 0.0) - 0.1  # discharges no more than planned
    if plan_w > 0:
        assert battery_w <= plan_w + 0.1  # charges no more than planned


def test_windows_for_the_four_cases() -> None:
    # discharge into the home's loads: at most 2 kW, and any surplus charged
    assert plan_window(-2000.0, 1500.0, 5000.0, 4000.0) == (-2000.0, 4000.0)
    # charge from the sun: at most 3 kW, and any unplanned load served from the battery
    assert plan_window(3000.0, -1000.0, 5000.0, 4000.0) == (-5000.0, 3000.0)
    # trades with the grid go as exact powers
    assert plan_window(-2000.0, -1500.0, 5000.0, 4000.0) is None
    assert plan_window(3000.0, 2000.0, 5000.0, 4000.0) is None
    # a planned flow under GRID_ZERO_W is rounding: the sun's charge is still a window
    assert plan_window(3000.0, 10.0, 5000.0, 4000.0) == (-5000.0, 3000.0)
    # a full battery takes no more: the ceiling is the SoC's, not the inverter's
    assert plan_window(-500.0, 800.0, 5000.0, 0.0) == (-500.0, 0.0)


async def test_an_inverter_with_its_own_loop_gets_the_window_and_trades_get_exact_powers() -> None:
    d, outs = dispatcher(windowed_battery=True)
    # a discharge into the home's loads (the plan imports the rest): a window, not a power
    serve = DispatchTarget({"battery": BatteryTarget(-3.0, grid_kw=4.3)})
    got = (await d.dispatch(serve, snapshot())).devices["battery"]
    assert got.command is not None and got.command.window_w is not None
    lo, hi = got.command.window_w
    assert lo == pytest.approx(-3000.0) and 0.0 < hi <= 5000.0
    assert outs["battery"].writes == [("battery_window_w", (lo, hi))]
    # the same again within the deadband: nothing new is written
    await d.dispatch(serve, snapshot())
    assert len(outs["battery"].writes) == 1
    # a discharge sold to the grid is a trade: the exact power
    d, outs = dispatcher(windowed_battery=True)
    sell = DispatchTarget({"battery": BatteryTarget(-3.0, grid_kw=-2.0)})
    got = (await d.dispatch(sell, snapshot())).devices["battery"]
    assert got.command is not None and got.command.window_w is None
    assert [k for k, _ in outs["battery"].writes] == ["battery_power_w"]
