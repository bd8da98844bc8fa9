"""Base-load forecast: seasonal naive on a weekly profile, with the latest measurement blended in.

For each interval of the horizon, in this order (documented in configs/reference.yaml):

1. **weekly**: the same local weekday and wall time in each of the last ``weeks`` weeks,
   combined by a recency-weighted mean (weights ``recency ** (k - 1)``) or median;
2. **daily**: the same wall time on each of the last seven days, weighted the same way;
3. **seed**: the typical week of a profile file (if configured);
4. **flat**: the mean of all history, or the configured default when there is none.

With a **prior** (``forecast.base_load.annual_consumption_kwh``, :mod:`agent.forecast.prior`)
steps 3 and 4 give way to it: the weekly or daily value is blended with the prior by the days
of history, and where neither exists the prior stands alone.

Matching is on the local wall clock (agent/market/intervals keeps it DST-aware), so 18:00
Monday matches 18:00 the Monday before even across a DST change; a wall time that did not exist
that week (the spring-forward gap) just contributes nothing.

Then the blend: the residual between the latest measurements and what the same method would
have said for them is added to the forecast, decaying as ``exp(-lead / blend_tau)`` with the
time since the measurement, so a kettle on now lifts the next minutes, not tomorrow.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal
from zoneinfo import ZoneInfo

import numpy as np

from agent.forecast.history import LoadHistory
from agent.forecast.prior import LoadPrior
from agent.forecast.records import Series, Vec
from agent.forecast.seed import SeedProfile
from agent.market.intervals import Interval

METHODS = ("weekly", "daily", "seed", "flat", "prior")
# The residual of measurements older than this says nothing about the next intervals.
_RESIDUAL_WINDOW_S = 900.0


@dataclass(frozen=True)
class BaseLoadSettings:
    weeks: int = 4
    recency: float = 0.7
    combine: Literal["mean", "median"] = "mean"
    default_kw: float = 0.4
    blend_tau_h: float = 1.0
    # No blend once the latest measurement is older than this (the meter went quiet).
    blend_max_age_h: float = 2.0


def _shifted_start(start: datetime, days: int, tz: ZoneInfo) -> float | None:
    """Epoch seconds of the same local wall time ``days`` earlier; None if it did not exist."""
    wall = start.replace(tzinfo=None) - timedelta(days=days)
    candidate = wall.replace(tzinfo=tz, fold=start.fold)
    if candidate.astimezone(ZoneInfo("UTC")).astimezone(tz).replace(tzinfo=None) != wall:
        return None  # in a DST gap
    return candidate.timestamp()


def _combine(values: Vec, weights: Vec, how: str) -> float:
    if how == "median":
        order = np.argsort(values)
        cum = np.cumsum(weights[order])
        return float(values[order][np.searchsorted(cum, cum[-1] / 2.0)])
    return float(np.dot(values, weights) / weights.sum())


class BaseLoadForecaster:
    def __init__(
        self,
        settings: BaseLoadSettings,
        tz: ZoneInfo,
        seed: SeedProfile | None = None,
        prior: LoadPrior | None = None,
    ) -> None:
        self.settings = settings
        self.tz = tz
        self.seed = seed
        self.prior = prior
        self.history = LoadHistory(keep_s=(settings.weeks * 7 + 1) * 86_400.0)
        self._first_s: float | None = None  # the oldest sample ever observed (the prior's blend)

    def observe(self, interval: Interval, kw: float) -> bool:
        added = self.history.add(interval.start_utc.timestamp(), interval.end_utc.timestamp(), kw)
        if added:
            start_s = interval.start_utc.timestamp()
            self._first_s = start_s if self._first_s is None else min(self._first_s, start_s)
        return added

    def history_days(self) -> float:
        last = self.history.last
        if last is None or self._first_s is None:
            return 0.0
        return (last[1] - self._first_s) / 86_400.0

    def _lookback(self, start: datetime, span_s: float, step_days: int, count: int) -> float | None:
        starts = [_shifted_start(start, step_days * k, self.tz) for k in range(1, count + 1)]
        found = [(k, s) for k, s in enumerate(starts) if s is not None]
        if not found:
            return None
        a = np.array([s for _, s in found])
        means = self.history.window_mean_kw(a, a + span_s)
        weights = np.array([self.settings.recency**k for k, _ in found])
        ok = np.isfinite(means)
        if not ok.any():
            return None
        return _combine(means[ok], weights[ok], self.settings.combine)

    def estimate(self, start_s: float, span_s: float) -> tuple[float, str]:
        """The model's value for one window (before blending) and the method that gave it."""
        start = datetime.fromtimestamp(start_s, self.tz)
        weekly = self._lookback(start, span_s, 7, self.settings.weeks)
        daily = None if weekly is not None else self._lookback(start, span_s, 1, 7)
        if self.prior is not None:
            found = weekly if weekly is not None else daily
            days = self.history_days()
            value = self.prior.blend(found, self.prior.window_mean_kw(start_s, span_s), days)
            if found is None or self.prior.weight(days) < 1.0:
                return value, "prior"
            return value, "weekly" if weekly is not None else "daily"
        if weekly is not None:
            return weekly, "weekly"
        if daily is not None:
            return daily, "daily"
        if self.seed is not None:
            seeded = self.seed.window_mean_kw(start_s, span_s)
            if np.isfinite(seeded):
                return seeded, "seed"
        mean = self.history.mean_kw()
        return (mean if np.isfinite(mean) else self.settings.default_kw), "flat"

    def _residual(self, now_s: float) -> tuple[float, float] | None:
        """(residual kW, end of the latest measurement) if the meter spoke recently enough."""
        last = self.history.last
        if last is None or now_s - last[1] > self.settings.blend_max_age_h * 3600.0:
            return None
        recent = self.history.recent(last[1] - _RESIDUAL_WINDOW_S)
        residuals = [kw - self.estimate(a, b - a)[0] for a, b, kw in recent]
        return float(np.mean(residuals)), last[1]

    def forecast(self, now: datetime, intervals: Sequence[Interval]) -> Series:
        values = np.empty(len(intervals))
        used: dict[str, int] = dict.fromkeys(METHODS, 0)
        for i, iv in enumerate(intervals):
            values[i], method = self.estimate(iv.start_utc.timestamp(), iv.span.total_seconds())
            used[method] += 1
        residual = self._residual(now.timestamp())
        if residual is not None and len(intervals):
            r, since_s = residual
            mids = np.array([(iv.start_utc + iv.span / 2).timestamp() for iv in intervals])
            lead_h = np.clip(mids - since_s, 0.0, None) / 3600.0
            values = values + r * np.exp(-lead_h / self.settings.blend_tau_h)
        values = np.clip(values, 0.0, None)
        return Series(
            "base_load_kw", values, now, self._describe(used, residual is not None), self._degraded(used)
        )

    def _describe(self, used: dict[str, int], blended: bool) -> str:
        parts = [f"{m} {n}" for m, n in used.items() if n]
        tail = " + latest measurement" if blended else ""
        return f"base load ({', '.join(parts) or 'empty horizon'}){tail}"

    def _degraded(self, used: dict[str, int]) -> str | None:
        short = {m: n for m, n in used.items() if n and m != "weekly"}
        if not short:
            return None
        total = sum(used.values())
        parts = ", ".join(f"{n} of {total} intervals {m}" for m, n in short.items())
        return f"history shorter than {self.settings.weeks} weeks: {parts}"
