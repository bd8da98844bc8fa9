"""Forecast of a scalar quantity (outdoor temperature, hot-water draw rate) from its source.

Order of methods, each used where the previous one has nothing to say:

1. the configured source: a forecast series (mean over each interval), or a fresh observation
   blended into the profile (the observed departure from the profile now decays with
   ``anchor_decay_h`` across the horizon; with no profile it persists);
2. the daily profile from the config;
3. the constant default.

A failed or stale source, or a series that does not reach every interval, is named in
``degraded``; nothing here raises.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

import numpy as np

from agent.forecast.errors import SourceError
from agent.forecast.per_interval import PerInterval
from agent.forecast.profile import DailyProfile
from agent.forecast.records import Series, Vec
from agent.forecast.sampling import sample
from agent.forecast.sources import Observation, Source
from agent.forecast.timeseries import TimeSeries
from agent.market.intervals import Interval

_log = logging.getLogger("agent.forecast")


@dataclass(frozen=True)
class QuantitySpec:
    quantity: str  # name of the output series
    default: float
    source: Source | None = None
    profile: DailyProfile | None = None
    anchor_decay_h: float = 6.0
    # Source and profile give a rate per hour; the output is the amount per interval (draws).
    per_interval_amount: bool = False
    lower_bound: float | None = None  # physical floor (draws cannot be negative)


class QuantityForecaster:
    def __init__(self, spec: QuantitySpec, tz: ZoneInfo) -> None:
        self.spec = spec
        self.tz = tz
        self._last_failure: str | None = None
        self._profile_means = PerInterval(self._profile_means_of)

    def _profile_means_of(self, intervals: list[Interval]) -> list[float]:
        assert self.spec.profile is not None  # only asked for with a profile
        sampling = sample(intervals)
        means: list[float] = sampling.mean(self.spec.profile.at(sampling.epoch_s, self.tz)).tolist()
        return means

    def _fallback(self, intervals: Sequence[Interval]) -> tuple[Vec, str]:
        spec = self.spec
        if spec.profile is None:
            return np.full(len(intervals), spec.default, dtype=np.float64), f"default {spec.default:g}"
        return np.array(self._profile_means.over(intervals), dtype=np.float64), "daily profile"

    def _baseline_at(self, epoch_s: float) -> float:
        if self.spec.profile is None:
            return self.spec.default
        return float(self.spec.profile.at(np.array([epoch_s]), self.tz)[0])

    def forecast(self, now: datetime, intervals: Sequence[Interval]) -> Series:
        spec = self.spec
        fallback, fallback_name = self._fallback(intervals)
        values, source, degraded = fallback, fallback_name, None
        if spec.source is not None:
            try:
                data = spec.source.read(now)
            except SourceError as e:
                degraded = f"{e}; using {fallback_name}"
                self._log_failure(e)
            else:
                self._log_recovery()
                values, source, degraded = self._from_source(data, now, intervals, fallback, fallback_name)
        if spec.lower_bound is not None:
            values = np.maximum(values, spec.lower_bound)
        if spec.per_interval_amount:
            values = values * np.array([iv.hours for iv in intervals], dtype=np.float64)
        return Series(spec.quantity, values, now, source, degraded)

    def _from_source(
        self,
        data: TimeSeries | Observation,
        now: datetime,
        intervals: Sequence[Interval],
        fallback: Vec,
        name: str,
    ) -> tuple[Vec, str, str | None]:
        assert self.spec.source is not None
        described = self.spec.source.description
        if isinstance(data, Observation):
            mids = np.array([(iv.start_utc + iv.span / 2).timestamp() for iv in intervals], dtype=np.float64)
            lead_h = np.clip((mids - now.timestamp()) / 3600.0, 0.0, None)
            departure = data.value - self._baseline_at(now.timestamp())
            if self.spec.profile is None:
                return np.full(len(intervals), data.value), f"{described} (persistence)", None
            blended = fallback + departure * np.exp(-lead_h / self.spec.anchor_decay_h)
            return blended, f"{described} blended into daily profile", None
        from_series = data.over_intervals(intervals)
        missing = ~np.isfinite(from_series)
        values = np.where(missing, fallback, from_series)
        if not missing.any():
            return values, described, None
        if missing.all():
            return values, name, f"{described} covers none of the horizon; using {name}"
        note = f"{described} covers {int((~missing).sum())} of {len(intervals)} intervals; rest from {name}"
        return values, f"{described} + {name}", note

    def _log_failure(self, error: SourceError) -> None:
        # Keyed by the kind of failure: a stale message carries a growing age and would log each time.
        key = type(error).__name__
        if self._last_failure != key:
            _log.warning("%s forecast degraded: %s", self.spec.quantity, error)
        self._last_failure = key

    def _log_recovery(self) -> None:
        if self._last_failure is not None:
            _log.info("%s forecast source recovered", self.spec.quantity)
        self._last_failure = None
