import asyncio

import pytest
from pymodbus.constants import ExcCodes

from agent.clock import RealClock
from drivers.errors import DeviceTimeout, DeviceUnavailable, ProtocolError
from drivers.modbus.link import LinkTiming, RtuLink, TcpLink
from tests.drivers.modbus.conftest import FAST
from tests.support.modbus_server import FaultyRegisters, RtuTestServer, TcpTestServer


async def test_read_and_write_over_tcp(server: TcpTestServer, link: TcpLink) -> None:
    assert await link.read(1, 40000, 2) == [0x5375, 0x6E53]
    await link.write(1, 100, [7, 8])
    assert server.units[1].peek(100, 2) == [7, 8]


async def test_read_longer_than_one_pdu_is_split(server: TcpTestServer, link: TcpLink) -> None:
    server.units[1].load(1000, list(range(300)))
    before = server.units[1].reads
    assert await link.read(1, 1000, 300) == list(range(300))
    assert server.units[1].reads - before == 3  # 125 + 125 + 50


async def test_timeout_is_typed_and_recovers(server: TcpTestServer, link: TcpLink) -> None:
    server.units[1].delay_s = 1.0
    with pytest.raises(DeviceTimeout, match=r"no answer within 0\.3 s") as ei:
        await link.read(1, 40000, 2)
    assert isinstance(ei.value, TimeoutError)
    server.units[1].delay_s = 0.0
    # Guards against a late answer to the timed-out request being taken for this one.
    await asyncio.sleep(0.8)
    server.units[1].load(40002, [42])
    assert await link.read(1, 40002, 1) == [42]


async def test_connection_closed_mid_request_is_not_a_timeout() -> None:
    # pymodbus kept a request waiting for its full timeout after the device closed the
    # connection, and the link reported "no answer within 5 s" for a closed connection.
    server = TcpTestServer()
    await server.start()
    link = TcpLink(server.host, server.port, RealClock(), LinkTiming(request_timeout_s=5.0))
    try:
        assert await link.read(1, 0, 1) == [0]
        server.units[1].delay_s = 10.0  # the answer never comes: the connection goes first
        pending = asyncio.create_task(link.read(1, 0, 1))
        await asyncio.sleep(0.2)
        await server.stop()
        with pytest.raises(DeviceUnavailable, match="the device closed the connection") as ei:
            await pending
        assert not isinstance(ei.value, DeviceTimeout)
    finally:
        await link.close()
        await server.stop()


async def test_exception_response_is_protocol_error(server: TcpTestServer, link: TcpLink) -> None:
    server.units[1].exception = ExcCodes.DEVICE_BUSY
    with pytest.raises(ProtocolError, match=r"exception 6 \(server device busy\)"):
        await link.read(1, 40000, 2)
    server.units[1].exception = None
    assert await link.read(1, 40000, 2) == [0x5375, 0x6E53]


async def test_illegal_address_is_protocol_error(link: TcpLink) -> None:
    with pytest.raises(ProtocolError, match="illegal data address"):
        await link.read(1, 65530, 10)


async def test_unknown_unit_times_out(link: TcpLink) -> None:
    with pytest.raises(DeviceTimeout):
        await link.read(9, 40000, 2)


async def test_device_gone_backs_off_then_recovers(server: TcpTestServer, link: TcpLink) -> None:
    assert await link.read(1, 40000, 2) == [0x5375, 0x6E53]
    await server.stop()
    errors: list[str] = []
    for _ in range(4):
        with pytest.raises(DeviceUnavailable) as ei:
            await link.read(1, 40000, 2)
        errors.append(str(ei.value))
    # Within the backoff window the link does not even try: no hammering of a dead device.
    assert any("link down" in e for e in errors)
    await server.start()
    for _ in range(50):
        try:
            assert await link.read(1, 40000, 2) == [0x5375, 0x6E53]
            break
        except DeviceUnavailable:
            await asyncio.sleep(0.05)
    else:
        pytest.fail("link did not recover after the server came back")


async def test_backoff_is_capped() -> None:
    link = TcpLink("127.0.0.1", 1, RealClock(), FAST)  # nothing listens on port 1
    seen: list[float] = []
    for _ in range(8):
        try:
            await link.read(1, 0, 1)
        except DeviceUnavailable as e:
            if "retry in" in str(e) and "link down" not in str(e):
                seen.append(float(str(e).rsplit("retry in ", 1)[1].split(" ")[0]))
        await asyncio.sleep(0.21)
    assert seen[0] == pytest.approx(0.05, abs=0.01)
    assert max(seen) == pytest.approx(0.2, abs=0.01)


async def test_cancellation_is_not_swallowed(server: TcpTestServer, link: TcpLink) -> None:
    # pymodbus turns a cancelled request into ModbusIOException; shutdown must still cancel.
    server.units[1].delay_s = 0.25
    task = asyncio.create_task(link.read(1, 40000, 2))
    await asyncio.sleep(0.05)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task


async def test_rtu_over_socat_pty_pair(ptys: tuple[str, str]) -> None:
    server_port, client_port = ptys
    regs = FaultyRegisters()
    regs.load(0, [11, 22, 33])
    srv = RtuTestServer(server_port, {3: regs}, baudrate=19200)
    await srv.start()
    link = RtuLink(client_port, RealClock(), baudrate=19200)
    try:
        assert await link.read(3, 0, 3) == [11, 22, 33]
        # A silent unit on a shared bus times out without taking the bus down for the others.
        with pytest.raises(DeviceTimeout):
            await link.read(4, 0, 1)
        assert await link.read(3, 1, 2) == [22, 33]
        regs.exception = ExcCodes.ILLEGAL_VALUE
        with pytest.raises(ProtocolError, match="illegal data value"):
            await link.read(3, 0, 1)
        regs.exception = None
        await link.write(3, 10, [99])
        assert regs.peek(10) == [99]
        assert link.timing.frame_gap_s == pytest.approx(3.5 * 11 / 19200)
    finally:
        await link.close()
        await srv.stop()
