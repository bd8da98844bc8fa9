from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest

from agent.clock import RealClock
from drivers.base import BatteryLimits, DeviceLimits
from drivers.modbus.link import LinkTiming, TcpLink
from drivers.modbus.sunspec.image import build_image
from tests.support.modbus_server import FaultyRegisters, TcpTestServer

# Short timeouts and backoff: the faults below must show and clear within a test.
FAST = LinkTiming(request_timeout_s=0.3, connect_timeout_s=1.0, backoff_initial_s=0.05, backoff_max_s=0.2)

LIMITS = DeviceLimits(
    battery=BatteryLimits(capacity_kwh=10.0, max_charge_w=5000.0, max_discharge_w=5000.0),
    pv_rated_w=8000.0,
)

# A hybrid inverter as a SunSpec device would present it: common, inverter, nameplate,
# settings, controls, storage, battery, and its grid meter.
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


def sunspec_server(
    base: int = 40000, models: list[tuple[int, dict[str, Any]]] | None = None
) -> TcpTestServer:
    regs = FaultyRegisters()
    regs.load(base, build_image(models or SUNSPEC_MODELS))
    return TcpTestServer({1: regs})


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
