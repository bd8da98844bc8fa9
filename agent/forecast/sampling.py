"""Sample instants inside intervals, and averaging sampled values back per interval.

Intervals are averaged from samples no more than five minutes apart, so an hour that contains
sunrise gets the energy of its sunlit part rather than the power at its midpoint, and a step
profile that changes at 07:00 is weighted correctly in a 06:30-07:30 window.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from agent.forecast.records import Vec
from agent.market.intervals import Interval

SAMPLE_STEP_S = 300.0


@dataclass(frozen=True)
class Sampling:
    """Sample instants for a list of intervals, and how to average samples back per interval."""

    epoch_s: Vec
    owner: npt.NDArray[np.int64]  # index of the interval each sample belongs to
    count: int

    def mean(self, values: Vec) -> Vec:
        sums = np.bincount(self.owner, weights=values, minlength=self.count)
        n = np.bincount(self.owner, minlength=self.count)
        return np.asarray(sums / np.maximum(n, 1), dtype=np.float64)

    def spread(self, per_interval: Vec) -> Vec:
        """A per-interval value repeated for each of its samples."""
        return np.asarray(np.asarray(per_interval, dtype=np.float64)[self.owner], dtype=np.float64)


def sample(intervals: Sequence[Interval], step_s: float = SAMPLE_STEP_S) -> Sampling:
    times: list[float] = []
    owner: list[int] = []
    for i, iv in enumerate(intervals):
        start = iv.start_utc.timestamp()
        span_s = iv.span.total_seconds()
        n = max(1, int(np.ceil(span_s / step_s)))
        for k in range(n):
            times.append(start + (k + 0.5) * span_s / n)
            owner.append(i)
    return Sampling(np.array(times, dtype=np.float64), np.array(owner, dtype=np.int64), len(intervals))
