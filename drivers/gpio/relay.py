"""A relay output on a GPIO pin: on/off or time-proportioned, within minimum on and off times.

The relay is driven by one control task. Callers only state what they want (``set_on`` or
``set_duty``) and return at once; the task switches as soon as the minimum times allow, so a
request that comes too early is deferred (the latest one wins), never dropped, and the limits
are never violated. Every switch is read back from the pin.

On ``stop`` the relay goes off at once, even inside its minimum on time: the agent is going
away and nothing would switch it off later, so the safe state wins.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
from typing import Any, Protocol, runtime_checkable

from agent.clock import Clock
from drivers.base import Capabilities, DeviceIdentity, DeviceReport, Health, Reading
from drivers.errors import DriverConfigError, WriteVerifyError
from drivers.gpio.pins import GpioPins
from drivers.gpio.timing import DutyPlanner, SwitchGuard

_log = logging.getLogger("drivers.gpio")


@runtime_checkable
class TimeProportioned(Protocol):
    """A switch that can realise a fraction of full power by duty cycle over a window."""

    async def set_duty(self, fraction: float) -> None:
        """Be on for ``fraction`` (0..1) of each window, on first, then off."""
        ...


class GpioRelay(DeviceIdentity):
    """A :class:`~drivers.base.Device` with the Switch capability (and :class:`TimeProportioned`)."""

    def __init__(
        self,
        name: str,
        pins: GpioPins,
        pin: int,
        clock: Clock,
        *,
        active_high: bool = True,
        min_on_s: float = 60.0,
        min_off_s: float = 60.0,
        window_s: float = 600.0,
    ) -> None:
        self._name = name
        self._driver = "gpio_relay"
        self._pins = pins
        self.pin = pin
        self._clock = clock
        self._active_high = active_high
        self._health = Health(name, clock)
        self._guard = SwitchGuard(min_on_s, min_off_s, now_s=clock.monotonic_s())
        try:
            self._planner = DutyPlanner(window_s, min_on_s, min_off_s)
        except ValueError as e:
            raise DriverConfigError(str(e), device=name, field="driver.window_s") from e
        self._out: Any = None
        self._task: asyncio.Task[None] | None = None
        self._kick = asyncio.Event()
        self._want_on = False
        self._duty: float | None = None  # None: plain on/off
        self._window_start_s = 0.0
        self._window_on_s = 0.0
        self._on_accum_s = 0.0  # on-time delivered in the current window so far
        self.switch_count = 0
        self._capabilities = Capabilities(switch=self)

    # -- Device protocol ------------------------------------------------------------------------

    async def start(self) -> None:
        if self._task is not None:
            return
        from gpiozero import DigitalOutputDevice, GPIOZeroError

        try:
            self._out = DigitalOutputDevice(
                self.pin, active_high=self._active_high, initial_value=False, pin_factory=self._pins.factory
            )
        except (GPIOZeroError, ValueError) as e:
            raise DriverConfigError(
                f"cannot use GPIO{self.pin}: {e}", device=self._name, field="driver.pin"
            ) from e
        self._guard = SwitchGuard(
            self._guard.min_on_s, self._guard.min_off_s, now_s=self._clock.monotonic_s()
        )
        self._verify(False)
        self._task = asyncio.get_running_loop().create_task(self._run(), name=f"relay {self._name}")

    async def refresh(self) -> None:
        with self._health.track():
            if self._out is None:
                raise DriverConfigError("relay is not started", device=self._name)
            self._verify(self._guard.on)

    async def stop(self) -> None:
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        if self._out is not None:
            self._out.off()  # the safe state, whatever the minimum on time says
            self._guard.switched(False, self._clock.monotonic_s())
            try:
                self._verify(False)
            finally:
                self._out.close()
                self._out = None

    def report(self) -> DeviceReport:
        values: dict[str, Reading[Any]] = {}
        errors: dict[str, str] = {}
        try:
            values["on"] = self.is_on()
        except DriverConfigError as e:
            errors["on"] = str(e)
        info = {
            "pin": f"GPIO{self.pin} ({'active high' if self._active_high else 'active low'})",
            "pins": "mock" if self._pins.is_mock else "real",
            "mode": "on/off" if self._duty is None else f"duty {self._duty:.0%}",
            "pending": str(self.pending),
        }
        return DeviceReport(
            self._name,
            self.driver,
            info,
            values,
            errors,
            self._health.snapshot(),
            self._capabilities.provided(),
        )

    # -- Switch / TimeProportioned --------------------------------------------------------------

    def is_on(self) -> Reading[bool]:
        """The pin's actual state, read now."""
        if self._out is None:
            raise DriverConfigError("relay is not started", device=self._name)
        on = bool(self._out.pin.state) == self._active_high
        return Reading(on, "", f"gpio:{self.pin}", self._clock.now(), self._clock.monotonic_s())

    async def set_on(self, on: bool) -> None:
        self._duty = None
        self._want_on = on
        self._apply_now()

    async def set_duty(self, fraction: float) -> None:
        if not (isinstance(fraction, int | float) and math.isfinite(fraction) and 0.0 <= fraction <= 1.0):
            raise DriverConfigError(f"duty must be within [0, 1], got {fraction!r}", device=self._name)
        if self._duty is None:
            self._planner.reset()
            self._begin_window(self._clock.monotonic_s(), float(fraction))
        self._duty = float(fraction)
        self._apply_now()

    def _apply_now(self) -> None:
        # Switch before returning when the guard allows (callers see the pin follow at once),
        # then wake the task so it plans its next look from the new state.
        if self._out is not None:
            self._step(self._clock.monotonic_s())
        self._kick.set()

    @property
    def pending(self) -> bool:
        """A requested state is waiting for a minimum time to pass."""
        return self._out is not None and self._desired(self._clock.monotonic_s())[0] != self._guard.on

    # -- control task ---------------------------------------------------------------------------

    def _begin_window(self, now_s: float, duty: float) -> None:
        self._window_start_s = now_s
        self._on_accum_s = 0.0
        self._window_on_s = self._planner.plan(duty)

    def _desired(self, now_s: float) -> tuple[bool, float]:
        """What the relay should be now, and when that next changes (inf: not on its own)."""
        if self._duty is None:
            return self._want_on, math.inf
        on_until = self._window_start_s + self._window_on_s
        if now_s < on_until:
            return True, on_until
        return False, self._window_start_s + self._planner.window_s

    def _step(self, now_s: float) -> float:
        """Apply the rules at ``now_s``; return when to look again."""
        if self._duty is not None and now_s >= self._window_start_s + self._planner.window_s:
            self._account(now_s)
            self._planner.close(self._on_accum_s)
            self._begin_window(self._window_start_s + self._planner.window_s, self._duty)
        want, change_s = self._desired(now_s)
        if want != self._guard.on:
            if self._guard.may_switch(now_s):
                self._switch(want, now_s)
            else:
                change_s = min(change_s, self._guard.earliest_switch_s())
        return change_s

    def _account(self, now_s: float) -> None:
        if self._guard.on:
            start = max(self._guard.since_s, self._window_start_s)
            self._on_accum_s += max(0.0, now_s - start)

    def _switch(self, on: bool, now_s: float) -> None:
        if not on:
            self._account(now_s)
        if on:
            self._out.on()
        else:
            self._out.off()
        self._guard.switched(on, now_s)
        self.switch_count += 1
        try:
            self._verify(on)
        except WriteVerifyError as e:
            self._health.record_failure(e)
            return
        self._health.record_ok()

    def _verify(self, on: bool) -> None:
        level = bool(self._out.pin.state)
        if (level == self._active_high) != on:
            raise WriteVerifyError(
                f"GPIO{self.pin} does not read back as {'on' if on else 'off'}",
                device=self._name,
                wanted=on,
                got=level == self._active_high,
            )

    async def _run(self) -> None:
        while True:
            self._kick.clear()
            now_s = self._clock.monotonic_s()
            wake_s = self._step(now_s)
            sleeper = (
                asyncio.ensure_future(self._clock.sleep(wake_s - now_s)) if math.isfinite(wake_s) else None
            )
            kicked = asyncio.ensure_future(self._kick.wait())
            waits = {kicked} if sleeper is None else {kicked, sleeper}
            try:
                await asyncio.wait(waits, return_when=asyncio.FIRST_COMPLETED)
            finally:
                for w in waits:
                    w.cancel()
