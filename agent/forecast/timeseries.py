"""A time series of values each holding from its timestamp to the next, and readers for it.

This is how the bundled data files and weather services write values: ``time`` is the start of
the period a value stands for. A value therefore covers ``[t_i, t_i+1)``; the last one covers
one typical step. A jump longer than three typical steps is a gap (no value), not a very long
period, so a file with a missing day does not smear yesterday's weather over it.

``mean_over(a, b)`` is the time-weighted mean over any window, exact for piecewise-constant
data, which lets one series serve 5-minute and hourly intervals alike.
"""

from __future__ import annotations

import csv
import io
import json
import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import numpy as np

from agent.forecast.errors import SourceError
from agent.forecast.records import Vec
from agent.market.intervals import Interval

GAP_FACTOR = 3.0
# A window is given a value only if the series covers at least this share of it.
MIN_COVERAGE = 0.5


@dataclass(frozen=True)
class TimeSeries:
    edges_s: Vec  # n + 1 epoch seconds, strictly increasing
    values: Vec  # n values; NaN where missing
    issued_at: datetime

    @classmethod
    def from_points(
        cls, times_s: Sequence[float], values: Sequence[float], issued_at: datetime
    ) -> TimeSeries:
        t = np.asarray(times_s, dtype=np.float64)
        v = np.asarray(values, dtype=np.float64)
        if len(t) == 0:
            return cls(np.zeros(1), np.zeros(0), issued_at)
        order = np.argsort(t, kind="stable")
        t, v = t[order], v[order]
        keep = np.concatenate(([True], np.diff(t) > 0))  # a repeated instant: the first value wins
        t, v = t[keep], v[keep]
        steps = np.diff(t)
        typical = float(np.median(steps)) if len(steps) else 3600.0
        ends = np.append(t[1:], t[-1] + typical)
        edges = [t[0]]
        vals: list[float] = []
        for start, end, value in zip(t, ends, v, strict=True):
            span = min(end - start, typical) if end - start > GAP_FACTOR * typical else end - start
            if start > edges[-1]:
                edges.append(start)
                vals.append(math.nan)  # filler for the previous gap
            edges.append(start + span)
            vals.append(float(value))
        return cls(np.array(edges), np.array(vals), issued_at)

    @property
    def end_s(self) -> float:
        return float(self.edges_s[-1])

    def mean_over(self, starts_s: Vec, ends_s: Vec) -> Vec:
        """Time-weighted mean over each window; NaN where covered less than MIN_COVERAGE."""
        if len(self.values) == 0:
            return np.full(len(starts_s), np.nan)
        valid = np.isfinite(self.values)
        widths = np.diff(self.edges_s)
        cum_value = np.concatenate(([0.0], np.cumsum(np.where(valid, self.values, 0.0) * widths)))
        cum_cover = np.concatenate(([0.0], np.cumsum(np.where(valid, widths, 0.0))))
        total = np.interp(ends_s, self.edges_s, cum_value) - np.interp(starts_s, self.edges_s, cum_value)
        cover = np.interp(ends_s, self.edges_s, cum_cover) - np.interp(starts_s, self.edges_s, cum_cover)
        span = np.maximum(np.asarray(ends_s) - np.asarray(starts_s), 1e-9)
        ok = cover >= MIN_COVERAGE * span
        return np.asarray(np.where(ok, total / np.maximum(cover, 1e-9), np.nan), dtype=np.float64)

    def over_intervals(self, intervals: Sequence[Interval]) -> Vec:
        starts = np.array([iv.start_utc.timestamp() for iv in intervals], dtype=np.float64)
        ends = np.array([iv.end_utc.timestamp() for iv in intervals], dtype=np.float64)
        return self.mean_over(starts, ends)


def _instant(text: str, where: str, field: str) -> float:
    try:
        value = datetime.fromisoformat(text.strip())
    except ValueError:
        raise SourceError(f"{where}: not an ISO 8601 time: {text!r}", field=field) from None
    if value.tzinfo is None:
        raise SourceError(f"{where}: time {text!r} has no UTC offset", field=field)
    return value.timestamp()


def _number(raw: Any, where: str, field: str) -> float:
    if raw is None or (isinstance(raw, str) and raw.strip() == ""):
        return math.nan  # a missing value, as the data files write it
    if isinstance(raw, bool):
        raise SourceError(f"{where}: expected a number, got {raw!r}", field=field)
    try:
        value = float(raw)
    except (TypeError, ValueError):
        raise SourceError(f"{where}: expected a number, got {raw!r}", field=field) from None
    if not math.isfinite(value):
        raise SourceError(f"{where}: value {raw!r} is not finite", field=field)
    return value


def parse_csv(text: str, column: str, *, field: str, issued_at: datetime, name: str) -> TimeSeries:
    """A CSV with a ``time`` column (ISO 8601 with offset) and the value column ``column``."""
    reader = csv.DictReader(io.StringIO(text))
    header = reader.fieldnames or []
    for needed in ("time", column):
        if needed not in header:
            raise SourceError(f"{name}: no column {needed!r} (columns: {', '.join(header)})", field=field)
    times: list[float] = []
    values: list[float] = []
    for row in reader:
        where = f"{name} line {reader.line_num}"
        times.append(_instant(row["time"] or "", where, field))
        values.append(_number(row[column], where, field))
    if not times:
        raise SourceError(f"{name}: no data rows", field=field)
    return TimeSeries.from_points(times, values, issued_at)


def parse_payload(payload: bytes, *, field: str, issued_at: datetime) -> float | TimeSeries:
    """An MQTT payload: a bare number (an observation now) or a JSON forecast series.

    The series form is ``[{"time": "2026-06-01T12:00:00+02:00", "value": 21.5}, ...]``.
    """
    try:
        doc = json.loads(payload.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise SourceError(f"payload is neither a number nor JSON: {payload[:60]!r}", field=field) from None
    if isinstance(doc, int | float) and not isinstance(doc, bool):
        return _number(doc, "payload", field)
    if not isinstance(doc, list) or not doc:
        raise SourceError("payload must be a number or a non-empty list of {time, value}", field=field)
    times: list[float] = []
    values: list[float] = []
    for i, item in enumerate(doc):
        where = f"payload[{i}]"
        if not isinstance(item, dict) or set(item) != {"time", "value"}:
            raise SourceError(f"{where}: must be an object with exactly 'time' and 'value'", field=field)
        if not isinstance(item["time"], str):
            raise SourceError(f"{where}.time: must be an ISO 8601 string", field=field)
        times.append(_instant(item["time"], where, field))
        values.append(_number(item["value"], f"{where}.value", field))
    return TimeSeries.from_points(times, values, issued_at)
