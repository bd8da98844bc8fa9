"""The base-load prior: the H0 shape scaled by the yearly consumption, and history taking over."""

from __future__ import annotations

import csv
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from agent.forecast.baseload import BaseLoadForecaster, BaseLoadSettings
from agent.forecast.errors import ForecastError
from agent.forecast.prior import LoadPrior
from agent.market.intervals import Duration, containing, horizon, intervals_between

BERLIN = ZoneInfo("Europe/Berlin")
H0_2015 = Path(__file__).resolve().parents[2] / "scenarios" / "data" / "load_h0_2015.csv"  # 4000 kWh/a


def h0_mean_kw(month: int, weekdays: range, hour: int) -> float:
    """By hand from the shipped H0 year: the mean of the quarter hours of that month, weekdays, hour."""
    values = []
    with H0_2015.open(encoding="utf-8") as f:
        for row in csv.DictReader(f):
            t = datetime.fromisoformat(row["time"])
            if t.month == month and t.weekday() in weekdays and t.hour == hour:
                values.append(float(row["load_kw"]))
    return sum(values) / len(values)


def test_the_prior_of_a_4000_kwh_household_is_the_h0_year_itself() -> None:
    prior = LoadPrior(4000.0, BERLIN)
    monday_19 = datetime(2026, 1, 12, 19, 0, tzinfo=BERLIN).timestamp()
    sunday_03 = datetime(2026, 7, 12, 3, 0, tzinfo=BERLIN).timestamp()
    # The packaged shape keeps 5 decimals per 1000 kWh: 4 × 0.000005 at most.
    assert prior.window_mean_kw(monday_19, 3600) == pytest.approx(h0_mean_kw(1, range(5), 19), abs=2e-5)
    assert prior.window_mean_kw(sunday_03, 3600) == pytest.approx(h0_mean_kw(7, range(6, 7), 3), abs=2e-5)


def test_the_prior_scales_with_the_yearly_consumption_and_weights_the_hours_a_window_touches() -> None:
    small, large = LoadPrior(2000.0, BERLIN), LoadPrior(5000.0, BERLIN)
    t = datetime(2026, 1, 12, 18, 30, tzinfo=BERLIN).timestamp()
    assert large.window_mean_kw(t, 3600) == pytest.approx(2.5 * small.window_mean_kw(t, 3600))
    # 18:30-19:30: half of the 18:00 hour, half of the 19:00 hour.
    h18 = small.window_mean_kw(t - 1800, 3600)
    h19 = small.window_mean_kw(t + 1800, 3600)
    assert small.window_mean_kw(t, 3600) == pytest.approx((h18 + h19) / 2)


def test_bad_settings_are_refused_by_name() -> None:
    with pytest.raises(ForecastError, match="annual_consumption_kwh"):
        LoadPrior(0.0, BERLIN)
    with pytest.raises(ForecastError, match="prior_days"):
        LoadPrior(3000.0, BERLIN, prior_days=0.0)


def test_the_first_day_forecast_is_the_prior_and_history_takes_over_by_the_documented_blend() -> None:
    prior = LoadPrior(4000.0, BERLIN, prior_days=4.0)
    f = BaseLoadForecaster(BaseLoadSettings(), BERLIN, prior=prior)
    now = datetime(2026, 1, 12, 0, 0, tzinfo=BERLIN)
    ivs = horizon(containing(now, Duration.PT1H, BERLIN), 24)
    first = f.forecast(now, ivs)
    assert first.values.tolist() == pytest.approx(
        [prior.window_mean_kw(iv.start_utc.timestamp(), 3600) for iv in ivs]
    )
    assert "prior 24" in first.source
    # Two days of a flat 1 kW: w = 2 / 4; tomorrow's 19:00 blends yesterday's 1 kW with the prior.
    for iv in intervals_between(now, datetime(2026, 1, 14, 0, 0, tzinfo=BERLIN), Duration.PT1H, BERLIN):
        f.observe(iv, 1.0)
    assert f.history_days() == pytest.approx(2.0)
    t = datetime(2026, 1, 14, 19, 0, tzinfo=BERLIN).timestamp()
    value, method = f.estimate(t, 3600)
    assert method == "prior"
    assert value == pytest.approx(0.5 * 1.0 + 0.5 * prior.window_mean_kw(t, 3600))
    # Four days and more: history alone.
    for iv in intervals_between(
        datetime(2026, 1, 14, 0, 0, tzinfo=BERLIN),
        datetime(2026, 1, 16, 0, 0, tzinfo=BERLIN),
        Duration.PT1H,
        BERLIN,
    ):
        f.observe(iv, 1.0)
    value, method = f.estimate(datetime(2026, 1, 16, 19, 0, tzinfo=BERLIN).timestamp(), 3600)
    assert value == pytest.approx(1.0)
    assert method == "daily"
