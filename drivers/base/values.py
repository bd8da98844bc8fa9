"""A named set of monitors: the latest value of every quantity one device offers."""

from __future__ import annotations

from typing import Any

from agent.clock import Clock
from drivers.base.reading import Monitor, Reading
from drivers.errors import DriverError


class ValueStore:
    """Monitors by name, created on first ``set``; every value shares one staleness limit."""

    def __init__(self, clock: Clock, device: str, max_age_s: float) -> None:
        self._clock = clock
        self._device = device
        self._max_age_s = max_age_s
        self._monitors: dict[str, Monitor[Any]] = {}
        self._units: dict[str, str] = {}

    def declare(self, name: str, unit: str) -> None:
        """Announce a value before it arrives, so reads say "not received yet" not "unknown"."""
        if name not in self._monitors:
            self._monitors[name] = Monitor(
                self._clock, name=name, unit=unit, max_age_s=self._max_age_s, device=self._device
            )

    def set(self, name: str, value: Any, unit: str, source: str) -> None:
        self.declare(name, unit)
        self._monitors[name].set(value, source)

    def get(self, name: str) -> Reading[Any]:
        monitor = self._monitors.get(name)
        if monitor is None:
            raise DriverError(f"{self._device} does not provide {name}")
        return monitor.get()

    def number(self, name: str) -> Reading[float]:
        reading = self.get(name)
        return reading.with_value(float(reading.value))

    def has(self, name: str) -> bool:
        return name in self._monitors

    def names(self) -> tuple[str, ...]:
        return tuple(self._monitors)

    def report(self) -> tuple[dict[str, Reading[Any]], dict[str, str]]:
        """Fresh readings, and the reason for every value that is not."""
        values: dict[str, Reading[Any]] = {}
        errors: dict[str, str] = {}
        for name, monitor in self._monitors.items():
            try:
                values[name] = monitor.get()
            except DriverError as e:
                errors[name] = str(e)
        return values, errors
