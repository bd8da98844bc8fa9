"""GPIO relays on gpiozero mock pins, with time from a ManualClock."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from gpiozero.pins.mock import MockFactory, MockPin

from agent.clock import ManualClock
from drivers.base import DeviceContext, HealthState, LinkPool
from drivers.errors import DriverConfigError, WriteVerifyError
from drivers.gpio.factory import create_device
from drivers.gpio.pins import GpioPins, make_pin_factory
from drivers.gpio.relay import GpioRelay, TimeProportioned

STEP_S = 1.0


class Trace:
    """Samples the pin every STEP_S of clock time, to measure on-time and segment lengths."""

    def __init__(self) -> None:
        self.samples: list[bool] = []

    def on_s(self) -> float:
        return sum(self.samples) * STEP_S

    def segments(self) -> list[tuple[bool, float]]:
        out: list[tuple[bool, float]] = []
        for s in self.samples:
            if out and out[-1][0] == s:
                out[-1] = (s, out[-1][1] + STEP_S)
            else:
                out.append((s, STEP_S))
        return out


async def run_for(clock: ManualClock, relay: GpioRelay, seconds: float, trace: Trace | None = None) -> None:
    for _ in range(round(seconds / STEP_S)):
        if trace is not None:
            trace.samples.append(relay.is_on().value)
        clock.advance(STEP_S)
        for _ in range(6):  # let the control task wake, step and go back to sleep
            await asyncio.sleep(0)


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(datetime(2026, 1, 1, tzinfo=UTC))


@pytest.fixture
async def make_relay(clock: ManualClock) -> AsyncIterator[Callable[..., Awaitable[GpioRelay]]]:
    factory = MockFactory()
    made: list[GpioRelay] = []

    async def make(pin: int = 17, **kw: Any) -> GpioRelay:
        relay = GpioRelay("heater", GpioPins(factory), pin, clock, **kw)
        await relay.start()
        made.append(relay)
        return relay

    yield make
    for r in made:
        await r.stop()
    factory.close()


async def test_on_waits_for_min_off_from_start_then_switches(make_relay: Any, clock: ManualClock) -> None:
    relay = await make_relay(min_on_s=60, min_off_s=30)
    await relay.set_on(True)  # at t=0: the load may have just been switched off: deferred
    assert relay.is_on().value is False
    assert relay.pending
    await run_for(clock, relay, 29)
    assert relay.is_on().value is False
    await run_for(clock, relay, 1)
    assert relay.is_on().value is True
    assert not relay.pending


async def test_off_request_inside_min_on_is_deferred_not_dropped(make_relay: Any, clock: ManualClock) -> None:
    relay = await make_relay(min_on_s=60, min_off_s=0)
    await relay.set_on(True)
    assert relay.is_on().value is True  # no minimum off time: at once
    await run_for(clock, relay, 10)
    await relay.set_on(False)
    assert relay.is_on().value is True
    await run_for(clock, relay, 49)
    assert relay.is_on().value is True
    await run_for(clock, relay, 1)
    assert relay.is_on().value is False
    assert relay.switch_count == 2


async def test_latest_request_wins_while_deferred(make_relay: Any, clock: ManualClock) -> None:
    relay = await make_relay(min_on_s=60, min_off_s=60)
    await relay.set_on(True)
    await run_for(clock, relay, 20)
    await relay.set_on(False)  # changed its mind before the relay could act
    await run_for(clock, relay, 100)
    assert relay.is_on().value is False
    assert relay.switch_count == 0


async def test_rapid_toggling_never_violates_min_times(make_relay: Any, clock: ManualClock) -> None:
    relay = await make_relay(min_on_s=45, min_off_s=30)
    trace = Trace()
    for i in range(60):
        await relay.set_on(i % 2 == 0)
        await run_for(clock, relay, 7, trace)
    segments = trace.segments()
    assert len(segments) > 4
    for on, length in segments[1:-1]:  # first (since start) and last (cut off) are partial
        assert length >= (45 if on else 30), segments


@pytest.mark.parametrize("duty", [0.0, 0.05, 0.3, 0.5, 0.93, 1.0])
async def test_time_proportioning_duty_is_accurate_over_windows(
    make_relay: Any, clock: ManualClock, duty: float
) -> None:
    relay = await make_relay(min_on_s=60, min_off_s=60, window_s=600)
    proportioned: object = relay
    assert isinstance(proportioned, TimeProportioned)
    await run_for(clock, relay, 60)  # past the start-up minimum off time
    await relay.set_duty(duty)
    trace = Trace()
    windows = 10
    await run_for(clock, relay, 600 * windows, trace)
    # 0.05 and 0.93 are below min_on / above window - min_off in one window: only the
    # carried error makes the long-run duty right. One window's rounding may remain.
    assert abs(trace.on_s() - duty * 600 * windows) <= 60 + 2 * STEP_S
    for _on, length in trace.segments()[1:-1]:
        assert length >= 60  # min_on_s and min_off_s are both 60
    assert relay.health.state in (HealthState.OK, HealthState.UNKNOWN)


async def test_duty_change_and_back_to_plain_on_off(make_relay: Any, clock: ManualClock) -> None:
    relay = await make_relay(min_on_s=10, min_off_s=10, window_s=100)
    await run_for(clock, relay, 10)
    await relay.set_duty(0.5)
    assert relay.is_on().value is True  # a window starts with its on part
    await run_for(clock, relay, 50)
    assert relay.is_on().value is False
    await relay.set_on(True)  # plain on: after the minimum off time
    await run_for(clock, relay, 10)
    assert relay.is_on().value is True
    await run_for(clock, relay, 300)
    assert relay.is_on().value is True
    with pytest.raises(DriverConfigError, match="duty"):
        await relay.set_duty(1.5)


async def test_stop_switches_off_at_once_even_inside_min_on(make_relay: Any, clock: ManualClock) -> None:
    factory = MockFactory()
    relay = GpioRelay("boiler", GpioPins(factory), 22, clock, min_on_s=600, min_off_s=0)
    await relay.start()
    await relay.set_on(True)
    pin = factory.pin(22)
    assert level(pin) is True
    await relay.stop()
    assert level(pin) is False  # safe state
    assert pin.function == "input"  # released
    factory.close()


async def test_active_low_relay_reads_back_logically(make_relay: Any, clock: ManualClock) -> None:
    relay = await make_relay(pin=27, active_high=False, min_on_s=0, min_off_s=0)
    assert relay.is_on().value is False
    assert relay._out.pin.state is True  # active low: off is a high level
    await relay.set_on(True)
    assert relay.is_on().value is True
    assert relay._out.pin.state is False


def level(pin: Any) -> bool:
    return bool(pin.state)


class StuckPin(MockPin):  # type: ignore[misc]
    """A pin whose driver stage is broken: the level stays low whatever is written."""

    def _change_state(self, value: bool) -> bool:
        return False


async def test_pin_that_does_not_follow_gives_write_verify_error(clock: ManualClock) -> None:
    factory = MockFactory(pin_class=StuckPin)
    relay = GpioRelay("heater", GpioPins(factory), 5, clock, min_on_s=0, min_off_s=0)
    await relay.start()
    await relay.set_on(True)
    assert relay.health.state is HealthState.FAULT
    with pytest.raises(WriteVerifyError) as info:
        await relay.refresh()
    assert info.value.wanted is True
    assert info.value.got is False
    await relay.stop()
    factory.close()


async def test_pin_in_use_or_invalid_is_a_config_error(make_relay: Any) -> None:
    await make_relay(pin=17)
    with pytest.raises(DriverConfigError, match="GPIO17"):
        await make_relay(pin=17)
    with pytest.raises(DriverConfigError, match="GPIO99"):
        await make_relay(pin=99)


def test_window_too_short_for_min_times_is_a_config_error(clock: ManualClock) -> None:
    with pytest.raises(DriverConfigError, match="window_s"):
        GpioRelay("x", GpioPins(MockFactory()), 4, clock, min_on_s=60, min_off_s=60, window_s=100)


async def test_factory_shares_one_pin_factory(clock: ManualClock, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HEMS_GPIO_PINS", "mock")
    ctx = DeviceContext(clock=clock, links=LinkPool())
    settings = SimpleNamespace(
        type="gpio_relay", pin=23, active_high=True, min_on_s=0, min_off_s=0, window_s=60
    )
    a = create_device("a", settings, ctx)
    b = create_device("b", SimpleNamespace(**{**vars(settings), "pin": 24}), ctx)
    assert ctx.links.keys() == ("gpio",)
    await a.start()
    await b.start()
    await a.capabilities.switch.set_on(True)  # type: ignore[union-attr]
    assert a.is_on().value is True
    assert b.is_on().value is False
    await a.stop()
    await b.stop()
    await ctx.links.close_all()


def test_pin_factory_choice(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("HEMS_GPIO_PINS", raising=False)
    monkeypatch.delenv("GPIOZERO_PIN_FACTORY", raising=False)
    pi = tmp_path / "model-pi"
    pi.write_text("Raspberry Pi 4 Model B Rev 1.4\x00")
    laptop = tmp_path / "model-none"
    assert isinstance(make_pin_factory("auto", model_file=laptop), MockFactory)
    assert isinstance(make_pin_factory("mock", model_file=laptop), MockFactory)
    with pytest.raises(DriverConfigError, match="real Raspberry Pi"):
        make_pin_factory("mock", model_file=pi)
    monkeypatch.setenv("HEMS_GPIO_PINS", "mock")
    with pytest.raises(DriverConfigError, match="real Raspberry Pi"):
        make_pin_factory(model_file=pi)
    monkeypatch.setenv("HEMS_GPIO_PINS", "auto")
    monkeypatch.setenv("GPIOZERO_PIN_FACTORY", "mock")  # gpiozero's own switch must not sneak mock in
    with pytest.raises(DriverConfigError, match="mock pins"):
        make_pin_factory(model_file=pi)
    with pytest.raises(DriverConfigError, match="unknown pin factory 'gpiod'"):
        make_pin_factory("gpiod", model_file=laptop)
