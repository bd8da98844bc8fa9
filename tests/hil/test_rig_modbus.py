"""The project's SunSpec driver against the rig's emulated meter and hybrid inverter."""

from __future__ import annotations

import asyncio

import pytest

from agent.clock import ManualClock
from drivers.base import Device, WindowedBattery
from drivers.errors import DeviceUnavailable, DriverConfigError, DriverError, ProtocolError
from hil.rig import Rig


async def refresh(devices: dict[str, Device], *names: str) -> None:
    for n in names:
        await devices[n].refresh()


async def test_driver_reads_what_the_plant_holds(
    rig: Rig, clock: ManualClock, agent_devices: dict[str, Device]
) -> None:
    clock.advance(30.0)
    rig.advance()
    await refresh(agent_devices, "grid", "pv", "battery")
    plant = rig.plant
    assert plant.last is not None and plant.battery is not None and plant.pv is not None
    meter = agent_devices["grid"].capabilities.energy_meter
    assert meter is not None
    assert meter.power_w().value == pytest.approx(plant.last.grid_kw * 1000.0, abs=1.0)
    assert meter.import_kwh().value == pytest.approx(plant.meter.import_kwh, abs=0.001)
    assert meter.export_kwh().value == pytest.approx(plant.meter.export_kwh, abs=0.001)
    pv = agent_devices["pv"].capabilities.pv_inverter
    assert pv is not None
    assert pv.power_w().value == pytest.approx(plant.last.powers_kw["pv"] * 1000.0, abs=1.0)
    assert pv.power_w().value > 1000.0  # noon in June: the real weather gives sun
    assert pv.energy_kwh().value == pytest.approx(plant.pv.energy_kwh, abs=0.001)
    battery = agent_devices["battery"].capabilities.battery
    assert battery is not None
    assert battery.soc_pct().value == pytest.approx(plant.battery.soc * 100.0, abs=0.1)
    assert battery.power_w().value == pytest.approx(plant.last.powers_kw["battery"] * 1000.0, abs=1.0)


async def test_driver_writes_drive_the_plant(
    rig: Rig, clock: ManualClock, agent_devices: dict[str, Device]
) -> None:
    await refresh(agent_devices, "grid", "pv", "battery")
    battery = agent_devices["battery"].capabilities.battery
    pv = agent_devices["pv"].capabilities.pv_inverter
    assert battery is not None and pv is not None

    await battery.set_power_w(2000.0)
    await pv.set_curtailment_limit_w(1500.0)
    soc_before = rig.plant.battery.soc if rig.plant.battery else 0.0
    clock.advance(60.0)
    rig.advance()
    last = rig.plant.last
    assert last is not None and rig.plant.battery is not None
    assert last.powers_kw["battery"] == pytest.approx(2.0, abs=0.01)
    assert last.powers_kw["pv"] == pytest.approx(1.5, abs=0.01)
    assert rig.plant.battery.soc > soc_before
    await refresh(agent_devices, "battery", "pv")
    assert battery.power_w().value == pytest.approx(2000.0, abs=1.0)
    # The hybrid's AC output is now -500 W (1.5 kW of PV, 2 kW into the battery): PV is read
    # from its DC side, where reading model 103's W as PV said -500 W.
    assert pv.power_w().value == pytest.approx(1500.0, abs=1.0)

    await battery.set_power_w(-3000.0)
    await pv.set_curtailment_limit_w(None)
    clock.advance(60.0)
    rig.advance()
    assert rig.plant.last is not None
    assert rig.plant.last.powers_kw["battery"] == pytest.approx(-3.0, abs=0.01)
    assert rig.plant.last.powers_kw["pv"] == pytest.approx(rig.plant.last.pv_available_kw)

    await battery.set_power_w(0.0)  # idle: both rates 0 under mode 3
    clock.advance(60.0)
    rig.advance()
    assert rig.plant.last is not None
    assert rig.plant.last.powers_kw["battery"] == 0.0

    # Stopping hands the battery back to the inverter's own logic (self-consumption).
    await agent_devices["battery"].stop()
    assert rig.controls.stor_mode == 0


async def test_a_window_lets_the_inverter_follow_the_home_within_it(
    rig: Rig, clock: ManualClock, agent_devices: dict[str, Device]
) -> None:
    await refresh(agent_devices, "grid", "pv", "battery")
    battery = agent_devices["battery"].capabilities.battery
    assert isinstance(battery, WindowedBattery)
    # Noon in June: the sun's surplus is charged up to the window's ceiling, the rest exported.
    await battery.set_power_window_w(-1000.0, 800.0)
    assert rig.controls.stor_mode == 3
    clock.advance(60.0)
    rig.advance()
    last = rig.plant.last
    assert last is not None
    surplus_kw = last.powers_kw["pv"] - last.powers_kw["base"] - last.powers_kw["heat_pump"]
    surplus_kw -= last.powers_kw["water_heater"] + last.powers_kw["ev"]
    assert surplus_kw > 0.8
    assert last.powers_kw["battery"] == pytest.approx(0.8, abs=0.01)
    # A wide ceiling: the battery takes the whole surplus and the meter stays near zero (the
    # inverter acts on the step before's flows, so within what the home changed in one step).
    await battery.set_power_window_w(-1000.0, 5000.0)
    clock.advance(60.0)
    rig.advance()
    last = rig.plant.last
    assert last is not None and 0.0 < last.powers_kw["battery"] < 5.0
    assert abs(last.grid_kw) < 0.2
    # a window that does not hold 0 is refused by the driver: nothing reaches the inverter
    with pytest.raises(DriverConfigError):
        await battery.set_power_window_w(500.0, 1000.0)
    assert rig.controls.stor_mode == 3


async def test_out_of_range_write_is_refused_and_changes_nothing(rig: Rig) -> None:
    from pymodbus.client import AsyncModbusTcpClient

    client = AsyncModbusTcpClient(rig.inverter.host, port=rig.inverter.port)
    await client.connect()
    try:
        address = rig.inverter.image.addresses[123] + 2 + 3  # WMaxLimPct (SF -1)
        resp = await client.write_register(address, 2000, device_id=1)  # 200 %
        assert resp.isError()
        readonly = rig.inverter.image.addresses[103] + 2 + 12  # model 103 W
        assert (await client.write_register(readonly, 5, device_id=1)).isError()
    finally:
        client.close()
    assert rig.controls.lim_pct == 100.0 and rig.inverter.refused_writes == 2


async def test_faults_gone_and_garbage(rig: Rig, agent_devices: dict[str, Device]) -> None:
    await refresh(agent_devices, "grid")
    rig.modbus_garbage("meter")
    with pytest.raises(ProtocolError):
        await agent_devices["grid"].refresh()
    rig.modbus_garbage("meter", on=False)
    await agent_devices["grid"].refresh()
    await rig.modbus_gone("meter")
    with pytest.raises((DeviceUnavailable, DriverError)):
        await agent_devices["grid"].refresh()
    await rig.modbus_back("meter")
    await asyncio.sleep(0.1)
    for _ in range(20):  # the link reconnects with its own backoff
        try:
            await agent_devices["grid"].refresh()
            break
        except DriverError:
            await asyncio.sleep(0.25)
    assert agent_devices["grid"].health.snapshot().state.value == "ok"
