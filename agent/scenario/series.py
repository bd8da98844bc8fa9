"""A named data series: one CSV column on a regular grid, and its resampling to a run's step.

The rows of a file are interval starts; each row's value holds until the next row (the last row
for one step of the file). The file's step is the shortest distance between two rows; a longer
distance is a *gap*. A gap or an empty cell is refused, naming file, row and column, unless the
series says ``fill: week``: the missing value is then taken from the same instant one week later
(or, where that is missing too, one week earlier) — the documented rule for prices and loads
whose pattern follows the weekday.

Two ways to bring a series to a run's intervals ``[t, t + step)``:

* ``mean`` (energy, power, prices, litres): the time-weighted mean of the held values over the
  interval. It is exact, so energy is conserved: Σ mean·step over intervals that tile the data
  equals Σ value·file_step. Hourly prices onto 15 minutes repeat; 5-minute loads onto 15 minutes
  average.
* ``interpolate`` (temperatures): the samples stand at ``time + shift_s`` (a value observed at the
  end of its hour: ``shift_s: 3600``) and are joined by straight lines; an interval takes the
  line's value at its middle.

``align: instant`` (default) matches absolute time. ``align: wall`` matches local wall-clock time:
the file's rows (one fixed UTC offset) are read at the same wall clock in the site's zone, to
borrow a typical-year weather file from another place. On a DST day the site's clock skips or
repeats an hour of the file. ``align: standard`` reads such a file at the site's *standard* time
(its wall clock without DST): the sun keeps solar time, so borrowed weather keeps its noon at the
site's solar noon all year (a whole year across DST; the sun does not move its clocks).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Literal
from zoneinfo import ZoneInfo

import numpy as np
import numpy.typing as npt

from agent.scenario.errors import ScenarioError
from agent.scenario.table import FIRST_DATA_ROW, read_table

Vec = npt.NDArray[np.float64]
Method = Literal["mean", "interpolate"]
WEEK_S = 7 * 86400.0


@dataclass(frozen=True)
class SeriesSpec:
    key: str  # the key path in the scenario (for messages)
    path: Path
    column: str
    method: Method = "mean"
    scale: float = 1.0
    offset: float = 0.0
    align: Literal["instant", "wall", "standard"] = "instant"
    fill: Literal["error", "week"] = "error"
    shift_s: float = 0.0


@dataclass(frozen=True)
class RawSeries:
    """The column on its regular grid, filled, scaled; ``times_s`` are the data's own seconds
    (POSIX for ``instant``, wall-clock seconds for ``wall``)."""

    spec: SeriesSpec
    times_s: Vec
    values: Vec
    step_s: float
    utc_offset_s: float  # the file's fixed offset (wall alignment), else 0
    rows: npt.NDArray[np.int64]  # the file row of each slot (-1: no row, a gap)

    @property
    def end_s(self) -> float:
        return float(self.times_s[-1]) + self.step_s


def load_raw(spec: SeriesSpec) -> RawSeries:
    table = read_table(spec.path, spec.key)
    cells = table.column(spec.column, spec.key)
    times = np.array(table.times_s)
    if len(times) < 2:
        raise ScenarioError(spec.key, "a series needs at least two rows (they give its step)", file=spec.path)
    diffs = np.diff(times)
    step_s = float(diffs.min())
    ratio = diffs / step_s
    bad = np.nonzero(np.abs(ratio - np.round(ratio)) > 1e-9)[0]
    if bad.size:
        row = int(bad[0]) + 1 + FIRST_DATA_ROW
        raise ScenarioError(
            spec.key, f"off the file's {step_s:g} s grid", file=spec.path, row=row, column="time"
        )
    slot = np.concatenate([[0], np.cumsum(np.round(ratio).astype(np.int64))])
    n = int(slot[-1]) + 1
    values = np.full(n, np.nan)
    rows = np.full(n, -1, dtype=np.int64)
    for i, (k, v) in enumerate(zip(slot, cells, strict=True)):
        rows[k] = i + FIRST_DATA_ROW
        if v is not None:
            values[k] = v
    if spec.fill == "week" and np.isnan(values).any():
        values = _fill_week(spec, values, step_s)
    offset_s = 0.0
    grid = times[0] + np.arange(n) * step_s
    if spec.align != "instant":
        offsets = set(table.offsets_s)
        if len(offsets) != 1:
            raise ScenarioError(
                f"{spec.key}.align",
                f"{spec.align} alignment needs a file with one fixed UTC offset",
                file=spec.path,
            )
        offset_s = offsets.pop()
        grid = grid + offset_s
    return RawSeries(spec, grid, values * spec.scale + spec.offset, step_s, offset_s, rows)


def _fill_week(spec: SeriesSpec, values: Vec, step_s: float) -> Vec:
    """Each missing value from the same instant a week later, else a week earlier (else still missing)."""
    week = round(WEEK_S / step_s)
    if abs(week * step_s - WEEK_S) > 1e-6:
        raise ScenarioError(f"{spec.key}.fill", f"a step of {step_s:g} s does not divide a week")
    out = values.copy()
    for i in np.nonzero(np.isnan(values))[0]:
        for j in (i + week, i - week):
            if 0 <= j < len(values) and not np.isnan(values[j]):
                out[i] = values[j]
                break
    return out


def _check_present(raw: RawSeries, first: int, last: int) -> None:
    """Refuse a missing value among slots ``first..last`` (clamped), naming its row."""
    lo, hi = max(first, 0), min(last, len(raw.values) - 1)
    gaps = np.nonzero(np.isnan(raw.values[lo : hi + 1]))[0]
    if not gaps.size:
        return
    k = lo + int(gaps[0])
    spec = raw.spec
    hint = "fill: week" if spec.fill == "error" else "data a week before or after"
    if raw.rows[k] >= 0:
        raise ScenarioError(
            spec.key, f"an empty value (give it, or {hint})", file=spec.path, row=int(raw.rows[k]),
            column=spec.column,
        )  # fmt: skip
    after = raw.rows[k:][raw.rows[k:] >= 0]
    raise ScenarioError(
        spec.key, f"a gap: the row before is more than one step ({raw.step_s:g} s) earlier ({hint})",
        file=spec.path, row=int(after[0]), column="time",
    )  # fmt: skip


def data_seconds(spec: SeriesSpec, instants: list[datetime], tz: ZoneInfo) -> Vec:
    """The run's instants on the series' time axis (POSIX; the site's wall clock for ``wall``, its
    standard time, DST left out, for ``standard``)."""
    if spec.align == "instant":
        return np.array([t.timestamp() for t in instants])
    if spec.align == "standard":
        return np.array([t.timestamp() + standard_offset_s(t, tz) for t in instants])
    epoch = datetime(1970, 1, 1)  # noqa: DTZ001 - wall clocks are naive by definition
    return np.array([(t.astimezone(tz).replace(tzinfo=None) - epoch).total_seconds() for t in instants])


def standard_offset_s(at: datetime, tz: ZoneInfo) -> float:
    """The zone's UTC offset at ``at`` without daylight saving (Berlin: +3600 all year)."""
    local = at.astimezone(tz)
    offset, dst = local.utcoffset(), local.dst()
    return ((offset or timedelta(0)) - (dst or timedelta(0))).total_seconds()


def mean_over(raw: RawSeries, starts_s: Vec, step_s: float) -> Vec:
    """Time-weighted mean of the held values over each ``[s, s + step_s)``."""
    _cover(raw, float(starts_s[0]), float(starts_s[-1]) + step_s)
    t0 = float(raw.times_s[0])
    _check_present(
        raw,
        int((starts_s.min() - t0) // raw.step_s),
        int(-((t0 - starts_s.max() - step_s) // raw.step_s)) - 1,
    )
    knots = np.append(raw.times_s, raw.end_s)
    # missing values outside the run (checked above) count as 0: they cancel in every difference
    cumulative = np.concatenate([[0.0], np.cumsum(np.nan_to_num(raw.values) * raw.step_s)])
    a = np.interp(starts_s, knots, cumulative)
    b = np.interp(starts_s + step_s, knots, cumulative)
    return np.asarray((b - a) / step_s, dtype=np.float64)


def interpolate_at(raw: RawSeries, at_s: Vec) -> Vec:
    """The line through the samples (standing at ``time + shift_s``) at ``at_s``; held flat for at
    most one step beyond either end."""
    shift = raw.spec.shift_s
    _cover(raw, float(at_s.min()) - shift + raw.step_s, float(at_s.max()) - shift)
    t0 = float(raw.times_s[0]) + shift
    _check_present(raw, int((at_s.min() - t0) // raw.step_s), int((at_s.max() - t0) // raw.step_s) + 1)
    return np.asarray(np.interp(at_s, raw.times_s + shift, raw.values), dtype=np.float64)


def _cover(raw: RawSeries, first_s: float, last_s: float) -> None:
    if first_s < raw.times_s[0] - 1e-6 or last_s > raw.end_s + 1e-6:

        def show(s: float) -> str:
            return (datetime(1970, 1, 1) + timedelta(seconds=s)).isoformat()  # noqa: DTZ001

        raise ScenarioError(
            raw.spec.key,
            f"the data cover {show(float(raw.times_s[0]))}..{show(raw.end_s)}, the run needs"
            f" {show(first_s)}..{show(last_s)} ({'site wall clock' if raw.spec.align == 'wall' else 'UTC'})",
            file=raw.spec.path,
        )


def resample(spec: SeriesSpec, starts: list[datetime], step: timedelta, tz: ZoneInfo) -> Vec:
    """The series on the run's intervals (``starts``, each ``step`` long)."""
    raw = load_raw(spec)
    starts_s = data_seconds(spec, starts, tz)
    step_s = step.total_seconds()
    if spec.method == "mean":
        return mean_over(raw, starts_s, step_s)
    return interpolate_at(raw, starts_s + step_s / 2.0)
