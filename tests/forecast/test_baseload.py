"""Base load: the weekly profile, its fallbacks, the blend, and DST."""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from agent.forecast.baseload import BaseLoadForecaster, BaseLoadSettings
from agent.forecast.history import LoadHistory
from agent.forecast.seed import SeedProfile
from agent.forecast.timeseries import parse_csv
from agent.market.intervals import Duration, Interval, containing, horizon, intervals_between

BERLIN = ZoneInfo("Europe/Berlin")


def pattern_kw(iv: Interval) -> float:
    """A load that depends only on the local weekday and wall time (hour granularity)."""
    local = iv.start
    evening = 0.8 if 18 <= local.hour < 22 else 0.0
    return 0.2 + 0.05 * local.weekday() + evening + 0.01 * local.hour


def _feed(f: BaseLoadForecaster, start: datetime, end: datetime, step: Duration) -> list[Interval]:
    ivs = intervals_between(start, end, step, BERLIN)
    for iv in ivs:
        assert f.observe(iv, pattern_kw(iv))
    return ivs


@pytest.mark.parametrize("step", [Duration.PT5M, Duration.PT15M, Duration.PT1H])
@pytest.mark.parametrize(
    "day",
    [
        datetime(2026, 3, 29, tzinfo=BERLIN),  # spring forward: 23 h, no 02:00-03:00
        datetime(2026, 10, 25, tzinfo=BERLIN),  # fall back: 25 h, 02:00-03:00 twice
        datetime(2026, 6, 10, tzinfo=BERLIN),
    ],
)
def test_weekly_profile_recovers_a_weekly_pattern_exactly(step: Duration, day: datetime) -> None:
    f = BaseLoadForecaster(BaseLoadSettings(weeks=4), BERLIN)
    _feed(f, day - timedelta(weeks=4), day, step)
    target = intervals_between(day, day + timedelta(days=2), step, BERLIN)
    series = f.forecast(day.astimezone(UTC), target)
    expected = np.array([pattern_kw(iv) for iv in target])
    # The blend adds the residual of the latest measurement, which is exactly zero here.
    np.testing.assert_allclose(series.values, expected, atol=1e-12)
    assert series.degraded is None
    assert "weekly" in series.source


def test_hourly_history_serves_five_minute_forecasts() -> None:
    f = BaseLoadForecaster(BaseLoadSettings(weeks=2), BERLIN)
    day = datetime(2026, 5, 4, tzinfo=BERLIN)
    _feed(f, day - timedelta(weeks=2), day, Duration.PT1H)
    target = horizon(containing(day, Duration.PT5M, BERLIN), 288)
    values = f.forecast(day, target).values
    np.testing.assert_allclose(values, [pattern_kw(iv.parent(Duration.PT1H)) for iv in target], atol=1e-12)


def test_recency_weights_favour_the_latest_week() -> None:
    f = BaseLoadForecaster(BaseLoadSettings(weeks=2, recency=0.5), BERLIN)
    day = datetime(2026, 5, 4, 12, tzinfo=BERLIN)
    two_weeks = containing(day - timedelta(weeks=2), Duration.PT1H, BERLIN)
    one_week = containing(day - timedelta(weeks=1), Duration.PT1H, BERLIN)
    f.observe(two_weeks, 1.0)
    f.observe(one_week, 4.0)
    target = [containing(day, Duration.PT1H, BERLIN)]
    # weights 1 (last week) and 0.5: (4 * 1 + 1 * 0.5) / 1.5 = 3; the measurement a week old
    # is beyond blend_max_age_h, so no blend.
    assert f.forecast(day, target).values[0] == pytest.approx(3.0)
    f_median = BaseLoadForecaster(BaseLoadSettings(weeks=2, recency=0.5, combine="median"), BERLIN)
    f_median.observe(two_weeks, 1.0)
    f_median.observe(one_week, 4.0)
    assert f_median.forecast(day, target).values[0] == pytest.approx(4.0)


def test_short_history_falls_back_to_daily_then_seed_then_flat() -> None:
    day = datetime(2026, 5, 4, tzinfo=BERLIN)  # a Monday
    target = horizon(containing(day, Duration.PT1H, BERLIN), 24)
    flat = BaseLoadForecaster(BaseLoadSettings(default_kw=0.37), BERLIN)
    s = flat.forecast(day, target)
    assert np.all(s.values == 0.37)
    assert s.degraded is not None and "24 of 24 intervals flat" in s.degraded

    seed_csv = "time,load_kw\n" + "\n".join(
        f"{(datetime(2015, 5, 4, tzinfo=BERLIN) + timedelta(hours=h)).isoformat()},{1.0 + h / 100}"
        for h in range(24)
    )
    seed = SeedProfile(parse_csv(seed_csv, "load_kw", field="seed", issued_at=day, name="seed.csv"), BERLIN)
    seeded = BaseLoadForecaster(BaseLoadSettings(), BERLIN, seed)
    s = seeded.forecast(day, target)
    # 2015-05-04 was a Monday too: the seed's Monday hours come back, hour by hour.
    np.testing.assert_allclose(s.values, [1.0 + h / 100 for h in range(24)])
    assert s.degraded is not None and "seed" in s.degraded

    daily = BaseLoadForecaster(BaseLoadSettings(blend_max_age_h=0.001), BERLIN, seed)
    _feed(daily, day - timedelta(days=2), day, Duration.PT1H)
    s = daily.forecast(day + timedelta(minutes=1), target)  # measurement too old to blend
    # Saturday and Sunday at the same wall time, weighted 1 and 0.7
    sunday = [
        pattern_kw(containing(iv.start_utc - timedelta(days=1), Duration.PT1H, BERLIN)) for iv in target
    ]
    saturday = [
        pattern_kw(containing(iv.start_utc - timedelta(days=2), Duration.PT1H, BERLIN)) for iv in target
    ]
    np.testing.assert_allclose(s.values, (np.array(sunday) + 0.7 * np.array(saturday)) / 1.7)
    assert s.degraded is not None and "24 of 24 intervals daily" in s.degraded


def test_latest_measurement_is_blended_in_and_decays() -> None:
    f = BaseLoadForecaster(BaseLoadSettings(weeks=4, blend_tau_h=1.0), BERLIN)
    now = datetime(2026, 5, 4, 12, tzinfo=BERLIN)
    for iv in intervals_between(now - timedelta(weeks=4), now, Duration.PT15M, BERLIN):
        f.observe(iv, 0.5)
    f.observe(containing(now - timedelta(minutes=1), Duration.PT15M, BERLIN), 2.5)  # the kettle and the oven
    target = horizon(containing(now, Duration.PT15M, BERLIN), 32)
    values = f.forecast(now, target).values
    residual = values - 0.5
    lead_h = np.array([(iv.start_utc + iv.span / 2 - now).total_seconds() / 3600 for iv in target])
    np.testing.assert_allclose(residual, 2.0 * np.exp(-lead_h), rtol=1e-9)
    assert values[0] > 2.0
    assert np.all(np.diff(values) < 0)
    assert values[-1] == pytest.approx(0.5, abs=0.01)


def test_stale_measurement_is_not_blended() -> None:
    f = BaseLoadForecaster(BaseLoadSettings(blend_max_age_h=2.0), BERLIN)
    now = datetime(2026, 5, 4, 12, tzinfo=BERLIN)
    for iv in intervals_between(now - timedelta(weeks=4), now - timedelta(hours=3), Duration.PT15M, BERLIN):
        f.observe(iv, 0.5 if iv.end_utc < now - timedelta(hours=3, minutes=15) else 3.0)
    values = f.forecast(now, horizon(containing(now, Duration.PT15M, BERLIN), 4)).values
    assert np.allclose(values, 0.5)


def test_history_replaces_overlapping_samples_and_drops_garbage() -> None:
    h = LoadHistory(keep_s=86_400.0)
    assert h.add(0.0, 900.0, 1.0)
    assert h.add(900.0, 1800.0, 2.0)
    assert h.add(0.0, 300.0, 5.0)  # a 5-minute re-read replaces the quarter hour it overlaps
    assert len(h) == 2
    assert not h.add(1800.0, 2700.0, math.nan)
    assert not h.add(1800.0, 2700.0, math.inf)
    assert h.add(1800.0, 2700.0, -0.2)  # mismatch between meter and devices: clipped to 0
    means = h.window_mean_kw(
        np.array([0.0, 900.0, 1800.0, 2700.0]), np.array([300.0, 1800.0, 2700.0, 3600.0])
    )
    np.testing.assert_allclose(means[:3], [5.0, 2.0, 0.0])
    assert math.isnan(means[3])
    assert h.add(100_000.0, 100_900.0, 1.0)
    assert len(h) == 1  # older than a day: pruned


def test_seed_from_the_real_h0_profile_is_plausible() -> None:
    path = Path(__file__).parent / "data" / "h0_week.csv"
    seed = SeedProfile(
        parse_csv(path.read_text(), "load_kw", field="seed", issued_at=datetime.now(UTC), name=path.name),
        BERLIN,
    )
    evening = seed.window_mean_kw(datetime(2026, 1, 12, 19, tzinfo=BERLIN).timestamp(), 3600.0)
    night = seed.window_mean_kw(datetime(2026, 1, 12, 3, tzinfo=BERLIN).timestamp(), 3600.0)
    assert 0.1 < night < evening < 1.2
    # A month the file does not cover uses the mean over the months it does.
    july = seed.window_mean_kw(datetime(2026, 7, 13, 19, tzinfo=BERLIN).timestamp(), 3600.0)
    assert july == pytest.approx(evening)


odd_values = st.one_of(
    st.floats(-5.0, 20.0), st.just(math.nan), st.just(math.inf), st.just(-math.inf), st.just(0.0)
)


@settings(max_examples=100, deadline=None)
@given(
    st.lists(st.tuples(st.integers(0, 40 * 96), odd_values), max_size=200),
    st.sampled_from([Duration.PT5M, Duration.PT15M, Duration.PT1H]),
    st.sampled_from([Duration.PT5M, Duration.PT15M, Duration.PT1H]),
    st.integers(0, 120),
    st.sampled_from(["Europe/Berlin", "America/New_York", "Asia/Kolkata", "Australia/Lord_Howe"]),
)
def test_forecast_is_finite_non_negative_and_never_raises(
    samples: list[tuple[int, float]], history_step: Duration, step: Duration, count: int, tz_name: str
) -> None:
    tz = ZoneInfo(tz_name)
    origin = datetime(2026, 3, 1, tzinfo=UTC)
    f = BaseLoadForecaster(BaseLoadSettings(), tz)
    for k, value in samples:  # arbitrary order, gaps, duplicates and garbage
        f.observe(containing(origin + k * timedelta(minutes=15), history_step, tz), value)
    now = origin + timedelta(days=41)
    target = horizon(containing(now, step, tz), count)
    series = f.forecast(now, target)
    assert len(series.values) == count
    assert np.all(np.isfinite(series.values))
    assert np.all(series.values >= 0.0)
