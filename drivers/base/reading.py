"""Timestamped values, and the monitor that refuses to hand out old ones.

A :class:`Reading` is what every capability getter returns: the value, its unit, where it came
from and when. A :class:`Monitor` holds the latest reading of a value that is pushed to us (MQTT)
or polled into a cache (Modbus) and raises :class:`~drivers.errors.StaleValue` once it is older
than its limit, so an old number can never pass as a current one.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Generic, TypeVar

from agent.clock import Clock
from drivers.errors import StaleValue

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class Reading(Generic[T]):
    """One value as read from a device.

    ``at`` is the wall-clock time of receipt (for display and logs); ``mono_s`` the monotonic
    time of receipt, from which ages are computed (wall time may jump).
    """

    value: T
    unit: str
    source: str
    at: datetime
    mono_s: float

    def age_s(self, clock: Clock) -> float:
        return max(0.0, clock.monotonic_s() - self.mono_s)

    def with_value(self, value: T) -> Reading[T]:
        """The same provenance with a derived value (e.g. a sign flipped to our convention)."""
        return Reading(value, self.unit, self.source, self.at, self.mono_s)


class Monitor(Generic[T]):
    """The latest value of one quantity, readable only while younger than ``max_age_s``."""

    def __init__(self, clock: Clock, *, name: str, unit: str, max_age_s: float, device: str | None = None):
        if max_age_s <= 0:
            raise ValueError("max_age_s must be > 0")
        self._clock = clock
        self.name = name
        self.unit = unit
        self.max_age_s = max_age_s
        self._device = device
        self._last: Reading[T] | None = None

    def set(self, value: T, source: str) -> Reading[T]:
        reading = Reading(value, self.unit, source, self._clock.now(), self._clock.monotonic_s())
        self._last = reading
        return reading

    def clear(self) -> None:
        """Forget the value (the device said it went offline): reads fail until the next set."""
        self._last = None

    @property
    def has_value(self) -> bool:
        return self._last is not None

    def get(self) -> Reading[T]:
        """The current reading; :class:`StaleValue` if none arrived yet or it is too old."""
        last = self.last()
        age_s = last.age_s(self._clock)
        if age_s > self.max_age_s:
            raise StaleValue(
                f"{self.name} is {age_s:.1f} s old (limit {self.max_age_s:g} s)", device=self._device
            )
        return last

    def last(self) -> Reading[T]:
        """The latest reading whatever its age (for display with its age); stale if none yet."""
        if self._last is None:
            raise StaleValue(f"{self.name} has not been received yet", device=self._device)
        return self._last

    def is_fresh(self) -> bool:
        return self._last is not None and self._last.age_s(self._clock) <= self.max_age_s
