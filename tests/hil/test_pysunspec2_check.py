"""Independent check: pysunspec2's own Modbus client (not pymodbus, not our decoder) reads the rig."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from sunspec2.modbus.client import SunSpecModbusClientDeviceTCP

from agent.clock import ManualClock
from hil.plant import SUMMER
from hil.rig import Rig
from tests.hil.conftest import NOON


def scan(host: str, port: int) -> Any:
    device = SunSpecModbusClientDeviceTCP(slave_id=1, ipaddr=host, ipport=port, timeout=5)
    device.scan()
    return device


async def test_pysunspec2_finds_the_models_and_the_plant_values() -> None:
    clock = ManualClock(NOON)
    rig = Rig(SUMMER, clock=clock)
    await rig.start()
    try:
        clock.advance(120.0)
        rig.advance()
        meter = await asyncio.to_thread(scan, rig.meter.host, rig.meter.port)
        inverter = await asyncio.to_thread(scan, rig.inverter.host, rig.inverter.port)
    finally:
        await rig.stop()
    plant = rig.plant
    assert plant.last is not None and plant.battery is not None and plant.pv is not None

    assert {1, 203} <= set(meter.models)
    common = meter.models[1][0]
    assert common.Mn.cvalue == "hems-hil"
    m = meter.models[203][0]
    assert m.W.cvalue == pytest.approx(plant.last.grid_kw * 1000.0, abs=1.0)
    assert m.TotWhImp.cvalue == pytest.approx(plant.meter.import_kwh * 1000.0, abs=1.0)
    assert m.TotWhExp.cvalue == pytest.approx(plant.meter.export_kwh * 1000.0, abs=1.0)
    assert m.PhVphA.cvalue == pytest.approx(230.0)

    assert {1, 103, 120, 121, 123, 124, 802} <= set(inverter.models)
    inv = inverter.models[103][0]
    pv_w = plant.last.powers_kw["pv"] * 1000.0
    battery_w = plant.last.powers_kw["battery"] * 1000.0
    assert pv_w > 1000.0
    # A hybrid's AC output and the DC power into its bridge: PV less what the battery takes.
    assert inv.W.cvalue == pytest.approx(pv_w - battery_w, abs=1.0)
    assert inv.DCW.cvalue == pytest.approx(pv_w - battery_w, abs=1.0)
    assert inv.WH.cvalue == pytest.approx(plant.pv.energy_kwh * 1000.0, abs=1.0)
    assert inverter.models[120][0].WRtg.cvalue == pytest.approx(SUMMER.pv_peak_kw * 1000.0)
    storage = inverter.models[124][0]
    assert storage.ChaState.cvalue == pytest.approx(plant.battery.soc * 100.0, abs=0.1)
    assert storage.WChaMax.cvalue == pytest.approx(SUMMER.battery_charge_kw * 1000.0)
    battery = inverter.models[802][0]
    assert battery.SoC.cvalue == pytest.approx(plant.battery.soc * 100.0, abs=0.1)
    assert battery.W.cvalue == pytest.approx(-battery_w, abs=1.0)
    # The emulated battery runs and takes the agent's commands: it said stopped and local.
    assert battery.SetInvState.value == _symbol(battery.SetInvState, "INVERTER_STARTED")
    assert battery.LocRemCtl.value == _symbol(battery.LocRemCtl, "REMOTE")


def _symbol(point: Any, name: str) -> int:
    """The value of an enumeration's symbol, from the model definition pysunspec2 publishes."""
    values = {s["name"]: s["value"] for s in point.pdef["symbols"]}
    return int(values[name])
