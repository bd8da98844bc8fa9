"""Forecast error: what was forecast for an interval, at what lead time, against what was measured.

For each quantity and interval the recorder keeps the first forecast that fell into each lead
bucket (so a forecast re-issued every cycle is counted once per bucket, not 288 times). When
measurements arrive, at the metering step or any other, they are accumulated over the forecast
interval; once it is covered, each kept forecast becomes an error sample ``forecast - measured``
(positive = over-forecast). Samples older than ``window_s`` (a day) drop out of the statistics.

``summary()`` is plain data for the web page: MAE, bias and count per quantity, overall and by
lead bucket.
"""

from __future__ import annotations

import bisect
import itertools
import math
from collections import deque
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from agent.market.intervals import Interval

# Upper bounds of the lead-time buckets, hours; the last is open-ended.
LEAD_BUCKETS_H: tuple[float, ...] = (1.0, 6.0, 24.0)
DAY_S = 86_400.0
_COVERED = 0.99


def _bucket_names(bounds_h: tuple[float, ...]) -> tuple[str, ...]:
    inner = [f"{lo:g}-{hi:g}h" for lo, hi in itertools.pairwise(bounds_h)]
    return (f"<{bounds_h[0]:g}h", *inner, f">={bounds_h[-1]:g}h")


# Worked out once: a plan records some 400 forecasts, each needing its bucket's name.
_BUCKET_NAMES = _bucket_names(LEAD_BUCKETS_H)


def bucket_name(lead_s: float) -> str:
    return _BUCKET_NAMES[bisect.bisect_right(LEAD_BUCKETS_H, max(0.0, lead_s / 3600.0))]


@dataclass(frozen=True)
class ErrorSample:
    end_s: float  # end of the interval the forecast was for
    bucket: str
    forecast: float
    measured: float

    @property
    def error(self) -> float:
        return self.forecast - self.measured


@dataclass
class _Pending:
    start_s: float
    end_s: float
    forecasts: dict[str, float] = field(default_factory=dict)  # bucket -> value
    measured_sum: float = 0.0  # value x seconds
    covered_s: float = 0.0


@dataclass(frozen=True)
class Stats:
    count: int
    mae: float
    bias: float

    def to_dict(self) -> dict[str, Any]:
        return {"count": self.count, "mae": self.mae, "bias": self.bias}


def _stats(samples: list[ErrorSample]) -> Stats:
    if not samples:
        return Stats(0, math.nan, math.nan)
    errors = [s.error for s in samples]
    return Stats(len(errors), sum(abs(e) for e in errors) / len(errors), sum(errors) / len(errors))


class ErrorRecorder:
    def __init__(self, window_s: float = DAY_S) -> None:
        self.window_s = window_s
        self._pending: dict[str, dict[float, _Pending]] = {}
        self._samples: dict[str, deque[ErrorSample]] = {}

    def record_forecast(self, quantity: str, interval: Interval, issued_at: datetime, value: float) -> None:
        span = (interval.start_utc.timestamp(), interval.end_utc.timestamp())
        self.record_forecasts(quantity, [span], issued_at.timestamp(), [value])

    def record_forecasts(
        self,
        quantity: str,
        spans_s: Sequence[tuple[float, float]],
        issued_s: float,
        values: Iterable[float],
    ) -> None:
        """A forecast issued at ``issued_s`` (epoch seconds) for intervals given as (start, end)
        epoch seconds, one value each (a plan's horizon at once)."""
        by_start = self._pending.setdefault(quantity, {})
        for (start_s, end_s), value in zip(spans_s, values, strict=True):
            if not math.isfinite(value):
                continue
            pending = by_start.get(start_s)
            if pending is None or pending.end_s != end_s:
                pending = by_start[start_s] = _Pending(start_s, end_s)
            pending.forecasts.setdefault(bucket_name(start_s - issued_s), value)

    def record_measurement(self, quantity: str, interval: Interval, value: float) -> None:
        """A measured mean over ``interval`` (any step); closes the forecast intervals it completes."""
        if not math.isfinite(value):
            return
        a, b = interval.start_utc.timestamp(), interval.end_utc.timestamp()
        by_start = self._pending.get(quantity, {})
        for start_s in [s for s, p in by_start.items() if s < b and p.end_s > a]:
            p = by_start[start_s]
            overlap = min(b, p.end_s) - max(a, p.start_s)
            p.measured_sum += value * overlap
            p.covered_s += overlap
            if p.covered_s >= _COVERED * (p.end_s - p.start_s):
                measured = p.measured_sum / p.covered_s
                samples = self._samples.setdefault(quantity, deque())
                for bucket, forecast in p.forecasts.items():
                    samples.append(ErrorSample(p.end_s, bucket, forecast, measured))
                del by_start[start_s]
        self._prune(b)

    def _prune(self, latest_s: float) -> None:
        cutoff = latest_s - self.window_s
        for samples in self._samples.values():
            while samples and samples[0].end_s <= cutoff:
                samples.popleft()
        for by_start in self._pending.values():
            for start_s in [s for s, p in by_start.items() if p.end_s <= cutoff]:
                del by_start[start_s]  # never measured: nothing to compare with

    def samples(self, quantity: str) -> list[ErrorSample]:
        return list(self._samples.get(quantity, ()))

    def stats(self, quantity: str, bucket: str | None = None) -> Stats:
        return _stats([s for s in self.samples(quantity) if bucket is None or s.bucket == bucket])

    def summary(self) -> dict[str, Any]:
        """{quantity: {"all": stats, "by_lead": {bucket: stats}}} over the last ``window_s``."""
        out: dict[str, Any] = {}
        for quantity in sorted(self._samples):
            samples = self.samples(quantity)
            buckets = sorted({s.bucket for s in samples}, key=_bucket_order)
            out[quantity] = {
                "all": _stats(samples).to_dict(),
                "by_lead": {b: _stats([s for s in samples if s.bucket == b]).to_dict() for b in buckets},
            }
        return out


def _bucket_order(name: str) -> int:
    names = [bucket_name(h * 3600.0 - 1.0) for h in (*LEAD_BUCKETS_H, math.inf)]
    return names.index(name) if name in names else len(names)
