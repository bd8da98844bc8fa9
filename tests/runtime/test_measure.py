"""The base-load observation: metered exchange minus the measured devices plus PV, per interval."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from agent.config import parse_config
from agent.dispatch.snapshot import Sample, Snapshot
from agent.market.intervals import Duration
from agent.runtime.measure import IntervalAverager
from tests.planning.helpers import CONFIG_TEXT, WATER_HEATER

CFG = parse_config(CONFIG_TEXT.format(hedge=1.0, window_h=3, horizon_h=3, max_kw=8.0, extra=WATER_HEATER))
T0 = datetime(2026, 6, 15, 12, 0, tzinfo=ZoneInfo("Europe/Berlin"))


def snap(at: datetime, grid_kw: float, element_kw: float, pv_kw: float = 0.0) -> Snapshot:
    samples = {
        "grid": {"meter.power_w": Sample(grid_kw * 1000.0, "W", 1.0)},
        "pv": {"pv.power_w": Sample(pv_kw * 1000.0, "W", 1.0)},
        "boiler": {"water_heater.element_power_w": Sample(element_kw * 1000.0, "W", 1.0)},
    }
    return Snapshot(at, 0.0, samples)


@settings(max_examples=50, deadline=None)
@given(base_kw=st.floats(0.05, 2.0), lag=st.integers(1, 3), pv_kw=st.floats(0.0, 5.0))
def test_a_switching_load_seen_late_does_not_raise_the_base_load(
    base_kw: float, lag: int, pv_kw: float
) -> None:
    # A 2 kW element toggles every 3 samples; the meter sees each change ``lag`` samples before
    # the switch reports it. The interval's base load must come out as the real one.
    avg = IntervalAverager(CFG, "grid", Duration.PT15M)
    on = [(k // 3) % 2 == 1 for k in range(60)]
    for k in range(60):
        metered = base_kw + (2.0 if on[k] else 0.0) - pv_kw
        reported = 2.0 if on[max(0, k - lag)] else 0.0
        assert avg.add(snap(T0 + timedelta(seconds=15 * k), metered, reported, pv_kw)) is None
    closed = avg.add(snap(T0 + timedelta(minutes=15), base_kw, 0.0, pv_kw))
    assert closed is not None and closed.base_load_kw is not None
    # The lag shifts energy between samples, not in total (apart from the interval's two ends).
    assert closed.base_load_kw == pytest.approx(base_kw, abs=2.0 * lag / 60 + 1e-9)


def test_the_mean_is_never_negative() -> None:
    avg = IntervalAverager(CFG, "grid", Duration.PT15M)
    avg.add(snap(T0, -1.0, 0.0))  # metering noise: exporting more than the PV makes
    closed = avg.add(snap(T0 + timedelta(minutes=15), 0.0, 0.0))
    assert closed is not None and closed.base_load_kw == 0.0


def test_a_hybrid_inverter_battery_counts_once() -> None:
    # The pv and the battery roles are one hybrid inverter: both driver instances report the
    # battery's power. Discharging 2 kW into a 0.5 kW house exports 1.5 kW; the base is 0.5 kW.
    avg = IntervalAverager(CFG, "grid", Duration.PT15M)
    both = {"battery.power_w": Sample(-2000.0, "W", 1.0)}
    for k in range(3):
        s = snap(T0 + timedelta(minutes=5 * k), -1.5, 0.0)
        samples = {**s.samples, "pv": {**s.samples["pv"], **both}, "battery": dict(both)}
        avg.add(Snapshot(s.taken_at, 0.0, samples))
    closed = avg.add(snap(T0 + timedelta(minutes=15), 0.5, 0.0))
    assert closed is not None and closed.base_load_kw == pytest.approx(0.5)
