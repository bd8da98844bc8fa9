"""Properties of the relay timing rules (no pins, no clock)."""

from __future__ import annotations

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from drivers.gpio.timing import DutyPlanner, SwitchGuard


@st.composite
def planners(draw: st.DrawFn) -> tuple[float, float, float]:
    window = draw(st.floats(min_value=10, max_value=3600))
    min_on = draw(st.floats(min_value=0, max_value=window / 2))
    min_off = draw(st.floats(min_value=0, max_value=window - min_on))
    # window - min_on rounds: min_on + min_off could exceed the window by one ulp, a shape the
    # planner rightly refuses (the example 903.81..., 275.87..., 627.93... failed on that).
    assume(min_on + min_off <= window)
    return window, min_on, min_off


@settings(max_examples=200, deadline=None)
@given(shape=planners(), duty=st.floats(min_value=0, max_value=1), windows=st.integers(1, 60))
def test_every_window_is_realisable_and_the_long_run_duty_is_exact(
    shape: tuple[float, float, float], duty: float, windows: int
) -> None:
    window, min_on, min_off = shape
    planner = DutyPlanner(window, min_on, min_off)
    total = 0.0
    for _ in range(windows):
        on = planner.plan(duty)
        # Realisable: fully off, fully on, or both parts at least their minimum.
        assert on in (0.0, window) or (on >= min_on - 1e-9 and window - on >= min_off - 1e-9)
        planner.close(on)
        total += on
    # The error never exceeds one rounding step, however many windows: it is carried, not summed.
    assert abs(total - duty * window * windows) <= max(min_on, min_off) / 2 + 1e-6 * window * windows


@settings(max_examples=200, deadline=None)
@given(shape=planners(), duty=st.floats(min_value=0, max_value=1), shortfall=st.floats(0, 1))
def test_a_window_delivered_short_is_made_up_later(
    shape: tuple[float, float, float], duty: float, shortfall: float
) -> None:
    window, min_on, min_off = shape
    planner = DutyPlanner(window, min_on, min_off)
    first = planner.plan(duty)
    planner.close(first * (1 - shortfall))  # e.g. the start was deferred by a minimum off time
    assert planner.carry_s == pytest.approx(duty * window - first * (1 - shortfall), abs=1e-6)


def test_guard_counts_from_the_last_switch() -> None:
    guard = SwitchGuard(min_on_s=60, min_off_s=30, now_s=100)
    assert not guard.may_switch(129.9)
    assert guard.may_switch(130)
    guard.switched(True, 130)
    assert guard.earliest_switch_s() == 190
    guard.switched(True, 150)  # not a change: the on time keeps counting from 130
    assert guard.earliest_switch_s() == 190


def test_planner_rejects_impossible_settings() -> None:
    with pytest.raises(ValueError, match="window_s"):
        DutyPlanner(100, 60, 60)
    with pytest.raises(ValueError, match="duty"):
        DutyPlanner(100, 10, 10).plan(float("nan"))
