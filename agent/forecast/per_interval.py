"""Values worked out per interval and kept: consecutive plans ask for nearly the same horizon,
so only its newest intervals are new. Keyed by the interval's start and end (UTC)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Generic, TypeVar

from agent.market.intervals import Interval

T = TypeVar("T")
# Kept values beyond this many horizons' worth are pruned: those of intervals before the
# earliest asked for go (plans only move forward).
KEEP_HORIZONS = 4


class PerInterval(Generic[T]):
    def __init__(self, work_out: Callable[[list[Interval]], Sequence[T]]) -> None:
        """``work_out``: the values of the intervals not kept yet, one each, in their order."""
        self._work_out = work_out
        self._kept: dict[tuple[datetime, datetime], T] = {}

    def over(self, intervals: Sequence[Interval]) -> list[T]:
        kept = self._kept
        keys = [(iv.start_utc, iv.end_utc) for iv in intervals]
        new = [i for i, key in enumerate(keys) if key not in kept]
        if new:
            for i, value in zip(new, self._work_out([intervals[i] for i in new]), strict=True):
                kept[keys[i]] = value
        values = [kept[key] for key in keys]
        if keys and len(kept) > KEEP_HORIZONS * len(keys):
            first = min(keys)
            self._kept = {key: v for key, v in kept.items() if key >= first}
        return values
