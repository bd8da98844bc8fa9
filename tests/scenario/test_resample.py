"""Resampling a series to a run's step: the time-weighted mean conserves energy, holds coarse data
over finer intervals and averages fine data over coarse ones; temperatures are interpolated."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from agent.scenario.series import (
    RawSeries,
    SeriesSpec,
    data_seconds,
    interpolate_at,
    load_raw,
    mean_over,
    resample,
)
from tests.scenario.helpers import instants, write_csv

STEPS_S = (300, 900, 3600)
T0 = 1_430_000_000.0 - 1_430_000_000.0 % 3600  # a whole hour (POSIX seconds)


def raw(values: list[float], step_s: float, t0: float = T0) -> RawSeries:
    spec = SeriesSpec("data.x", Path("x.csv"), "x")
    n = len(values)
    times = np.asarray(t0 + np.arange(n) * step_s, dtype=np.float64)
    return RawSeries(spec, times, np.array(values, dtype=np.float64), step_s, 0.0, np.arange(n) + 2)


@settings(max_examples=60, deadline=None)
@given(
    file_step=st.sampled_from(STEPS_S),
    run_step=st.sampled_from(STEPS_S),
    hours=st.integers(1, 30),
    data=st.data(),
)
def test_the_mean_conserves_energy(file_step: int, run_step: int, hours: int, data: st.DataObject) -> None:
    n = hours * 3600 // file_step
    values = data.draw(st.lists(st.floats(-5.0, 50.0, allow_nan=False), min_size=n, max_size=n))
    series = raw(values, file_step)
    starts = np.asarray(T0 + np.arange(hours * 3600 // run_step) * run_step, dtype=np.float64)
    means = mean_over(series, starts, run_step)
    # energy (kWh for kW) over the whole span is the same before and after
    assert float(np.sum(means) * run_step) == pytest.approx(sum(values) * file_step, rel=1e-9, abs=1e-6)


@settings(max_examples=40, deadline=None)
@given(hours=st.integers(1, 12), data=st.data())
def test_five_minute_data_average_into_hours_and_hourly_data_hold_over_quarters(
    hours: int, data: st.DataObject
) -> None:
    fine = data.draw(st.lists(st.floats(0.0, 10.0), min_size=12 * hours, max_size=12 * hours))
    hourly = mean_over(raw(fine, 300), np.asarray(T0 + np.arange(hours) * 3600.0, dtype=np.float64), 3600)
    for h in range(hours):
        assert hourly[h] == pytest.approx(sum(fine[12 * h : 12 * h + 12]) / 12, abs=1e-9)
    coarse = data.draw(st.lists(st.floats(0.0, 10.0), min_size=hours, max_size=hours))
    quarters = mean_over(
        raw(coarse, 3600), np.asarray(T0 + np.arange(4 * hours) * 900.0, dtype=np.float64), 900
    )
    assert quarters.tolist() == pytest.approx([v for v in coarse for _ in range(4)], abs=1e-9)


def test_an_interval_across_two_rows_takes_their_time_weighted_mean() -> None:
    series = raw([1.0, 4.0], 3600)
    # [00:45, 01:15): a quarter of an hour at 1, a quarter at 4
    assert mean_over(series, np.array([T0 + 2700.0]), 1800).tolist() == [2.5]


def test_temperatures_are_interpolated_where_their_samples_stand() -> None:
    spec = SeriesSpec("data.t", Path("t.csv"), "t", method="interpolate", shift_s=3600.0)
    n = 3
    series = RawSeries(
        spec,
        np.asarray(T0 + np.arange(n) * 3600.0, dtype=np.float64),
        np.array([10.0, 14.0, 12.0]),
        3600.0,
        0.0,
        np.arange(n) + 2,
    )
    # the first sample (row time T0) was observed at T0 + 1 h; halfway to the second: 12 °C
    assert interpolate_at(series, np.array([T0 + 3600.0, T0 + 5400.0, T0 + 9000.0])).tolist() == [
        10.0,
        12.0,
        13.0,
    ]


def test_a_file_in_a_dst_zone_is_read_by_instant_across_its_dst_day(tmp_path: Path) -> None:
    # New York's spring day 2015-03-08 has 23 hours; the file counts hours in absolute time
    ny = ZoneInfo("America/New_York")
    start = datetime(2015, 3, 8, 0, tzinfo=ny)
    times = instants(start, timedelta(hours=1), 26, ny)
    assert times[2] == "2015-03-08T03:00:00-04:00"  # 02:00 does not exist that day
    write_csv(tmp_path / "p.csv", ["time", "price"], ((t, k) for k, t in enumerate(times)))
    spec = SeriesSpec("data.p", tmp_path / "p.csv", "price")
    # a run in UTC at 15 minutes: quarter k lies in hour k // 4
    run = [datetime(2015, 3, 8, 5, tzinfo=UTC) + timedelta(minutes=15 * k) for k in range(96)]
    values = resample(spec, run, timedelta(minutes=15), ZoneInfo("UTC"))
    assert values.tolist() == [k // 4 for k in range(96)]


def test_wall_alignment_reads_a_fixed_offset_file_at_the_sites_wall_clock(tmp_path: Path) -> None:
    minus5 = timezone(timedelta(hours=-5))
    times = [(datetime(2015, 10, 24, 22, tzinfo=minus5) + timedelta(hours=k)).isoformat() for k in range(30)]
    assert times[2] == "2015-10-25T00:00:00-05:00"
    write_csv(tmp_path / "w.csv", ["time", "ghi"], ((t, t[11:13]) for t in times))  # value = the wall hour
    spec = SeriesSpec("data.g", tmp_path / "w.csv", "ghi", align="wall")
    berlin = ZoneInfo("Europe/Berlin")
    # Berlin's autumn day: 25 hours, the wall hour 02 twice
    run = [datetime(2015, 10, 24, 22, tzinfo=UTC) + timedelta(hours=k) for k in range(25)]
    assert [at.astimezone(berlin).hour for at in run][:4] == [0, 1, 2, 2]
    values = resample(spec, run, timedelta(hours=1), berlin)
    assert values.tolist() == [float(at.astimezone(berlin).hour) for at in run]
    assert data_seconds(spec, run[:1], berlin).tolist() == [
        datetime(2015, 10, 25).replace(tzinfo=UTC).timestamp()
    ]
    assert load_raw(spec).utc_offset_s == -5 * 3600


def test_standard_alignment_keeps_solar_time_across_dst(tmp_path: Path) -> None:
    minus5 = timezone(timedelta(hours=-5))
    times = [(datetime(2015, 6, 30, 0, tzinfo=minus5) + timedelta(hours=k)).isoformat() for k in range(48)]
    write_csv(tmp_path / "w.csv", ["time", "ghi"], ((t, t[11:13]) for t in times))  # value = the file's hour
    spec = SeriesSpec("data.g", tmp_path / "w.csv", "ghi", align="standard")
    berlin = ZoneInfo("Europe/Berlin")
    # 13:00 summer time in Berlin is 12:00 standard time: the file's 12:00 row
    run = [datetime(2015, 7, 1, 13, tzinfo=berlin)]
    assert resample(spec, run, timedelta(hours=1), berlin).tolist() == [12.0]
