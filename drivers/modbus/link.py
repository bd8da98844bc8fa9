"""One owner per physical Modbus link (a TCP connection or an RTU serial port).

Every device on the link goes through :meth:`ModbusLink.read` / :meth:`ModbusLink.write`, which
serialise requests with a lock, bound each one with a timeout, keep the inter-frame gap on
serial lines, and reconnect with capped exponential backoff. pymodbus errors never leave this
module: they become :mod:`drivers.errors` types.

Request timeouts and the frame gap are measured in real (event loop) time, because the bus is
physical even when the agent runs on an accelerated clock; the reconnect backoff uses the
injected clock, so an accelerated rig retries at its own pace.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from pymodbus.client import AsyncModbusSerialClient, AsyncModbusTcpClient
from pymodbus.exceptions import ConnectionException, ModbusException, ModbusIOException

from agent.clock import Clock
from drivers.errors import DeviceTimeout, DeviceUnavailable, ProtocolError

_log = logging.getLogger("drivers.modbus.link")
# pymodbus logs every failed connect and dumps frames at ERROR; this module reports link state
# itself (once per transition, through device health), so keep pymodbus to its criticals.
logging.getLogger("pymodbus").setLevel(logging.CRITICAL)

# The Modbus PDU limit: a read returns at most 125 registers, a write takes at most 123.
MAX_READ_REGISTERS = 125
MAX_WRITE_REGISTERS = 123

_EXCEPTION_NAMES = {
    1: "illegal function",
    2: "illegal data address",
    3: "illegal data value",
    4: "server device failure",
    5: "acknowledge",
    6: "server device busy",
    8: "memory parity error",
    10: "gateway path unavailable",
    11: "gateway target device failed to respond",
}


# How often a pending request looks whether the connection is still there: pymodbus leaves a
# request waiting for its full timeout when the device closes the connection meanwhile, which
# read as "no answer within 1 s" for what was a closed connection.
_CLOSED_CHECK_S = 0.05


class ConnectionClosed(Exception):
    """The connection closed while a request waited for its answer (internal to this module)."""


async def _answer(client: Any, call: Any) -> Any:
    """``await call(client)``, ended early by :class:`ConnectionClosed` if the connection goes."""
    task = asyncio.ensure_future(call(client))
    try:
        while True:
            done, _ = await asyncio.wait({task}, timeout=_CLOSED_CHECK_S)
            if done:
                return task.result()
            if not client.connected:
                raise ConnectionClosed
    finally:
        if not task.done():
            task.cancel()
            # pymodbus answers its cancellation with its own exception: nobody waits for it.
            await asyncio.gather(task, return_exceptions=True)


class Table(StrEnum):
    HOLDING = "holding"
    INPUT = "input"


@dataclass(frozen=True, slots=True)
class LinkTiming:
    # 1 s: a healthy device answers within ~100 ms on TCP and ~50 ms at 9600 baud for a
    # 125-register read; anything slower is a device in trouble, and the cycle must go on.
    request_timeout_s: float = 1.0
    connect_timeout_s: float = 3.0
    backoff_initial_s: float = 0.5
    # 30 s cap: a restarted inverter is back within one control cycle of coming up.
    backoff_max_s: float = 30.0
    frame_gap_s: float = 0.0


def rtu_frame_gap_s(baudrate: int) -> float:
    """3.5 character times of 11 bits, and at least 1.75 ms (the spec's value above 19200 baud)."""
    return max(3.5 * 11 / baudrate, 0.00175)


class ModbusLink:
    """A Modbus client link with its lock, timeouts and reconnect policy."""

    def __init__(self, key: str, clock: Clock, timing: LinkTiming) -> None:
        self.key = key
        self._clock = clock
        self.timing = timing
        self._lock = asyncio.Lock()
        self._client: Any = None
        self._backoff_s = 0.0
        self._retry_at = 0.0
        self._last_error = ""

    def _make_client(self) -> Any:
        raise NotImplementedError

    @property
    def connected(self) -> bool:
        return self._client is not None and bool(self._client.connected)

    async def _ensure_connected(self) -> Any:
        if self._client is not None and self._client.connected:
            return self._client
        self._drop()
        wait_s = self._retry_at - self._clock.monotonic_s()
        if wait_s > 0:
            raise DeviceUnavailable(f"{self.key}: link down ({self._last_error}); retry in {wait_s:.2f} s")
        client = self._make_client()
        error = "connection failed"
        try:
            async with asyncio.timeout(self.timing.connect_timeout_s):
                ok = bool(await client.connect())
        except TimeoutError:
            ok, error = False, f"no connection within {self.timing.connect_timeout_s:g} s"
        except (OSError, ModbusException) as e:
            ok, error = False, str(e)
        if not ok or not client.connected:
            client.close()
            self._backoff_s = min(
                self.timing.backoff_max_s, max(self.timing.backoff_initial_s, 2 * self._backoff_s)
            )
            self._retry_at = self._clock.monotonic_s() + self._backoff_s
            self._last_error = error
            raise DeviceUnavailable(f"{self.key}: {error}; retry in {self._backoff_s:.2f} s")
        if self._backoff_s:
            _log.info("%s: reconnected", self.key)
        self._backoff_s = 0.0
        self._client = client
        return client

    def _drop(self) -> None:
        if self._client is not None:
            self._client.close()
            self._client = None

    def _after_timeout(self) -> None:
        """A late answer would be taken for the next request's: start from a clean connection."""
        self._drop()

    async def _request(self, what: str, device_id: int, call: Any) -> Any:
        async with self._lock:
            client = await self._ensure_connected()
            timeout = asyncio.timeout(self.timing.request_timeout_s)
            try:
                async with timeout:
                    response = await _answer(client, call)
            except ConnectionClosed as e:
                self._drop()
                raise DeviceUnavailable(
                    f"{self.key} unit {device_id}: {what}: the device closed the connection"
                ) from e
            except (TimeoutError, ModbusIOException) as e:
                task = asyncio.current_task()
                if task is not None and task.cancelling():
                    # pymodbus turns our own cancellation into ModbusIOException; give it back.
                    raise asyncio.CancelledError from e
                if isinstance(e, TimeoutError) or timeout.expired():
                    self._after_timeout()
                    raise DeviceTimeout(
                        f"{self.key} unit {device_id}: {what}: no answer within "
                        f"{self.timing.request_timeout_s:g} s"
                    ) from e
                self._drop()
                raise ProtocolError(f"{self.key} unit {device_id}: {what}: {e}") from e
            except ConnectionException as e:
                self._drop()
                raise DeviceUnavailable(f"{self.key}: {what}: {e}") from e
            except ModbusException as e:
                raise ProtocolError(f"{self.key} unit {device_id}: {what}: {e}") from e
            finally:
                if self.timing.frame_gap_s > 0:
                    await asyncio.sleep(self.timing.frame_gap_s)
        if response.isError():
            code = int(getattr(response, "exception_code", 0))
            name = _EXCEPTION_NAMES.get(code, "unknown exception")
            raise ProtocolError(f"{self.key} unit {device_id}: {what}: exception {code} ({name})")
        return response

    async def read(self, device_id: int, address: int, count: int, table: Table = Table.HOLDING) -> list[int]:
        """``count`` registers from ``address`` (split into requests of at most 125)."""
        out: list[int] = []
        while count > 0:
            n = min(count, MAX_READ_REGISTERS)
            start = address

            async def call(client: Any, start: int = start, n: int = n) -> Any:
                fn = client.read_holding_registers if table is Table.HOLDING else client.read_input_registers
                return await fn(start, count=n, device_id=device_id)

            response = await self._request(f"read {table} {start}+{n}", device_id, call)
            regs = list(response.registers)
            if len(regs) < n:
                raise ProtocolError(f"{self.key} unit {device_id}: asked for {n} registers, got {len(regs)}")
            out.extend(regs[:n])
            address += n
            count -= n
        return out

    async def write(self, device_id: int, address: int, values: list[int]) -> None:
        """Write holding registers with function 16 (0x10)."""
        if not 0 < len(values) <= MAX_WRITE_REGISTERS:
            raise ValueError(f"write of {len(values)} registers")

        async def call(client: Any) -> Any:
            return await client.write_registers(address, values, device_id=device_id)

        await self._request(f"write {address}+{len(values)}", device_id, call)

    async def close(self) -> None:
        async with self._lock:
            self._drop()


class TcpLink(ModbusLink):
    def __init__(self, host: str, port: int, clock: Clock, timing: LinkTiming | None = None) -> None:
        super().__init__(f"modbus-tcp:{host}:{port}", clock, timing or LinkTiming())
        self.host = host
        self.port = port

    def _make_client(self) -> Any:
        # pymodbus's own retries and reconnects are off: this class owns both policies.
        return AsyncModbusTcpClient(
            self.host,
            port=self.port,
            timeout=self.timing.request_timeout_s + 1.0,
            retries=0,
            reconnect_delay=0,
        )


class RtuLink(ModbusLink):
    def __init__(
        self,
        port: str,
        clock: Clock,
        *,
        baudrate: int = 9600,
        parity: str = "N",
        stopbits: int = 1,
        bytesize: int = 8,
        timing: LinkTiming | None = None,
    ) -> None:
        timing = timing or LinkTiming(frame_gap_s=rtu_frame_gap_s(baudrate))
        super().__init__(f"modbus-rtu:{port}", clock, timing)
        self.port = port
        self.baudrate = baudrate
        self.parity = parity
        self.stopbits = stopbits
        self.bytesize = bytesize

    def _make_client(self) -> Any:
        return AsyncModbusSerialClient(
            self.port,
            baudrate=self.baudrate,
            parity=self.parity,
            stopbits=self.stopbits,
            bytesize=self.bytesize,
            timeout=self.timing.request_timeout_s + 1.0,
            retries=0,
            reconnect_delay=0,
        )

    def _after_timeout(self) -> None:
        # One silent unit must not take the bus down for the others; the gap after the
        # request lets any late frame pass, and the RTU framer drops it by CRC/unit id.
        pass
