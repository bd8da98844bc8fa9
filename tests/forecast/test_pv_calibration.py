"""The learnt yield factor: measured over modelled energy, only once enough sun is in."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from agent.forecast.pv_calibration import FACTOR_MAX, FACTOR_MIN, MIN_PEAK_HOURS, YieldCalibration
from agent.forecast.pv_forecast import PvForecaster, PvSettings
from agent.forecast.pv_model import PvArray
from agent.forecast.sources import CsvSource
from agent.market.intervals import Duration, Interval, containing, horizon

DATA = Path(__file__).parent / "data"
NEW_YORK = ZoneInfo("America/New_York")
START = datetime(2026, 6, 10, 6, tzinfo=UTC)


def _quarters(now: datetime, n: int = 4) -> list[Interval]:
    return horizon(containing(now, Duration.PT15M, ZoneInfo("UTC")), n)


def test_the_factor_is_measured_over_modelled_energy_once_two_peak_hours_are_in() -> None:
    cal = YieldCalibration(peak_kw=4.0, window_h=72.0)
    now = START
    seen = []
    for _ in range(4 * 6):  # six hours of quarter hours, the model saying 2 kW, the meter 2.5 kW
        ivs = _quarters(now)
        cal.remember(now.timestamp(), ivs, np.full(len(ivs), 2.0))
        now += timedelta(minutes=15)
        assert cal.observe(ivs[0], 2.5)
        seen.append(cal.factor())
    # 2 peak-hours of a 4 kW array are 8 kWh of model: reached after 4 h of 2 kW
    first = int(MIN_PEAK_HOURS * 4.0 / 2.0 * 4)
    assert all(f == 1.0 for f in seen[: first - 1])
    assert seen[-1] == pytest.approx(1.25)


def test_unremembered_intervals_and_night_add_nothing() -> None:
    cal = YieldCalibration(peak_kw=4.0, window_h=72.0)
    ivs = _quarters(START)
    assert not cal.observe(ivs[0], 3.0)  # the model never spoke about it
    cal.remember(START.timestamp(), ivs, np.array([np.nan, 0.0, 0.0, 0.0]))
    assert not cal.observe(ivs[0], 3.0)  # no weather for it: NaN is not remembered
    assert cal.factor() == 1.0


@given(st.floats(0.0, 20.0), st.floats(0.01, 5.0))
def test_the_factor_stays_in_its_bounds(measured_kw: float, model_kw: float) -> None:
    cal = YieldCalibration(peak_kw=1.0, window_h=72.0)
    now = START
    for _ in range(40):
        ivs = _quarters(now, 1)
        cal.remember(now.timestamp(), ivs, np.array([model_kw]))
        cal.observe(ivs[0], measured_kw)
        now += timedelta(minutes=15)
    f = cal.factor()
    assert FACTOR_MIN <= f <= FACTOR_MAX
    if cal._model_kwh >= MIN_PEAK_HOURS:
        assert f == pytest.approx(min(max(measured_kw / model_kw, FACTOR_MIN), FACTOR_MAX))


def test_old_days_leave_the_window() -> None:
    cal = YieldCalibration(peak_kw=1.0, window_h=6.0)
    now = START
    for k in range(4 * 24):
        ivs = _quarters(now, 1)
        cal.remember(now.timestamp(), ivs, np.array([1.0]))
        cal.observe(ivs[0], 0.6 if k < 4 * 12 else 1.1)
        now += timedelta(minutes=15)
    assert cal.factor() == pytest.approx(1.1)  # the first half-day's 0.6 is gone


def test_the_pv_forecast_learns_an_array_that_yields_more_than_modelled() -> None:
    weather = CsvSource(DATA / "greensboro_tmy3_slice.csv", "ghi_w_per_m2", field="forecast.pv.weather")
    pv = PvForecaster([PvArray("roof", 5.0)], PvSettings(36.1, -79.95), weather)
    fixed = PvForecaster([PvArray("roof", 5.0)], PvSettings(36.1, -79.95, calibration_h=0.0), weather)
    now = datetime(2015, 6, 1, 0, tzinfo=ZoneInfo("Etc/GMT+5"))
    for _ in range(24 * 12 * 2):  # two days of 5-minute measurements, 20 % above the model
        ivs = horizon(containing(now, Duration.PT15M, NEW_YORK), 8)
        pv.forecast(now, ivs)
        model = fixed.forecast(now, ivs).values[0]
        cur = containing(now, Duration.PT5M, NEW_YORK)
        now += timedelta(minutes=5)
        pv.observe(cur, 1.2 * float(model))
        fixed.observe(cur, 1.2 * float(model))
    ivs = horizon(containing(now + timedelta(hours=12), Duration.PT1H, NEW_YORK), 6)
    learnt, plain = pv.forecast(now, ivs), fixed.forecast(now, ivs)
    assert "yield 1.20" in learnt.source and "yield 1.00" in plain.source
    assert plain.values.max() > 1.0  # midday ahead: there is sun to scale
    assert np.allclose(learnt.values, np.minimum(1.2 * plain.values, 5.0), rtol=1e-6)
