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

import functools
import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Literal
from zoneinfo import ZoneInfo

import numpy as np

from agent.forecast.history import LoadHistory
from agent.forecast.memo import WindowMemo
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


@functools.lru_cache(maxsize=1 << 16)
def _shifted_start(start: datetime, days: int, tz: ZoneInfo) -> float | None:
    """Epoch seconds of the same local wall time ``days`` earlier; None if it did not exist.

    Kept: consecutive plans ask for the same intervals' lookbacks again and again."""
    wall = start.replace(tzinfo=None) - timedelta(days=days)
    candidate = wall.replace(tzinfo=tz, fold=start.fold)
    if candidate.astimezone(UTC).astimezone(tz).replace(tzinfo=None) != wall:
        return None  # in a DST gap
    return candidate.timestamp()


@functools.lru_cache(maxsize=4096)
def _lookback_starts(
    start: datetime, step_days: int, count: int, tz: ZoneInfo
) -> tuple[tuple[int, float], ...]:
    """(k, epoch seconds) of the same wall time ``step_days * (k + 1)`` days before ``start``,
    for k < ``count``, skipping those in a DST gap. Kept: each plan asks again for the windows
    the previous plans asked for."""
    shifted = ((k, _shifted_start(start, step_days * (k + 1), tz)) for k in range(count))
    return tuple((k, s) for k, s in shifted if s is not None)


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
        self._memo = WindowMemo(settings.weeks)

    def observe(self, interval: Interval, kw: float) -> bool:
        seen = self.history.version
        added = self.history.add(interval.start_utc.timestamp(), interval.end_utc.timestamp(), kw)
        if added:
            self._memo.changed(self.history, seen)
            start_s = interval.start_utc.timestamp()
            self._first_s = start_s if self._first_s is None else min(self._first_s, start_s)
        return added

    def history_days(self) -> float:
        last = self.history.last
        if last is None or self._first_s is None:
            return 0.0
        return (last[1] - self._first_s) / 86_400.0

    def _lookback(
        self, starts: Sequence[datetime], spans_s: Sequence[float], step_days: int, count: int
    ) -> Vec:
        """Per window: the combined mean of the same wall time ``step_days * k`` days earlier
        (k = 1..count); NaN where none of those has history. One pass over the history for all."""
        rows: list[int] = []
        shifts: list[int] = []
        a: list[float] = []
        b: list[float] = []
        for i, (start, span_s) in enumerate(zip(starts, spans_s, strict=True)):
            for k, s in _lookback_starts(start, step_days, count, self.tz):
                rows.append(i)
                shifts.append(k)
                a.append(s)
                b.append(s + span_s)
        out = np.full(len(starts), np.nan)
        if not rows:
            return out
        means = self.history.window_mean_kw(np.array(a), np.array(b))
        weights = self.settings.recency ** np.array(shifts, dtype=np.float64)
        ok = np.isfinite(means)
        index = np.array(rows)
        if self.settings.combine == "mean":
            # All windows at once (a plan asks for some 200): sums of weights and of weighted means.
            w = np.where(ok, weights, 0.0)
            total_w = np.bincount(index, weights=w, minlength=len(starts))
            total = np.bincount(index, weights=w * np.where(ok, means, 0.0), minlength=len(starts))
            found = total_w > 0.0
            out[found] = total[found] / total_w[found]
            return out
        # rows ascend: each window's lookbacks are one contiguous run
        bounds = np.searchsorted(index, np.arange(len(starts) + 1))
        for i in range(len(starts)):
            lo, hi = bounds[i], bounds[i + 1]
            sel = ok[lo:hi]
            if sel.any():
                out[i] = _combine(means[lo:hi][sel], weights[lo:hi][sel], self.settings.combine)
        return out

    def estimate_many(self, starts_s: Sequence[float], spans_s: Sequence[float]) -> tuple[Vec, list[str]]:
        """The model's value for each window (before blending) and the method that gave it."""
        values, methods = self._from_history(starts_s, spans_s)
        if self.prior is not None:
            # History blended over the prior by its days (the prior alone where none is found).
            days = self.history_days()
            full = self.prior.weight(days) >= 1.0
            for i in range(len(starts_s)):
                found = float(values[i]) if methods[i] else None
                if found is not None and full:
                    continue  # the history alone (the prior's weight is nil)
                values[i] = self.prior.blend(found, self.prior.window_mean_kw(starts_s[i], spans_s[i]), days)
                methods[i] = "prior"
            return values, methods
        for i in (i for i, m in enumerate(methods) if not m):
            if self.seed is not None:
                seeded = self.seed.window_mean_kw(starts_s[i], spans_s[i])
                if np.isfinite(seeded):
                    values[i], methods[i] = seeded, "seed"
                    continue
            mean = self.history.mean_kw()
            values[i], methods[i] = (mean if np.isfinite(mean) else self.settings.default_kw), "flat"
        return values, methods

    def _from_history(self, starts_s: Sequence[float], spans_s: Sequence[float]) -> tuple[Vec, list[str]]:
        """Steps 1 and 2 for each window: the weekly or daily value and its method ("" where
        neither has history). Windows answered before are taken from the memo."""
        self._memo.check(self.history)
        values = np.full(len(starts_s), np.nan)
        methods = [""] * len(starts_s)
        todo: list[int] = []
        for i, key in enumerate(zip(starts_s, spans_s, strict=True)):
            known = self._memo.get(key)
            if known is None:
                todo.append(i)
            else:
                values[i], methods[i] = known
        if not todo:
            return values, methods
        starts = [datetime.fromtimestamp(starts_s[i], self.tz) for i in todo]
        spans = [spans_s[i] for i in todo]
        weekly = self._lookback(starts, spans, 7, self.settings.weeks)
        rest = [j for j, v in enumerate(weekly) if not np.isfinite(v)]
        daily: Vec | list[float] = (
            self._lookback([starts[j] for j in rest], [spans[j] for j in rest], 1, 7) if rest else []
        )
        by_row = dict(zip(rest, daily, strict=True))
        for j, i in enumerate(todo):
            if np.isfinite(weekly[j]):
                value, method = float(weekly[j]), "weekly"
            elif np.isfinite(by_row[j]):
                value, method = float(by_row[j]), "daily"
            else:
                value, method = math.nan, ""
            values[i], methods[i] = value, method
            self._memo.put((starts_s[i], spans_s[i]), value, method)
        return values, methods

    def estimate(self, start_s: float, span_s: float) -> tuple[float, str]:
        """The model's value for one window (before blending) and the method that gave it."""
        values, methods = self.estimate_many([start_s], [span_s])
        return float(values[0]), methods[0]

    def _residual(self, now_s: float) -> tuple[float, float] | None:
        """(residual kW, end of the latest measurement) if the meter spoke recently enough."""
        last = self.history.last
        if last is None or now_s - last[1] > self.settings.blend_max_age_h * 3600.0:
            return None
        recent = self.history.recent(last[1] - _RESIDUAL_WINDOW_S)
        model, _ = self.estimate_many([a for a, _, _ in recent], [b - a for a, b, _ in recent])
        residuals = [kw - float(m) for (_, _, kw), m in zip(recent, model, strict=True)]
        return float(np.mean(residuals)), last[1]

    def forecast(self, now: datetime, intervals: Sequence[Interval]) -> Series:
        values, methods = self.estimate_many(
            [iv.start_utc.timestamp() for iv in intervals], [iv.span.total_seconds() for iv in intervals]
        )
        used: dict[str, int] = dict.fromkeys(METHODS, 0)
        for method in methods:
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
