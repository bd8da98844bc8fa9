"""The health of one device, as the web page and ``hems probe`` show it.

Failures are logged on the transition only: the first failure at WARNING, repeats at DEBUG, and
one INFO line "recovered" when the device answers again, so a device that is off for a night
leaves two log lines, not thousands.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from agent.clock import Clock
from drivers.errors import StaleValue

_log = logging.getLogger("drivers.health")


class HealthState(StrEnum):
    UNKNOWN = "unknown"  # not read yet
    OK = "ok"
    STALE = "stale"  # the link is up but values stopped arriving in time
    FAULT = "fault"  # the last request failed (timeout, protocol error, link down)


@dataclass(frozen=True, slots=True)
class HealthSnapshot:
    device: str
    state: HealthState
    last_seen: datetime | None
    last_error: str | None
    consecutive_failures: int
    since: datetime | None  # when the current state began

    def to_dict(self) -> dict[str, Any]:
        return {
            "device": self.device,
            "state": self.state.value,
            "last_seen": self.last_seen.isoformat() if self.last_seen else None,
            "last_error": self.last_error,
            "consecutive_failures": self.consecutive_failures,
            "since": self.since.isoformat() if self.since else None,
        }


class Health:
    """Tracks successes and failures of one device's I/O."""

    def __init__(self, device: str, clock: Clock, logger: logging.Logger | None = None) -> None:
        self.device = device
        self._clock = clock
        self._log = logger or _log
        self._state = HealthState.UNKNOWN
        self._last_seen: datetime | None = None
        self._last_error: str | None = None
        self._failures = 0
        self._since: datetime | None = None

    @property
    def state(self) -> HealthState:
        return self._state

    @property
    def consecutive_failures(self) -> int:
        return self._failures

    def _enter(self, state: HealthState) -> None:
        if state is not self._state:
            self._state = state
            self._since = self._clock.now()

    def record_ok(self) -> None:
        if self._failures:
            self._log.info("%s: recovered after %d failed attempt(s)", self.device, self._failures)
        self._failures = 0
        self._last_error = None
        self._last_seen = self._clock.now()
        self._enter(HealthState.OK)

    def record_failure(self, error: BaseException) -> None:
        self._failures += 1
        self._last_error = f"{type(error).__name__}: {error}"
        if self._failures == 1:
            self._log.warning("%s: %s", self.device, self._last_error)
        else:
            self._log.debug("%s: still failing (%d): %s", self.device, self._failures, self._last_error)
        self._enter(HealthState.STALE if isinstance(error, StaleValue) else HealthState.FAULT)

    @contextmanager
    def track(self) -> Iterator[None]:
        """Record the outcome of the I/O in the block; exceptions propagate unchanged."""
        try:
            yield
        except Exception as e:
            self.record_failure(e)
            raise
        self.record_ok()

    def snapshot(self) -> HealthSnapshot:
        return HealthSnapshot(
            self.device, self._state, self._last_seen, self._last_error, self._failures, self._since
        )
