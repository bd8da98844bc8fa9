"""A typical week from a load profile file, for a home whose own history is still short.

The file (``time`` + ``load_kw``, e.g. the BDEW H0 standard profile) is folded into one mean
value per month, local weekday and local minute of day; a lookup averages the minutes of the
window, so a 15-minute file serves 5-minute and hourly intervals alike. A month absent from the
file falls back to the mean over all months.
"""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import numpy as np

from agent.forecast.records import Vec
from agent.forecast.timeseries import TimeSeries

_MIN_PER_DAY = 1440


class SeedProfile:
    def __init__(self, series: TimeSeries, tz: ZoneInfo, scale: float = 1.0) -> None:
        edges, values = series.edges_s, series.values
        ok = np.flatnonzero(np.isfinite(values))
        months = np.empty(len(ok), dtype=np.int64)
        weekdays = np.empty(len(ok), dtype=np.int64)
        minutes = np.empty(len(ok), dtype=np.int64)
        for j, i in enumerate(ok):
            start = datetime.fromtimestamp(float(edges[i]), tz)
            months[j], weekdays[j], minutes[j] = start.month, start.weekday(), start.hour * 60 + start.minute
        lengths = np.maximum(1, np.round((edges[ok + 1] - edges[ok]) / 60.0)).astype(np.int64)
        # Each value covers every minute of its period; expand to one entry per minute.
        row = np.repeat(np.arange(len(ok)), lengths)
        offset = np.arange(len(row)) - np.repeat(np.cumsum(lengths) - lengths, lengths)
        minute_abs = minutes[row] + offset
        weekday = (weekdays[row] + minute_abs // _MIN_PER_DAY) % 7
        minute = minute_abs % _MIN_PER_DAY
        value = values[ok][row]
        sums = np.zeros((13, 7, _MIN_PER_DAY))  # month 0 = all months
        counts = np.zeros((13, 7, _MIN_PER_DAY))
        for month_index in (np.zeros_like(row), months[row]):
            np.add.at(sums, (month_index, weekday, minute), value)
            np.add.at(counts, (month_index, weekday, minute), 1.0)
        with np.errstate(invalid="ignore", divide="ignore"):
            self._mean = np.where(counts > 0, sums / np.maximum(counts, 1) * scale, np.nan)
        self.tz = tz
        self.months = frozenset(int(m) for m in range(1, 13) if counts[m].any())

    def window_mean_kw(self, start_s: float, span_s: float) -> float:
        """Mean over ``[start, start + span)`` on the local wall clock; NaN if the file has no data."""
        start = datetime.fromtimestamp(start_s, self.tz)
        month = start.month if start.month in self.months else 0
        minute = start.hour * 60 + start.minute
        n = max(1, round(span_s / 60.0))
        days = (minute + np.arange(n)) // _MIN_PER_DAY
        weekdays = (start.weekday() + days) % 7
        minutes = (minute + np.arange(n)) % _MIN_PER_DAY
        picked: Vec = self._mean[month, weekdays, minutes]
        finite = picked[np.isfinite(picked)]
        return float(finite.mean()) if len(finite) else float("nan")
