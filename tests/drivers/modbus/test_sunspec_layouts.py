"""SunSpec maps as real devices lay them out, each served by pymodbus and read by our driver.

Every layout here was found to trip the driver when checked against independent peers
(pysunspec2's client, a server built from pysunspec2's model definitions); where useful,
pysunspec2's own client reads the same server and must agree with us.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Sequence
from typing import Any

import pytest
from sunspec2.modbus.client import SunSpecModbusClientDeviceTCP

from agent.clock import RealClock
from drivers.base import HealthState
from drivers.errors import DeviceTimeout, DriverConfigError
from drivers.modbus.link import TcpLink
from drivers.modbus.sunspec.device import SunSpecDevice
from drivers.modbus.sunspec.image import ModelSpec, build_image
from tests.drivers.modbus.conftest import FAST, LIMITS, BoundedRegisters, SilentBelowServer
from tests.support.modbus_server import FaultyRegisters, TcpTestServer

COMMON: ModelSpec = (1, {"Mn": "Acme", "Md": "Hybrid 8", "SN": "A1"})
# A hybrid at work: strings at 6 kW, the battery charging 2 kW, 4 kW into the inverter's
# bridge and 3.85 kW out of it on the AC side.
INVERTER_103: dict[str, Any] = {
    "W": 3850.0,
    "W_SF": 0,
    "WH": 2_000_000.0,
    "WH_SF": 0,
    "DCW": 4000.0,
    "DCW_SF": 0,
}
STORAGE_124: dict[str, Any] = {"WChaMax": 5000.0, "WChaMax_SF": 0, "ChaState": 50.0, "ChaState_SF": 0}
BATTERY_CHARGING_2KW: dict[str, Any] = {"W": -2000.0, "W_SF": 0}  # 802: W > 0 while discharging


def _module(name: str, dcw: float, dcwh: float) -> dict[str, Any]:
    return {"ID": int(name.rsplit(" ", 1)[1]), "IDStr": name, "DCW": dcw, "DCWH": dcwh}


# Model 160 as a Fronius GEN24 Plus fills it: two PV strings, then the battery as inputs 3, 4.
MPPT_160: ModelSpec = (
    160,
    {"DCA_SF": -2, "DCV_SF": -2, "DCW_SF": 0, "DCWH_SF": 0, "N": 4},
    [
        _module("MPPT 1", 3500.0, 1_500_000.0),
        _module("MPPT 2", 2500.0, 900_000.0),
        _module("StCha 3", 2000.0, 400_000.0),
        _module("StDisCha 4", 0.0, 350_000.0),
    ],
)


async def _served(models: Sequence[ModelSpec], base: int = 40000) -> TcpTestServer:
    regs = FaultyRegisters()
    regs.load(base, build_image(models))
    server = TcpTestServer({1: regs})
    await server.start()
    return server


@pytest.fixture
async def links() -> AsyncIterator[list[TcpLink]]:
    opened: list[TcpLink] = []
    yield opened
    for link in opened:
        await link.close()


def _device(server: TcpTestServer, links: list[TcpLink], **kw: Any) -> SunSpecDevice:
    link = TcpLink(server.host, server.port, RealClock(), FAST)
    links.append(link)
    return SunSpecDevice("dev", "modbus_tcp", link=link, unit_id=1, clock=RealClock(), limits=LIMITS, **kw)


def _pysunspec2_scan(server: TcpTestServer) -> Any:
    device = SunSpecModbusClientDeviceTCP(slave_id=1, ipaddr=server.host, ipport=server.port, timeout=2)
    try:
        device.scan()
        return device
    finally:
        device.close()


# --- hybrid inverters: PV from the DC side ----------------------------------------------------


async def test_hybrid_pv_is_dc_power_plus_the_batterys_charge(links: list[TcpLink]) -> None:
    # A hybrid's 103 W is AC power, PV minus the battery's charge: read as PV it said 3.85 kW
    # with 6 kW on the strings, and the base load derived from it lacked the battery's 2 kW.
    server = await _served([COMMON, (103, INVERTER_103), (124, STORAGE_124), (802, BATTERY_CHARGING_2KW)])
    try:
        dev = _device(server, links)
        await dev.refresh()
        peer = await asyncio.to_thread(_pysunspec2_scan, server)
    finally:
        await server.stop()
    pv = dev.capabilities.pv_inverter
    battery = dev.capabilities.battery
    assert pv is not None and battery is not None
    assert pv.power_w().value == 6000.0
    assert "103 DCW - 802 W" in pv.power_w().source
    assert dev.info["pv_power_from"] == "103 DCW - 802 W"
    assert battery.power_w().value == 2000.0  # charging
    assert dev.store.number("pv_ac_power_w").value == 3850.0
    # pysunspec2 reads the same points we derive PV from
    assert peer.models[103][0].DCW.cvalue == 4000.0
    assert peer.models[103][0].W.cvalue == 3850.0
    assert peer.models[802][0].W.cvalue == -2000.0


async def test_hybrid_pv_from_model_160_leaves_out_the_battery_inputs(links: list[TcpLink]) -> None:
    server = await _served(
        [COMMON, (103, INVERTER_103), MPPT_160, (124, STORAGE_124), (802, BATTERY_CHARGING_2KW)]
    )
    try:
        dev = _device(server, links)
        await dev.refresh()
        peer = await asyncio.to_thread(_pysunspec2_scan, server)
    finally:
        await server.stop()
    pv = dev.capabilities.pv_inverter
    assert pv is not None
    assert pv.power_w().value == 6000.0  # MPPT 1 + MPPT 2; StCha 3 is the battery
    assert pv.energy_kwh().value == pytest.approx(2400.0)  # 1500 + 900 kWh of the PV inputs
    assert "160 DCW of MPPT 1, MPPT 2" in pv.power_w().source
    modules = peer.models[160][0].module
    assert [m.IDStr.cvalue for m in modules] == ["MPPT 1", "MPPT 2", "StCha 3", "StDisCha 4"]
    assert [m.DCW.cvalue for m in modules] == [3500.0, 2500.0, 2000.0, 0.0]


async def test_hybrid_without_a_dc_reading_adds_the_battery_to_the_ac_power(links: list[TcpLink]) -> None:
    no_dc = {k: v for k, v in INVERTER_103.items() if not k.startswith("DCW")}
    server = await _served([COMMON, (103, no_dc), (124, STORAGE_124), (802, BATTERY_CHARGING_2KW)])
    try:
        dev = _device(server, links)
        await dev.refresh()
    finally:
        await server.stop()
    assert dev.capabilities.pv_inverter is not None
    assert dev.capabilities.pv_inverter.power_w().value == 5850.0  # 3850 + 2000, the bridge's loss aside


async def test_pv_only_inverter_reports_its_ac_power(links: list[TcpLink]) -> None:
    server = await _served([COMMON, (103, INVERTER_103)])
    try:
        dev = _device(server, links)
        await dev.refresh()
    finally:
        await server.stop()
    assert dev.capabilities.pv_inverter is not None
    assert dev.capabilities.pv_inverter.power_w().value == 3850.0
    assert dev.info["pv_power_from"] == "103 W"
    assert dev.capabilities.battery is None


async def test_pv_is_never_negative(links: list[TcpLink]) -> None:
    # Night, battery idle: the bridge draws 12 W standby from the DC side.
    night = {**INVERTER_103, "W": -15.0, "DCW": -12.0}
    server = await _served([COMMON, (103, night), (124, STORAGE_124), (802, {"W": 0.0, "W_SF": 0})])
    try:
        dev = _device(server, links)
        await dev.refresh()
    finally:
        await server.stop()
    assert dev.capabilities.pv_inverter is not None
    assert dev.capabilities.pv_inverter.power_w().value == 0.0


# --- two instances of one model on a unit -----------------------------------------------------

PRODUCTION: dict[str, Any] = {
    "W": -4000.0,
    "W_SF": 0,
    "TotWhImp": 10_000.0,
    "TotWhExp": 9_000_000.0,
    "TotWh_SF": 0,
}
CONSUMPTION: dict[str, Any] = {
    "W": 1200.0,
    "W_SF": 0,
    "TotWhImp": 7_000_000.0,
    "TotWhExp": 0.0,
    "TotWh_SF": 0,
}
# SolarEdge: inverter, then each meter behind its own common model.
SOLAREDGE: list[ModelSpec] = [
    COMMON,
    (103, INVERTER_103),
    (1, {"Mn": "WattNode", "Opt": "Export+Import"}),
    (203, PRODUCTION),
    (1, {"Mn": "WattNode", "Opt": "Consumption"}),
    (203, CONSUMPTION),
]


async def test_every_instance_is_listed_and_the_first_used_by_default(links: list[TcpLink]) -> None:
    # Before, the last instance silently won.
    server = await _served(SOLAREDGE)
    try:
        dev = _device(server, links)
        await dev.refresh()
    finally:
        await server.stop()
    meter = dev.capabilities.energy_meter
    assert meter is not None
    assert meter.power_w().value == -4000.0
    # 'SunS' at 40000; then ID, L and L registers each: common L=66, 103 L=50, 203 L=105.
    first = 40002 + (2 + 66) + (2 + 50) + (2 + 66)
    second = first + (2 + 105) + (2 + 66)
    assert (first, second) == (40190, 40365)
    assert dev.info["sunspec_models"] == (
        "1 (common), 103 (inverter_three_phase), 1 (common), "
        "203 (ac_meter_abcn) #1 at 40190 (used; WattNode, Export+Import), "
        "1 (common), 203 (ac_meter_abcn) #2 at 40365 (not used; WattNode, Consumption)"
    )


async def test_the_config_chooses_an_instance(links: list[TcpLink]) -> None:
    server = await _served(SOLAREDGE)
    try:
        dev = _device(server, links, instances={203: 2})
        await dev.refresh()
        peer = await asyncio.to_thread(_pysunspec2_scan, server)
        wrong = _device(server, links, instances={203: 3})
        with pytest.raises(DriverConfigError, match=r"driver\.sunspec_instances\.203: instance 3") as err:
            await wrong.refresh()
    finally:
        await server.stop()
    assert "the unit has 2 (at 40190, 40365)" in str(err.value)
    meter = dev.capabilities.energy_meter
    assert meter is not None
    assert meter.power_w().value == 1200.0
    assert meter.import_kwh().value == 7000.0
    assert [m.W.cvalue for m in peer.models[203]] == [-4000.0, 1200.0]


# --- the end of the chain ---------------------------------------------------------------------


async def test_end_model_without_its_length_register(links: list[TcpLink]) -> None:
    # The map ends with 0xFFFF alone; a read of two registers there is refused. pysunspec2 reads
    # such a map, and we failed discovery.
    image = build_image([COMMON, (103, INVERTER_103)])[:-1]
    regs = BoundedRegisters(40000, 40000 + len(image))
    regs.load(40000, image)
    server = TcpTestServer({1: regs})
    await server.start()
    try:
        dev = _device(server, links)
        await dev.refresh()
        peer = await asyncio.to_thread(_pysunspec2_scan, server)
        assert (await dev.link.read(1, 40000 + len(image) - 1, 1)) == [0xFFFF]
    finally:
        await server.stop()
    assert dev.info["sunspec_models"] == "1 (common), 103 (inverter_three_phase)"
    assert set(peer.models) >= {1, 103}
    assert dev.health.state is HealthState.OK


# --- the base-address search ------------------------------------------------------------------


async def test_base_search_goes_on_after_a_timeout(links: list[TcpLink]) -> None:
    # The device ignores reads below 50000 instead of refusing them: the search stopped at the
    # timeout at 40000 and never asked at 50000.
    regs = FaultyRegisters()
    regs.load(50000, build_image([COMMON, (103, INVERTER_103)]))
    server = SilentBelowServer(regs, silent_below=50000)
    await server.start()
    try:
        dev = _device(server, links)
        await dev.refresh()
    finally:
        await server.stop()
    assert dev.info["sunspec_base"] == "50000"
    assert dev.capabilities.pv_inverter is not None


async def test_silence_at_every_base_is_a_timeout(links: list[TcpLink]) -> None:
    regs = FaultyRegisters()
    server = SilentBelowServer(regs, silent_below=65536)
    await server.start()
    try:
        dev = _device(server, links)
        with pytest.raises(DeviceTimeout, match="no SunSpec marker 'SunS' at 40000, 0, 50000"):
            await dev.refresh()
    finally:
        await server.stop()


# --- counters at zero -------------------------------------------------------------------------


async def test_meter_that_never_exported_is_not_failed(links: list[TcpLink]) -> None:
    # TotWhExp = 0 is also SunSpec's "not implemented" for an accumulator; the meter was marked
    # failed as a whole for it.
    server = await _served([COMMON, (203, CONSUMPTION)])
    try:
        dev = _device(server, links)
        await dev.refresh()
    finally:
        await server.stop()
    meter = dev.capabilities.energy_meter
    assert meter is not None
    assert meter.export_kwh().value == 0.0
    assert meter.import_kwh().value == 7000.0
    assert dev.health.state is HealthState.OK
