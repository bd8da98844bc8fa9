"""Polling the devices: every driver refreshed concurrently, each bounded by its own timeout.

A device that fails its refresh keeps its Health state (the driver records it) and the others
are not held up; the cycle then reads whatever is fresh through the snapshot.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping

from agent.cancel import honour_cancellation
from agent.clock import Clock
from drivers.base import Device
from drivers.errors import DriverError

log = logging.getLogger(__name__)

# A Modbus round trip on a busy RTU bus with a few devices takes well under a second; five
# seconds leaves room for a reconnect without letting one dead device stall the cycle.
REFRESH_TIMEOUT_S = 5.0


async def _refresh(name: str, device: Device, timeout_s: float) -> str | None:
    try:
        await asyncio.wait_for(device.refresh(), timeout_s)
    except DriverError as e:
        # Before TimeoutError: a device's own DeviceTimeout (also a TimeoutError) names the
        # link's real limit, where this one would call it the refresh's 5 s.
        return f"{name}: {e}"
    except TimeoutError:
        return f"{name}: refresh took longer than {timeout_s:g} s"
    return None


async def refresh_all(devices: Mapping[str, Device], timeout_s: float = REFRESH_TIMEOUT_S) -> dict[str, str]:
    """Refresh every device at once; returns the failures by device name (empty when all answered)."""
    names = list(devices)
    results = await asyncio.gather(*(_refresh(n, devices[n], timeout_s) for n in names))
    return {n: r for n, r in zip(names, results, strict=True) if r is not None}


async def start_all(devices: Mapping[str, Device], timeout_s: float = REFRESH_TIMEOUT_S) -> None:
    """Start every device; a device that is absent now is not an error (drivers reconnect)."""

    async def one(name: str, device: Device) -> None:
        try:
            await asyncio.wait_for(device.start(), timeout_s)
        except (TimeoutError, DriverError) as e:
            log.warning("device %s did not start cleanly: %s", name, e)

    await asyncio.gather(*(one(n, d) for n, d in devices.items()))


class Poller:
    """The driver pollers: one loop per device, each refreshing its device every ``period_s``.

    Separate loops, so a device that times out (a meter unplugged, a Modbus bus in backoff) never
    delays the polling of the others. The control cycle reads what the pollers (and the
    push-based drivers) left behind; it never waits on a device. ``failures`` holds each
    device's last failure for the status page; ``polled`` is set after every device has been
    asked once.
    """

    def __init__(self, devices: Mapping[str, Device], clock: Clock, period_s: float) -> None:
        self._devices = devices
        self._clock = clock
        self._period_s = period_s
        self.rounds = 0
        self.failures: dict[str, str] = {}
        self.polled = asyncio.Event()
        self._asked: set[str] = set()

    async def run(self) -> None:
        if not self._devices:
            self.polled.set()
            return
        await asyncio.gather(*(self._poll(name, device) for name, device in self._devices.items()))

    async def _poll(self, name: str, device: Device) -> None:
        while True:
            honour_cancellation()
            started_s = self._clock.monotonic_s()
            failure = await _refresh(name, device, REFRESH_TIMEOUT_S)
            # Python 3.11's wait_for may swallow a stop that lands as the refresh completes; the
            # loop's top is a whole period away.
            honour_cancellation()
            if failure is None:
                self.failures.pop(name, None)
            else:
                self.failures[name] = failure
            self._asked.add(name)
            if len(self._asked) == len(self._devices):
                self.rounds += 1
                self._asked.clear()
                self.polled.set()
            await self._clock.sleep(max(0.0, self._period_s - (self._clock.monotonic_s() - started_s)))
