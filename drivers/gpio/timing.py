"""Relay timing rules, free of I/O: minimum on/off times and time-proportioning.

:class:`SwitchGuard` says when a relay may change state: not before it has been on for
``min_on_s`` or off for ``min_off_s``. It starts as "just switched off" at start-up, because how
long the load was really off before the agent started is unknown (a compressor that was running
a moment ago must not be restarted at once).

:class:`DutyPlanner` turns a duty fraction into an on-time per window of ``window_s`` seconds
(on first, then off). On-times shorter than ``min_on_s``, or off-times shorter than
``min_off_s``, cannot be realised; they are rounded to the nearest realisable value and the
difference is carried into the next window (error diffusion), so the duty over many windows is
exact even when single windows cannot be.
"""

from __future__ import annotations

import math


class SwitchGuard:
    def __init__(self, min_on_s: float, min_off_s: float, *, now_s: float) -> None:
        if min_on_s < 0 or min_off_s < 0:
            raise ValueError("minimum times must be >= 0")
        self.min_on_s = min_on_s
        self.min_off_s = min_off_s
        self.on = False
        self.since_s = now_s

    def earliest_switch_s(self) -> float:
        """The first instant the relay may leave its current state."""
        return self.since_s + (self.min_on_s if self.on else self.min_off_s)

    def may_switch(self, now_s: float) -> bool:
        return now_s >= self.earliest_switch_s()

    def switched(self, on: bool, now_s: float) -> None:
        if on != self.on:
            self.on = on
            self.since_s = now_s


class DutyPlanner:
    def __init__(self, window_s: float, min_on_s: float, min_off_s: float) -> None:
        if window_s <= 0:
            raise ValueError("window_s must be > 0")
        if min_on_s + min_off_s > window_s:
            raise ValueError("window_s must be >= min_on_s + min_off_s")
        self.window_s = window_s
        self.min_on_s = min_on_s
        self.min_off_s = min_off_s
        self.carry_s = 0.0
        self._target_s = 0.0

    def plan(self, duty: float) -> float:
        """On-seconds for the next window at ``duty`` (0..1), including the carried error."""
        if not (math.isfinite(duty) and 0.0 <= duty <= 1.0):
            raise ValueError(f"duty must be within [0, 1], got {duty!r}")
        target = duty * self.window_s + self.carry_s
        self._target_s = target
        return self._realisable(target)

    def close(self, actual_on_s: float) -> None:
        """Record what the window really delivered (deferrals included); carry the difference."""
        # Bounded so a long stretch that could not follow the plan does not wind up a debt
        # that would pin the relay on or off for many windows afterwards.
        self.carry_s = max(-self.window_s, min(self.window_s, self._target_s - actual_on_s))
        self._target_s = 0.0

    def reset(self) -> None:
        self.carry_s = 0.0
        self._target_s = 0.0

    def _realisable(self, target: float) -> float:
        w, lo, hi = self.window_s, self.min_on_s, self.window_s - self.min_off_s
        if target <= 0:
            return 0.0
        if target >= w:
            return w
        if target < lo:
            return lo if target - 0 > lo - target else 0.0
        if target > hi:
            return w if w - target < target - hi else hi
        return target
