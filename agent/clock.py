"""Injected time.

Every part of the agent asks a :class:`Clock` for the time and sleeps through it, never through
``datetime.now`` or ``asyncio.sleep`` directly, so the whole agent can run faster than real time
against the rig and deterministically in tests.
"""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime, timedelta
from typing import Protocol


class Clock(Protocol):
    def now(self) -> datetime:
        """The current instant, timezone-aware (UTC)."""
        ...

    def monotonic_s(self) -> float:
        """Seconds on a clock that never jumps back (for timeouts and ages)."""
        ...

    async def sleep(self, seconds: float) -> None:
        """Sleep for ``seconds`` of this clock's time."""
        ...


class RealClock:
    """Wall-clock time."""

    def now(self) -> datetime:
        return datetime.now(UTC)

    def monotonic_s(self) -> float:
        return time.monotonic()

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(max(0.0, seconds))


class ScaledClock:
    """Simulated time running ``speed`` times faster than real time from ``start``.

    ``jump`` moves the simulated time (a clock jump fault in the rig); the monotonic reading keeps
    increasing regardless, as a real monotonic clock would.
    """

    def __init__(self, start: datetime, speed: float = 1.0) -> None:
        if start.tzinfo is None:
            raise ValueError("start must be timezone-aware")
        if speed <= 0:
            raise ValueError("speed must be > 0")
        self._start = start.astimezone(UTC)
        self._speed = speed
        self._real0 = time.monotonic()
        self._offset_s = 0.0

    @property
    def speed(self) -> float:
        return self._speed

    def _elapsed_s(self) -> float:
        return (time.monotonic() - self._real0) * self._speed

    def now(self) -> datetime:
        return self._start + timedelta(seconds=self._elapsed_s() + self._offset_s)

    def monotonic_s(self) -> float:
        return self._elapsed_s()

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(max(0.0, seconds) / self._speed)

    def jump(self, seconds: float) -> None:
        self._offset_s += seconds


class ManualClock:
    """Time that moves only when told to: for tests.

    ``sleep`` waits until ``advance`` has moved the clock past the wake-up time, so tasks
    sleeping on it run in the order their deadlines fall.
    """

    def __init__(self, start: datetime) -> None:
        if start.tzinfo is None:
            raise ValueError("start must be timezone-aware")
        self._now = start.astimezone(UTC)
        self._mono_s = 0.0
        self._waiters: list[tuple[float, asyncio.Future[None]]] = []

    def now(self) -> datetime:
        return self._now

    def monotonic_s(self) -> float:
        return self._mono_s

    async def sleep(self, seconds: float) -> None:
        if seconds <= 0:
            await asyncio.sleep(0)
            return
        fut: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._waiters.append((self._mono_s + seconds, fut))
        await fut

    def advance(self, seconds: float) -> None:
        if seconds < 0:
            raise ValueError("a manual clock only moves forward; use a new clock to go back")
        self._now += timedelta(seconds=seconds)
        self._mono_s += seconds
        due = [w for w in self._waiters if w[0] <= self._mono_s]
        self._waiters = [w for w in self._waiters if w[0] > self._mono_s]
        for _, fut in sorted(due, key=lambda w: w[0]):
            if not fut.done():
                fut.set_result(None)
