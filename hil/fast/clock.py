"""The agent's :class:`~agent.clock.Clock` on the virtual loop's time.

``now()`` is the scenario's start plus the loop's virtual seconds (plus any clock-jump fault);
``monotonic_s()`` is the loop's time itself, so every timeout in the agent, the link and the
simulated world is measured on one timeline; ``sleep`` is ``asyncio.sleep``, which the virtual
loop serves by jumping.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta


class VirtualClock:
    def __init__(self, start: datetime, loop: asyncio.AbstractEventLoop) -> None:
        if start.tzinfo is None:
            raise ValueError("start must be timezone-aware")
        self._start = start.astimezone(UTC)
        self._loop = loop
        self._t0 = loop.time()
        self._offset_s = 0.0

    def now(self) -> datetime:
        return self._start + timedelta(seconds=self._loop.time() - self._t0 + self._offset_s)

    def monotonic_s(self) -> float:
        return self._loop.time() - self._t0

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(max(0.0, seconds))

    def jump(self, seconds: float) -> None:
        """Move ``now()`` (the clock-jump fault); the monotonic reading does not move."""
        self._offset_s += seconds

    async def until(self, at: datetime) -> None:
        """Sleep until ``now()`` reaches ``at`` (re-checked, so a jump is honoured)."""
        while (left_s := (at - self.now()).total_seconds()) > 0:
            await self.sleep(left_s)
