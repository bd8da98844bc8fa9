"""Dispatch through the real drivers: a pymodbus SunSpec battery and meter on loopback, and a
GPIO relay on gpiozero's mock pins. What was written must lie within limits and read back."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from agent.clock import ManualClock, RealClock
from agent.config.loader import parse_config
from agent.dispatch import (
    BatteryTarget,
    Dispatcher,
    DispatchSettings,
    DispatchTarget,
    Mode,
    WaterHeaterTarget,
    capture,
)
from drivers.assembly import build_devices
from drivers.base import Device, DeviceContext, stop_all
from drivers.errors import DriverError
from drivers.gpio.pins import GpioPins
from drivers.modbus.sunspec.decode import ModelValues, decode_model
from drivers.modbus.sunspec.image import build_image
from drivers.modbus.sunspec.models import load_model
from tests.dispatch.conftest import T0
from tests.drivers.modbus.conftest import SUNSPEC_MODELS
from tests.support.modbus_server import FaultyRegisters, TcpTestServer

BASE = 40000
METER_MODELS = [m for m in SUNSPEC_MODELS if m[0] in (1, 203)]
BATTERY_MODELS = [m for m in SUNSPEC_MODELS if m[0] in (1, 120, 124, 802)]

CONFIG = """
site: {{id: home-1, timezone: Europe/Berlin, latitude: 52.5, longitude: 13.4}}
state_dir: {state_dir}
devices:
  grid:
    role: meter
    driver: {{type: modbus_tcp, host: 127.0.0.1, port: {meter_port}, sunspec: true, timeout_s: 0.3}}
  battery:
    role: battery
    capacity_kwh: 10
    charge_max_kw: 4
    discharge_max_kw: 4
    reserve_soc: 0.2
    driver: {{type: modbus_tcp, host: 127.0.0.1, port: {battery_port}, sunspec: true, timeout_s: 0.3}}
  tank2:
    role: water_heater
    tank_l: 150
    element_kw: 2
    driver: {{type: gpio_relay, pin: 17, min_on_s: 60, min_off_s: 60, window_s: 600}}
"""


def server(models: list[tuple[int, dict[str, Any]]]) -> TcpTestServer:
    regs = FaultyRegisters()
    regs.load(BASE, build_image(models))
    return TcpTestServer({1: regs})


def model_on_server(srv: TcpTestServer, model_id: int) -> ModelValues:
    """Decode a model straight from the server's registers (what the device really holds)."""
    regs = srv.units[1]
    address = BASE + 2
    while True:
        mid, length = regs.peek(address, 2)
        if mid == model_id:
            return decode_model(load_model(model_id), address, regs.peek(address, 2 + length))
        address += 2 + length


@pytest.fixture
async def servers() -> AsyncIterator[tuple[TcpTestServer, TcpTestServer]]:
    meter, battery = server(METER_MODELS), server(BATTERY_MODELS)
    await meter.start()
    await battery.start()
    try:
        yield meter, battery
    finally:
        await meter.stop()
        await battery.stop()


async def refresh_all(devices: dict[str, Device]) -> None:
    for d in devices.values():
        with contextlib.suppress(DriverError):  # recorded in its health; the snapshot says stale
            await d.refresh()


async def test_battery_written_within_limits_read_back_and_safe_on_stale_meter(
    servers: tuple[TcpTestServer, TcpTestServer], caplog: pytest.LogCaptureFixture, tmp_path: Path
) -> None:
    caplog.set_level(logging.INFO, "agent.dispatch")
    meter_srv, battery_srv = servers
    config = parse_config(
        CONFIG.format(meter_port=meter_srv.port, battery_port=battery_srv.port, state_dir=tmp_path), env={}
    )
    clock = RealClock()
    ctx = DeviceContext(clock=clock)
    devices = build_devices(config, ctx, names=["grid", "battery"])
    # The test runs in real time, seconds apart: no ramp, so each step shows its own limit.
    dispatcher = Dispatcher(config, devices, clock, DispatchSettings(battery_ramp_w_per_s=1e9))
    try:
        await refresh_all(devices)
        # 6 kW asked, 4 kW configured: the command and the registers stay inside the limit.
        report = await dispatcher.dispatch(
            DispatchTarget({"battery": BatteryTarget(6.0)}), capture(devices, clock)
        )
        bat = report.devices["battery"]
        assert bat.mode is Mode.OPTIMISED, bat.reason
        assert bat.error is None
        assert bat.written is not None
        assert bat.written.value == 4000.0
        storage = model_on_server(battery_srv, 124)
        assert storage.number("StorCtl_Mod") == 1  # limit charging to InWRte
        assert storage.number("InWRte") * 5000.0 / 100 == pytest.approx(4000.0)  # % of WChaMax

        # The meter stops answering: its power ages past the dispatch limit -> battery idle.
        await meter_srv.stop()
        await asyncio.sleep(0.4)
        await refresh_all(devices)
        snap = capture(devices, clock, max_age_s=0.3)
        assert not snap.fresh("grid", "meter.power_w")
        report = await dispatcher.dispatch(DispatchTarget({"battery": BatteryTarget(2.0)}), snap)
        bat = report.devices["battery"]
        assert bat.mode is Mode.SAFE
        assert "meter.power_w stale" in (bat.reason or "")
        assert bat.written is not None
        assert bat.written.value == 0.0
        storage = model_on_server(battery_srv, 124)
        assert (storage.number("StorCtl_Mod"), storage.number("InWRte"), storage.number("OutWRte")) == (
            3,
            0,
            0,
        )

        # The meter returns: optimised again, logged once as recovered.
        await meter_srv.start()
        for _ in range(50):
            await refresh_all(devices)
            snap = capture(devices, clock, max_age_s=0.3)
            if snap.fresh("grid", "meter.power_w"):
                break
            await asyncio.sleep(0.1)
        report = await dispatcher.dispatch(DispatchTarget({"battery": BatteryTarget(-2.0)}), snap)
        bat = report.devices["battery"]
        assert bat.mode is Mode.OPTIMISED, bat.reason
        assert bat.written is not None
        assert bat.written.value == -2000.0
        storage = model_on_server(battery_srv, 124)
        assert storage.number("StorCtl_Mod") == 2
        assert storage.number("OutWRte") * 5000.0 / 100 == pytest.approx(2000.0)
        assert sum("battery: recovered" in m for m in caplog.messages) == 1

        stop = await dispatcher.safe_stop()
        assert stop.devices["battery"].written is not None
        assert model_on_server(battery_srv, 124).number("StorCtl_Mod") == 3  # idle
    finally:
        await stop_all(list(devices.values()))
        await ctx.links.close_all()


async def advance(clock: ManualClock, seconds: int) -> None:
    for _ in range(seconds):
        clock.advance(1)
        for _ in range(6):  # let the relay's control task run
            await asyncio.sleep(0)


async def test_gpio_relay_follows_dispatch_within_min_times(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("HEMS_GPIO_PINS", "mock")
    config = parse_config(CONFIG.format(meter_port=1502, battery_port=1503, state_dir=tmp_path), env={})
    clock = ManualClock(T0)
    ctx = DeviceContext(clock=clock)
    devices = build_devices(config, ctx, names=["tank2"])
    relay = devices["tank2"]
    await relay.start()
    dispatcher = Dispatcher(config, devices, clock)
    try:
        target = DispatchTarget({"tank2": WaterHeaterTarget(power_kw=2.0)})
        r = await dispatcher.dispatch(target, capture(devices, clock))
        t2 = r.devices["tank2"]
        assert t2.mode is Mode.OPTIMISED
        assert t2.written is not None
        assert t2.written.value == 1.0  # full duty
        assert t2.read_back is False  # just started: the relay holds off for min_off_s
        await advance(clock, 61)
        assert relay.capabilities.switch is not None
        assert relay.capabilities.switch.is_on().value is True
        # The plan goes away: the safe rule wants the element on (the tank's own thermostat),
        # and it already is, so nothing is written.
        r = await dispatcher.dispatch(None, capture(devices, clock))
        assert r.devices["tank2"].mode is Mode.SAFE
        assert r.devices["tank2"].written is None
        assert r.devices["tank2"].skipped == "device already at True"
        # Shutdown: dispatch asks for off (the relay would wait out min_on), the driver's stop
        # forces it.
        stop = await dispatcher.safe_stop()
        assert stop.devices["tank2"].written is not None
        await stop_all(list(devices.values()))
        pins = ctx.links.get_or_create(GpioPins.link_key, GpioPins, lambda: GpioPins(None))
        assert pins.factory.pin(17).state is False  # the pin itself, not the driver's view
    finally:
        await stop_all(list(devices.values()))
        await ctx.links.close_all()
