import asyncio
from collections.abc import AsyncIterator, Iterator, Sequence
from typing import Any

import pytest
from pymodbus.constants import ExcCodes
from pymodbus.datastore import ModbusServerContext

from agent.clock import RealClock
from drivers.base import BatteryLimits, DeviceLimits
from drivers.modbus.link import LinkTiming, TcpLink
from drivers.modbus.sunspec.image import ModelSpec, build_image
from tests.support.modbus_server import FaultyDevice, FaultyRegisters, TcpTestServer

# Short timeouts and backoff: the faults below must show and clear within a test.
FAST = LinkTiming(request_timeout_s=0.3, connect_timeout_s=1.0, backoff_initial_s=0.05, backoff_max_s=0.2)

LIMITS = DeviceLimits(
    battery=BatteryLimits(capacity_kwh=10.0, max_charge_w=5000.0, max_discharge_w=5000.0),
    pv_rated_w=8000.0,
)

# A hybrid inverter as a SunSpec device would present it: common, inverter, nameplate,
# settings, controls, storage, battery, and its grid meter. The strings give 5700 W: 1200 W
# charge the battery, 4500 W go into the bridge (DCW) and 4321 W come out on the AC side (W).
SUNSPEC_MODELS: list[tuple[int, dict[str, Any]]] = [
    (1, {"Mn": "Fronius", "Md": "Symo GEN24 8.0", "SN": "28150123", "Vr": "1.28.7"}),
    (
        103,
        {
            "W": 4321.0,
            "W_SF": 0,
            "WH": 12_345_600.0,
            "WH_SF": 0,
            "A": 6.25,
            "A_SF": -2,
            "St": 4,
            "Hz": 50.01,
            "Hz_SF": -2,
            "DCW": 4500.0,
            "DCW_SF": 0,
        },
    ),
    (120, {"DERTyp": 4, "WRtg": 8000.0, "WRtg_SF": 0}),
    (121, {"WMax": 8000.0, "WMax_SF": 0}),
    (123, {"WMaxLimPct": 100.0, "WMaxLimPct_SF": 0, "WMaxLim_Ena": 0}),
    (
        124,
        {
            "WChaMax": 5000.0,
            "WChaMax_SF": 0,
            "WChaDisChaGra_SF": 0,
            "StorCtl_Mod": 0,
            "ChaState": 56.7,
            "ChaState_SF": -1,
            "InWRte": 0,
            "OutWRte": 0,
            "InOutWRte_SF": -1,
        },
    ),
    (
        802,
        {
            "W": -1200.0,
            "W_SF": 0,
            "SoC": 56.7,
            "SoC_SF": -1,
            "AHRtg": 200,
            "AHRtg_SF": 0,
            "WHRtg": 10000,
            "WHRtg_SF": 0,
            "WChaRteMax": 5000,
            "WDisChaRteMax": 5000,
            "WChaDisChaMax_SF": 0,
        },
    ),
    (
        203,
        {
            "W": -1500.0,
            "W_SF": 0,
            "WphA": -500.0,
            "WphB": -500.0,
            "WphC": -500.0,
            "A": 6.5,
            "AphA": 2.2,
            "AphB": 2.2,
            "AphC": 2.1,
            "A_SF": -1,
            "PhVphA": 230.1,
            "PhVphB": 229.8,
            "PhVphC": 231.0,
            "V_SF": -1,
            "Hz": 50.0,
            "Hz_SF": -2,
            "TotWhImp": 5_432_100.0,
            "TotWhExp": 1_234_500.0,
            "TotWh_SF": 0,
        },
    ),
]


def sunspec_server(base: int = 40000, models: Sequence[ModelSpec] | None = None) -> TcpTestServer:
    regs = FaultyRegisters()
    regs.load(base, build_image(models or SUNSPEC_MODELS))
    return TcpTestServer({1: regs})


class BoundedRegisters(FaultyRegisters):
    """Registers that exist only in ``[first, end)``: a read outside gets "illegal data address"."""

    def __init__(self, first: int, end: int) -> None:
        super().__init__()
        self.first, self.end = first, end

    def getValues(self, address: int, count: int = 1) -> Any:  # noqa: N802
        start = address - 1  # the device context adds 1 to every address
        if start < self.first or start + count > self.end:
            return ExcCodes.ILLEGAL_ADDRESS
        return super().getValues(address, count)


class SilentBelowDevice(FaultyDevice):
    """A unit that never answers a read starting below ``silent_below`` (it ignores the request)."""

    def __init__(self, regs: FaultyRegisters, silent_below: int) -> None:
        super().__init__(regs)
        self.silent_below = silent_below

    async def async_getValues(self, func_code: int, address: int, count: int = 1) -> Any:  # noqa: N802
        if address < self.silent_below:
            await asyncio.sleep(2.0)  # far beyond the client's request timeout
        return await super().async_getValues(func_code, address, count)


class SilentBelowServer(TcpTestServer):
    def __init__(self, regs: FaultyRegisters, silent_below: int) -> None:
        super().__init__({1: regs})
        self.silent_below = silent_below

    def _context(self) -> ModbusServerContext:
        device = SilentBelowDevice(self.units[1], self.silent_below)
        return ModbusServerContext(devices={1: device}, single=False)  # type: ignore[no-untyped-call]


@pytest.fixture
async def server() -> AsyncIterator[TcpTestServer]:
    srv = sunspec_server()
    await srv.start()
    try:
        yield srv
    finally:
        await srv.stop()


@pytest.fixture
async def link(server: TcpTestServer) -> AsyncIterator[TcpLink]:
    lk = TcpLink(server.host, server.port, RealClock(), FAST)
    try:
        yield lk
    finally:
        await lk.close()


@pytest.fixture
def ptys() -> Iterator[tuple[str, str]]:
    from tests.support.socat import pty_pair

    with pty_pair() as pair:
        yield pair
