"""Capability-level devices: the field driver's command reaches the rig's emulator, limits hold."""

from __future__ import annotations

import asyncio
from datetime import datetime

import pytest

from agent.clock import ManualClock
from drivers.base import BatteryLimits, DeviceLimits
from drivers.errors import DeviceUnavailable, DriverConfigError, ProtocolError, StaleValue
from hil.fast.devices import STALE_AFTER_S, FastDevice
from hil.plant.params import SUMMER
from hil.rig import Rig
from hil.rig_settings import RigSettings

START = datetime.fromisoformat("2026-06-15T07:00:00+02:00")


def _rig(clock: ManualClock) -> Rig:
    s = RigSettings(meter_port=9, inverter_port=9, broker_host="127.0.0.1", broker_port=9)
    return Rig(SUMMER, clock=clock, settings=s, start=START, days=2)


def test_a_charge_current_goes_out_in_whole_amps_rounded_down() -> None:
    clock = ManualClock(START)
    rig = _rig(clock)
    ev = FastDevice("ev", "ev_charger", rig, DeviceLimits(ev_current_a=(6.0, 32.0)), clock)
    charger = ev.capabilities.ev_charger
    assert charger is not None
    asyncio.run(charger.set_current_limit_a(10.9))
    assert rig.evse.offered_a() == 10.0
    asyncio.run(charger.set_current_limit_a(0.0))
    assert rig.evse.offered_a() == 0.0  # paused: the claim disables charging
    with pytest.raises(DriverConfigError):
        asyncio.run(charger.set_current_limit_a(3.0))
    assert rig.evse.offered_a() == 0.0  # refused: nothing changed


def test_a_battery_window_becomes_the_inverters_self_consumption_limits() -> None:
    clock = ManualClock(START)
    rig = _rig(clock)
    limits = DeviceLimits(battery=BatteryLimits(10.0, 5000.0, 5000.0))
    bat = FastDevice("battery", "battery", rig, limits, clock).capabilities.battery
    assert bat is not None
    asyncio.run(bat.set_power_window_w(-1000.0, 2500.0))  # type: ignore[attr-defined]
    # Self-consumption wanting 4 kW of charge is held to the window's 2.5 kW, a 3 kW draw to 1 kW.
    assert rig.controls.battery_window_kw() == pytest.approx((-1.0, 2.5))
    with pytest.raises(DriverConfigError):
        asyncio.run(bat.set_power_w(6000.0))


def test_a_heat_pump_is_driven_through_its_thermostat_and_setpoints_go_in_half_degrees() -> None:
    clock = ManualClock(START)
    rig = _rig(clock)
    hp = FastDevice("hp", "heat_pump", rig, DeviceLimits(setpoint_c=(18.0, 26.0)), clock)
    stat = hp.capabilities.thermostat
    assert stat is not None
    asyncio.run(stat.set_setpoint_c(22.3))
    assert rig.thermostat.setpoint_c == 22.5


def test_faults_reach_the_driver_as_its_own_errors_and_silence_goes_stale() -> None:
    clock = ManualClock(START)
    rig = _rig(clock)
    meter = FastDevice("grid", "meter", rig, DeviceLimits(), clock)
    asyncio.run(meter.refresh())
    em = meter.capabilities.energy_meter
    assert em is not None
    assert em.import_kwh().value == pytest.approx(round(rig.plant.meter.import_kwh, 3))
    meter.fault = "gone"
    with pytest.raises(DeviceUnavailable):
        asyncio.run(meter.refresh())
    meter.fault = "garbage"
    with pytest.raises(ProtocolError):
        asyncio.run(meter.refresh())
    meter.fault = "silent"
    asyncio.run(meter.refresh())
    clock.advance(STALE_AFTER_S + 1.0)
    with pytest.raises(StaleValue):
        em.import_kwh()


def test_a_slower_cycle_goes_stale_after_three_of_its_own_missed_polls() -> None:
    # A five-minute cycle polls every 300 s: a reading 250 s old is the last poll's, not stale.
    clock = ManualClock(START)
    meter = FastDevice("grid", "meter", _rig(clock), DeviceLimits(), clock, stale_after_s=900.0)
    asyncio.run(meter.refresh())
    em = meter.capabilities.energy_meter
    assert em is not None
    clock.advance(250.0)
    em.import_kwh()
    clock.advance(651.0)
    with pytest.raises(StaleValue):
        em.import_kwh()
