"""A scaled clock that holds at its start until released, so two processes share one timeline.

The closed loop runs the world (rig, retailer, broker) in one process and the agent in another;
both build everything while their clocks hold still at the scenario's start, then both are
released at the same ``time.monotonic()`` instant (system-wide on Linux) and run ``speed`` times
faster than real time from there, in step. ``jump`` moves simulated time (the clock-jump fault).
"""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime, timedelta


class HeldClock:
    def __init__(self, start: datetime, speed: float) -> None:
        if start.tzinfo is None:
            raise ValueError("start must be timezone-aware")
        if speed <= 0:
            raise ValueError("speed must be > 0")
        self._start = start.astimezone(UTC)
        self.speed = speed
        self._real0: float | None = None
        self._offset_s = 0.0

    def release(self, real0: float) -> None:
        """Run from ``real0`` (a ``time.monotonic()`` reading, possibly slightly in the future)."""
        self._real0 = real0

    @property
    def released(self) -> bool:
        return self._real0 is not None

    def _elapsed_s(self) -> float:
        if self._real0 is None:
            return 0.0
        return max(0.0, (time.monotonic() - self._real0) * self.speed)

    def now(self) -> datetime:
        return self._start + timedelta(seconds=self._elapsed_s() + self._offset_s)

    def monotonic_s(self) -> float:
        return self._elapsed_s()

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(max(0.0, seconds) / self.speed)

    def jump(self, seconds: float) -> None:
        self._offset_s += seconds

    async def until(self, at: datetime) -> None:
        """Sleep until ``now()`` reaches ``at`` (re-checked, so a jump is honoured)."""
        while (left_s := (at - self.now()).total_seconds()) > 0:
            await self.sleep(min(left_s, 600.0))
