"""Device refresh failures as the status page shows them, against a real pymodbus server."""

from __future__ import annotations

from agent.clock import RealClock
from agent.runtime.telemetry import refresh_all
from drivers.modbus.link import TcpLink
from drivers.modbus.sunspec.device import SunSpecDevice
from tests.drivers.modbus.conftest import FAST, LIMITS, SilentBelowServer
from tests.support.modbus_server import FaultyRegisters


async def test_a_device_timeout_is_reported_with_the_links_limit() -> None:
    # A DeviceTimeout is also a TimeoutError: it was reported as "refresh took longer than 5 s"
    # when the link had given up after its own 0.3 s.
    server = SilentBelowServer(FaultyRegisters(), silent_below=65536)
    await server.start()
    link = TcpLink(server.host, server.port, RealClock(), FAST)
    device = SunSpecDevice("inverter", "modbus_tcp", link=link, unit_id=1, clock=RealClock(), limits=LIMITS)
    try:
        failures = await refresh_all({"inverter": device}, timeout_s=5.0)
    finally:
        await link.close()
        await server.stop()
    assert list(failures) == ["inverter"]
    assert "no answer within 0.3 s" in failures["inverter"]
    assert "took longer" not in failures["inverter"]
