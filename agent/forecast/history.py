"""Metered base load as the agent accumulated it: (interval, kW) samples, newest wins.

Samples may come at any step of the ladder; a new sample replaces any older one it overlaps
(a re-read interval, or a switch from 15- to 5-minute metering). Non-finite values are dropped
(a meter that answered garbage is no history) and negative ones clipped to zero: base load is a
consumption, and a small negative value is measurement mismatch between meter and devices.
"""

from __future__ import annotations

import bisect
import math

import numpy as np

from agent.forecast.records import Vec
from agent.forecast.timeseries import MIN_COVERAGE


class LoadHistory:
    def __init__(self, keep_s: float) -> None:
        self.keep_s = keep_s
        self._starts: list[float] = []
        self._ends: list[float] = []
        self._values: list[float] = []
        self._cum: tuple[Vec, Vec, Vec, Vec, Vec] | None = None
        # The span of time whose samples the last add changed (the new sample and any it
        # replaced): what a cache of window means must forget.
        self.last_change: tuple[float, float] | None = None
        self.version = 0  # bumps with every sample stored

    def __len__(self) -> int:
        return len(self._starts)

    def add(self, start_s: float, end_s: float, kw: float) -> bool:
        """Store one sample; False (and nothing stored) for a value that is not a number."""
        if not (math.isfinite(kw) and math.isfinite(start_s) and math.isfinite(end_s)) or end_s <= start_s:
            return False
        lo = bisect.bisect_right(self._ends, start_s)
        # Every stored sample from lo on ends after our start; those starting before our end overlap.
        hi = lo
        while hi < len(self._starts) and self._starts[hi] < end_s:
            hi += 1
        changed_from_s = min(start_s, self._starts[lo]) if hi > lo else start_s
        changed_to_s = max(end_s, self._ends[hi - 1]) if hi > lo else end_s
        self.last_change = (changed_from_s, changed_to_s)
        del self._starts[lo:hi], self._ends[lo:hi], self._values[lo:hi]
        self._starts.insert(lo, start_s)
        self._ends.insert(lo, end_s)
        self._values.insert(lo, max(0.0, kw))
        self._prune()
        self._cum = None
        self.version += 1
        return True

    def _prune(self) -> None:
        cut = bisect.bisect_left(self._ends, self._ends[-1] - self.keep_s) if self._ends else 0
        if cut:
            del self._starts[:cut], self._ends[:cut], self._values[:cut]

    @property
    def last(self) -> tuple[float, float, float] | None:
        """(start_s, end_s, kW) of the newest sample, if any."""
        if not self._starts:
            return None
        return self._starts[-1], self._ends[-1], self._values[-1]

    def recent(self, since_s: float) -> list[tuple[float, float, float]]:
        i = bisect.bisect_right(self._ends, since_s)
        return list(zip(self._starts[i:], self._ends[i:], self._values[i:], strict=True))

    def mean_kw(self) -> float:
        if not self._values:
            return math.nan
        widths = np.subtract(self._ends, self._starts)
        return float(np.dot(widths, self._values) / widths.sum())

    def _cumulative(self) -> tuple[Vec, Vec, Vec, Vec, Vec]:
        """(starts, ends, values, cumulative energy, cumulative coverage), kept until a sample
        is added: the forecast reads the history many times per plan."""
        if self._cum is None:
            starts = np.array(self._starts)
            ends = np.array(self._ends)
            values = np.array(self._values)
            energy = np.concatenate(([0.0], np.cumsum((ends - starts) * values)))
            cover = np.concatenate(([0.0], np.cumsum(ends - starts)))
            self._cum = (starts, ends, values, energy, cover)
        return self._cum

    def window_mean_kw(self, a: Vec, b: Vec) -> Vec:
        """Time-weighted mean over each window ``[a, b)``; NaN where covered less than half."""
        a = np.asarray(a, dtype=np.float64)
        b = np.asarray(b, dtype=np.float64)
        if not self._starts:
            return np.full(a.shape, np.nan)
        starts, ends, values, energy, cover = self._cumulative()

        def integral(t: Vec, cum: Vec, rate: Vec) -> Vec:
            # Samples strictly before t contribute fully; the one containing t in part.
            i = np.searchsorted(starts, t, side="right") - 1
            inside = np.clip(t - starts[np.maximum(i, 0)], 0.0, (ends - starts)[np.maximum(i, 0)])
            part = np.where(i >= 0, cum[np.maximum(i, 0)] + inside * rate[np.maximum(i, 0)], 0.0)
            return np.asarray(part, dtype=np.float64)

        ones = np.ones_like(values)
        e = integral(b, energy, values) - integral(a, energy, values)
        c = integral(b, cover, ones) - integral(a, cover, ones)
        ok = c >= MIN_COVERAGE * np.maximum(b - a, 1e-9)
        return np.asarray(np.where(ok, e / np.maximum(c, 1e-9), np.nan), dtype=np.float64)
