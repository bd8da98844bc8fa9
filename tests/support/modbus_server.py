"""A real pymodbus server for tests: TCP on a free loopback port, or RTU on a serial port.

Each unit id has its own register image (:class:`FaultyRegisters`) whose faults the test can
switch on and off while the server runs: a delay longer than the client's timeout, a Modbus
exception response, writes that are acknowledged but not stored.
"""

from __future__ import annotations

import asyncio
import socket
from typing import Any

from pymodbus.constants import ExcCodes
from pymodbus.datastore import ModbusDeviceContext, ModbusSequentialDataBlock, ModbusServerContext
from pymodbus.framer import FramerType
from pymodbus.server import ModbusSerialServer, ModbusTcpServer

REGISTERS = 65536


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


class FaultyRegisters(ModbusSequentialDataBlock):
    """65536 registers addressed from 0, with switchable faults."""

    def __init__(self) -> None:
        # ModbusDeviceContext adds 1 to every address before asking the block.
        super().__init__(1, [0] * REGISTERS)  # type: ignore[no-untyped-call]
        self.delay_s = 0.0
        self.exception: ExcCodes | None = None
        self.ignore_writes = False
        self.reads = 0
        self.writes = 0

    def load(self, address: int, values: list[int]) -> None:
        self.values[address : address + len(values)] = values

    def peek(self, address: int, count: int = 1) -> list[int]:
        return list(self.values[address : address + count])


class FaultyDevice(ModbusDeviceContext):
    """One unit: holding and input registers share ``regs``; faults apply to both."""

    def __init__(self, regs: FaultyRegisters) -> None:
        super().__init__(hr=regs, ir=regs)
        self.regs = regs

    async def async_getValues(self, func_code: int, address: int, count: int = 1) -> Any:  # noqa: N802
        self.regs.reads += 1
        if self.regs.delay_s:
            await asyncio.sleep(self.regs.delay_s)
        if self.regs.exception is not None:
            return self.regs.exception
        return self.getValues(func_code, address, count)

    async def async_setValues(self, func_code: int, address: int, values: Any) -> Any:  # noqa: N802
        self.regs.writes += 1
        if self.regs.exception is not None:
            return self.regs.exception
        if self.regs.ignore_writes:
            return None
        return self.setValues(func_code, address, values)


class ModbusTestServer:
    """Serves ``units`` (unit id -> registers); start/stop/restart while clients run."""

    def __init__(self, units: dict[int, FaultyRegisters] | None = None) -> None:
        self.units = units or {1: FaultyRegisters()}
        self._server: Any = None

    def _context(self) -> ModbusServerContext:
        devices = {uid: FaultyDevice(regs) for uid, regs in self.units.items()}
        return ModbusServerContext(devices=devices, single=False)  # type: ignore[no-untyped-call]

    async def stop(self) -> None:
        if self._server is not None:
            await self._server.shutdown()
            self._server = None
            await asyncio.sleep(0.05)

    @property
    def running(self) -> bool:
        return self._server is not None


class TcpTestServer(ModbusTestServer):
    def __init__(self, units: dict[int, FaultyRegisters] | None = None, port: int | None = None) -> None:
        super().__init__(units)
        self.host = "127.0.0.1"
        self.port = port or free_port()

    async def start(self) -> None:
        # ignore_missing_devices: an unknown unit gets no answer, as behind a real gateway.
        self._server = ModbusTcpServer(
            self._context(), address=(self.host, self.port), ignore_missing_devices=True
        )
        await self._server.serve_forever(background=True)


class RtuTestServer(ModbusTestServer):
    def __init__(
        self, port: str, units: dict[int, FaultyRegisters] | None = None, baudrate: int = 19200
    ) -> None:
        super().__init__(units)
        self.port = port
        self.baudrate = baudrate

    async def start(self) -> None:
        self._server = ModbusSerialServer(
            self._context(),
            framer=FramerType.RTU,
            port=self.port,
            baudrate=self.baudrate,
            ignore_missing_devices=True,
        )
        await self._server.serve_forever(background=True)
