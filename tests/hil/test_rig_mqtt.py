"""The project's generic MQTT driver (topic maps unchanged) against the rig's devices on Mosquitto."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import pytest

from agent.clock import ManualClock
from agent.dispatch.snapshot import capture
from drivers.base import Device, MeteredElement, ModeSwitching, ThermostatMode
from drivers.errors import StaleValue
from hil.rig import Rig

# Values arrive over a real broker: allow them a moment (loopback answers in milliseconds).
WAIT_S = 5.0


async def eventually(check: Callable[[], object], timeout_s: float = WAIT_S, rig: Rig | None = None) -> None:
    """Poll ``check``; with ``rig``, the devices republish their state meanwhile (as they do periodically)."""
    deadline = asyncio.get_running_loop().time() + timeout_s
    while True:
        if rig is not None:
            rig._publish(force=True)
        try:
            if check():
                return
        except StaleValue:
            pass
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"condition not met within {timeout_s} s: {check}")
        await asyncio.sleep(0.05)


def is_stale(read: Callable[[], object]) -> bool:
    try:
        read()
    except StaleValue:
        return True
    return False


async def tick(rig: Rig, clock: ManualClock, seconds: float = 10.0) -> None:
    clock.advance(seconds)
    rig.advance()
    rig._publish()
    await asyncio.sleep(0)


async def test_thermostat_reads_and_setpoint_write(
    rig: Rig, clock: ManualClock, agent_devices: dict[str, Device]
) -> None:
    await tick(rig, clock)
    thermostat = agent_devices["thermostat"].capabilities.thermostat
    assert thermostat is not None and rig.plant.house is not None
    house = rig.plant.house
    await eventually(lambda: abs(thermostat.indoor_c().value - house.indoor_c) < 0.06, rig=rig)
    assert thermostat.mode().value.value == "cool"  # the summer house is cooled
    await thermostat.set_setpoint_c(22.0)  # verified by the driver's read-back
    assert rig.thermostat.setpoint_c == 22.0
    # Cooling to 22 °C from ~23 °C: the heat pump runs at full power.
    await tick(rig, clock)
    assert rig.plant.last is not None
    assert rig.plant.last.powers_kw["heat_pump"] == pytest.approx(rig.params.heat_pump_max_kw)
    await thermostat.set_setpoint_c(26.0)
    await tick(rig, clock)
    assert rig.plant.last.powers_kw["heat_pump"] == 0.0


async def test_thermostat_mode_write_changes_the_heat_pump_over(
    rig: Rig, clock: ManualClock, agent_devices: dict[str, Device]
) -> None:
    await tick(rig, clock)
    thermostat = agent_devices["thermostat"].capabilities.thermostat
    assert isinstance(thermostat, ModeSwitching)
    assert rig.plant.heat_pump is not None and rig.plant.house is not None
    await eventually(lambda: thermostat.mode().value is ThermostatMode.COOL, rig=rig)
    await thermostat.set_mode(ThermostatMode.HEAT)  # verified by the driver's read-back
    assert rig.thermostat.system_mode == "heat"
    # Heating to 26 °C from ~23 °C: the heat pump runs at full power and warms the house.
    await thermostat.set_setpoint_c(26.0)
    before_c = rig.plant.house.indoor_c
    await tick(rig, clock, 60.0)
    assert rig.plant.heat_pump.mode == "heating"
    assert rig.plant.last is not None
    assert rig.plant.last.powers_kw["heat_pump"] == pytest.approx(rig.params.heat_pump_max_kw)
    assert rig.plant.house.indoor_c > before_c


async def test_water_heater_switch_drives_the_element(
    rig: Rig, clock: ManualClock, agent_devices: dict[str, Device]
) -> None:
    await tick(rig, clock)
    wh = agent_devices["water_heater"].capabilities.water_heater
    assert wh is not None and rig.plant.tank is not None
    tank = rig.plant.tank
    await eventually(lambda: abs(wh.tank_c().value - tank.tank_c) < 0.06, rig=rig)
    await wh.set_element_on(True)
    await tick(rig, clock, 60.0)
    assert rig.plant.last is not None
    assert rig.plant.last.powers_kw["water_heater"] == rig.params.element_kw
    await eventually(lambda: wh.element_on().value is True)
    # The Shelly meters its output: the snapshot carries it, so the base-load observation can
    # take the element out of the metered exchange.
    metered = wh
    assert isinstance(metered, MeteredElement)
    await eventually(lambda: metered.element_power_w().value == rig.params.element_kw * 1000.0, rig=rig)
    snap = capture(agent_devices, clock)
    assert snap.number("water_heater", "water_heater.element_power_w") == rig.params.element_kw * 1000.0
    await wh.set_element_on(False)
    await tick(rig, clock, 60.0)
    assert rig.plant.last.powers_kw["water_heater"] == 0.0


async def test_the_water_heater_switch_opens_itself_when_the_agent_goes_quiet(
    rig: Rig, clock: ManualClock, agent_devices: dict[str, Device]
) -> None:
    await tick(rig, clock)
    wh = agent_devices["water_heater"].capabilities.water_heater
    assert wh is not None
    switch = rig.water_heater
    await wh.set_element_on(True)
    # The write returns on the broker's acknowledgement; the switch hears it a little later, and the
    # rig's clock must not move before it has (on a loaded machine it once moved first).
    await eventually(lambda: switch.output is True and switch._flip_at_s is not None)
    first_flip_s = switch._flip_at_s
    await tick(rig, clock, 540.0)  # 9 minutes of the rig's clock: still on
    assert rig.plant.last is not None and rig.plant.last.powers_kw["water_heater"] == rig.params.element_kw
    await wh.set_element_on(True)  # said again (the dispatcher re-asserts): the timer starts over
    await eventually(lambda: switch._flip_at_s != first_flip_s)
    await tick(rig, clock, 540.0)
    assert rig.plant.last.powers_kw["water_heater"] == rig.params.element_kw
    await tick(rig, clock, 120.0)  # ten minutes after the last "on", nothing more heard
    await tick(rig, clock, 10.0)
    assert rig.plant.last.powers_kw["water_heater"] == 0.0
    await eventually(lambda: wh.element_on().value is False, rig=rig)


async def test_evse_claims_drive_the_car(
    rig: Rig, clock: ManualClock, agent_devices: dict[str, Device]
) -> None:
    # Jump to the evening: the car arrives at 18:00.
    clock.advance(6.5 * 3600)
    rig.advance()
    rig._publish(force=True)
    ev = agent_devices["ev"].capabilities.ev_charger
    assert ev is not None and rig.plant.ev is not None
    await eventually(lambda: ev.plugged().value is True, rig=rig)
    await ev.set_current_limit_a(10.0)
    await tick(rig, clock, 60.0)
    assert rig.plant.last is not None
    assert rig.plant.last.powers_kw["ev"] == pytest.approx(10 * 230 / 1000)
    await eventually(lambda: abs(ev.power_w().value - 2300.0) < 1.0)
    await eventually(lambda: ev.charging().value is True)
    await ev.set_current_limit_a(0.0)  # pause: a "disabled" claim, verified on <base>/claim
    await tick(rig, clock, 60.0)
    assert rig.plant.last.powers_kw["ev"] == 0.0
    await eventually(lambda: ev.charging().value is False)
    session_before = ev.session_kwh().value
    assert session_before > 0.0
    await agent_devices["ev"].stop()  # "release": the EVSE charges on its own again
    await eventually(lambda: rig.evse.claim is None)
    await tick(rig, clock, 60.0)
    assert rig.plant.last.powers_kw["ev"] == pytest.approx(rig.evse.max_current_a * 230 / 1000)


async def test_silent_and_dropped_devices_go_stale_or_offline(
    rig: Rig, clock: ManualClock, agent_devices: dict[str, Device]
) -> None:
    await tick(rig, clock)
    device = agent_devices["water_heater"]
    await eventually(
        lambda: device.capabilities.water_heater is not None and device.capabilities.water_heater.tank_c()
    )
    await rig.mqtt_drop("water_heater")  # the broker sends its last will: online = false
    wh = device.capabilities.water_heater
    assert wh is not None
    await eventually(lambda: is_stale(wh.tank_c))
    await rig.mqtt_back("water_heater")
    await eventually(wh.tank_c)
    rig.mqtt_silent("thermostat")
    before = rig.thermostat.published
    await tick(rig, clock, 120.0)
    assert rig.thermostat.published == before
    thermostat = agent_devices["thermostat"].capabilities.thermostat
    assert thermostat is not None
    with pytest.raises(StaleValue):
        thermostat.indoor_c()  # older than its 60 s limit on the shared clock
