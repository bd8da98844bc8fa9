"""The systemd watchdog, fed only while the control cycle is alive.

systemd restarts the service when no ``WATCHDOG=1`` arrives within ``WatchdogSec=``. Pinging
from a free-running timer would keep a service with a hung control cycle alive, so the cycle
calls :meth:`Watchdog.beat` after each good pass and :meth:`Watchdog.run` pings at half the
period only while the last beat is recent.

Ages here use the host's real monotonic clock, not the agent's injected clock: systemd
measures the period in real time, also when the agent runs accelerated against the rig.
"""

from __future__ import annotations

import asyncio
import logging
import os
import time
from collections.abc import Callable, Mapping

from agent.systemd.errors import NotifyError
from agent.systemd.notify import Notifier

_log = logging.getLogger("agent.systemd")


def watchdog_period_s(environ: Mapping[str, str] | None = None, pid: int | None = None) -> float | None:
    """The watchdog period systemd asks for, in seconds; ``None`` when the watchdog is off.

    Like sd_watchdog_enabled(3): ``WATCHDOG_USEC`` gives the period; ``WATCHDOG_PID``, when
    set, must be our pid (else the variable was inherited from a parent and is not for us).
    """
    env = os.environ if environ is None else environ
    raw_usec = env.get("WATCHDOG_USEC")
    if not raw_usec:
        return None
    try:
        usec = int(raw_usec)
    except ValueError as e:
        raise NotifyError("WATCHDOG_USEC", f"must be an integer of microseconds (got {raw_usec!r})") from e
    if usec <= 0:
        raise NotifyError("WATCHDOG_USEC", f"must be > 0 (got {usec})")
    raw_pid = env.get("WATCHDOG_PID")
    if raw_pid:
        try:
            owner = int(raw_pid)
        except ValueError as e:
            raise NotifyError("WATCHDOG_PID", f"must be a process id (got {raw_pid!r})") from e
        if owner != (os.getpid() if pid is None else pid):
            return None
    return usec / 1_000_000


class Watchdog:
    def __init__(
        self,
        notifier: Notifier,
        period_s: float | None = None,
        *,
        environ: Mapping[str, str] | None = None,
        monotonic_s: Callable[[], float] = time.monotonic,
    ) -> None:
        self._notifier = notifier
        self.period_s = period_s if period_s is not None else watchdog_period_s(environ)
        self._mono = monotonic_s
        self._last_beat_s: float | None = None
        self._stalled = False
        self.pings = 0

    @property
    def enabled(self) -> bool:
        return self._notifier.enabled and self.period_s is not None

    @property
    def interval_s(self) -> float | None:
        """How often to ping: half the period, as systemd recommends."""
        return None if self.period_s is None else self.period_s / 2

    def beat(self) -> None:
        """The control cycle completed a pass."""
        self._last_beat_s = self._mono()

    def alive(self) -> bool:
        """Whether the last beat is younger than one watchdog period."""
        if self._last_beat_s is None or self.period_s is None:
            return False
        return self._mono() - self._last_beat_s <= self.period_s

    def ping_if_alive(self) -> bool:
        if not self.enabled:
            return False
        if not self.alive():
            if not self._stalled:
                _log.error(
                    "control cycle has not completed for %.0f s: withholding the watchdog ping",
                    self._mono() - (self._last_beat_s or self._mono()),
                )
            self._stalled = True
            return False
        if self._stalled:
            _log.info("control cycle recovered: watchdog pings resume")
            self._stalled = False
        sent = self._notifier.watchdog_ping()
        self.pings += int(sent)
        return sent

    async def run(self) -> None:
        """Ping every half period while the cycle beats; returns at once when disabled."""
        interval = self.interval_s
        if not self.enabled or interval is None:
            return
        while True:
            self.ping_if_alive()
            await asyncio.sleep(interval)  # real time: see the module docstring
