"""The base-load model's kept answers: after any sequence of measurements (late ones, re-read ones,
finer ones replacing coarser ones, across a DST change), a forecaster that kept its answers
forecasts exactly what one built afresh from the same measurements forecasts."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from agent.forecast.baseload import BaseLoadForecaster, BaseLoadSettings
from agent.forecast.memo import WindowMemo
from agent.market.intervals import Duration, Interval, containing, horizon

BERLIN = ZoneInfo("Europe/Berlin")
# Three weeks around the spring-forward night of 2026-03-29 (a day of 23 hours).
ORIGIN = datetime(2026, 3, 15, tzinfo=BERLIN)
SPAN_H = 21 * 24
STEPS = (Duration.PT15M, Duration.PT1H)

observation = st.tuples(
    st.just("observe"),
    st.integers(0, SPAN_H * 4 - 1),  # quarter hours from ORIGIN
    st.sampled_from(STEPS),
    st.floats(0.0, 3.0, allow_nan=False),
)
forecast = st.tuples(
    st.just("forecast"),
    st.integers(0, SPAN_H * 4 - 1),
    st.sampled_from(STEPS),
    st.integers(1, 30),
)


# Away from DST changes: absolute hours from it are wall-clock hours.
SUMMER = datetime(2026, 6, 1, tzinfo=BERLIN)


def _interval(quarter: int, step: Duration, origin: datetime = ORIGIN) -> Interval:
    return containing(origin + timedelta(minutes=15 * quarter), step, BERLIN)


def _hour(day: int, hour: int) -> Interval:
    return _interval(4 * (24 * day + hour), Duration.PT1H, SUMMER)


def _settings() -> BaseLoadSettings:
    return BaseLoadSettings(weeks=2, recency=0.7)


@settings(max_examples=60, deadline=None)
@given(
    history=st.lists(observation, min_size=20, max_size=60),
    ops=st.lists(st.one_of(observation, forecast), min_size=5, max_size=40),
)
def test_kept_answers_equal_a_fresh_forecast(
    history: list[tuple[str, int, Duration, float]], ops: list[tuple[str, int, Duration, float | int]]
) -> None:
    kept = BaseLoadForecaster(_settings(), BERLIN)
    seen: list[tuple[Interval, float]] = []
    for _, quarter, step, kw in history:
        iv = _interval(quarter, step)
        kept.observe(iv, kw)
        seen.append((iv, kw))
    for op, quarter, step, arg in ops:
        if op == "observe":
            iv = _interval(quarter, step)
            kept.observe(iv, float(arg))
            seen.append((iv, float(arg)))
            continue
        first = _interval(quarter, step)
        ivs = horizon(first, int(arg))
        fresh = BaseLoadForecaster(_settings(), BERLIN)
        for iv, kw in seen:
            fresh.observe(iv, kw)
        now = first.start_utc
        got, want = kept.forecast(now, ivs), fresh.forecast(now, ivs)
        np.testing.assert_array_equal(got.values, want.values)
        assert got.source == want.source


def test_an_answer_is_kept_until_a_measurement_lands_where_it_looked() -> None:
    f = BaseLoadForecaster(_settings(), BERLIN)
    for day in range(14):
        for hour in range(24):
            f.observe(_hour(day, hour), 1.0)
    key = (_hour(16, 10).start_utc.timestamp(), 3600.0)
    assert f.estimate(*key) == (1.0, "weekly")  # days 9 and 2 at 10:00
    # A measurement away from the windows it read leaves it kept...
    f.observe(_hour(13, 22), 5.0)
    assert f._memo.get(key) == (1.0, "weekly")
    # ...one that replaces the hour a week before drops it, and the new answer reads it.
    f.observe(_hour(9, 10), 3.0)
    assert f._memo.get(key) is None
    value, method = f.estimate(*key)
    assert method == "weekly"
    assert value == (3.0 + 0.7 * 1.0) / 1.7


def test_a_history_changed_behind_the_memos_back_drops_everything() -> None:
    f = BaseLoadForecaster(_settings(), BERLIN)
    for day in range(8):
        for hour in range(24):
            f.observe(_hour(day, hour), 1.0)
    key = (_hour(9, 0).start_utc.timestamp(), 3600.0)
    assert f.estimate(*key) == (1.0, "weekly")
    start = _hour(2, 0)  # the hour a week before, which the answer read
    f.history.add(start.start_utc.timestamp(), start.end_utc.timestamp(), 4.0)
    assert f.estimate(*key) == (4.0, "weekly")


def test_the_memo_forgets_answers_a_day_behind_the_newest_measurement() -> None:
    memo = WindowMemo(weeks=2)
    f = BaseLoadForecaster(_settings(), BERLIN)
    old = _hour(0, 0).start_utc.timestamp()
    memo.put((old, 3600.0), 1.0, "weekly")
    version = f.history.version
    later = _hour(2, 0)  # two days on
    f.history.add(later.start_utc.timestamp(), later.end_utc.timestamp(), 1.0)
    memo.changed(f.history, version)
    assert len(memo) == 0


def test_an_answer_across_a_dst_change_is_dropped_by_the_hour_it_read() -> None:
    """10:00 on the Tuesday after spring-forward looks back to 10:00 a week before: 167 hours
    earlier, not 168, so the hour it read lies past a plain week's shift."""
    f = BaseLoadForecaster(_settings(), BERLIN)
    hour = containing(datetime(2026, 3, 15, tzinfo=BERLIN), Duration.PT1H, BERLIN)
    while hour.start < datetime(2026, 3, 30, tzinfo=BERLIN):
        f.observe(hour, 1.0)
        hour = hour.next()
    target = containing(datetime(2026, 3, 31, 10, tzinfo=BERLIN), Duration.PT1H, BERLIN)
    key = (target.start_utc.timestamp(), 3600.0)
    assert f.estimate(*key) == (1.0, "weekly")
    f.observe(containing(datetime(2026, 3, 24, 10, tzinfo=BERLIN), Duration.PT1H, BERLIN), 3.0)
    assert f.estimate(*key) == ((3.0 + 0.7 * 1.0) / 1.7, "weekly")


def test_kept_answers_stay_within_rounding_of_fresh_ones_once_old_history_is_dropped() -> None:
    """Past the history's four weeks and a day, its window means come from cumulative sums that
    start later: a kept answer may differ from a fresh one in the last bits, never more."""
    kept = BaseLoadForecaster(BaseLoadSettings(), BERLIN)
    fresh = BaseLoadForecaster(BaseLoadSettings(), BERLIN)
    hour = _hour(0, 0)
    rng = np.random.default_rng(7)
    worst_kw = 0.0
    for k in range(40 * 24 * 4):
        kw = float(0.2 + 0.5 * rng.random())
        quarter = containing(hour.start_utc + timedelta(minutes=15 * k), Duration.PT15M, BERLIN)
        kept.observe(quarter, kw)
        fresh.observe(quarter, kw)
        if k % 8 == 0:
            ivs = horizon(quarter.next(), 96)
            fresh._memo.check(fresh.history)  # in step with the history...
            fresh._memo._known.clear()  # ...and empty: every answer worked out afresh
            got, want = kept.forecast(ivs[0].start_utc, ivs), fresh.forecast(ivs[0].start_utc, ivs)
            assert got.source == want.source
            worst_kw = max(worst_kw, float(np.max(np.abs(got.values - want.values))))
    assert worst_kw < 1e-12
