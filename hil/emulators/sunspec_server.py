"""A SunSpec device on Modbus TCP: a register image laid out from the published models, served by pymodbus.

The image is built with the project's own builder (``drivers.modbus.sunspec.image``) from
engineering values per model, so what the server holds is by construction what the SunSpec
definitions say. Reads outside the image answer "illegal data address", as a real device does at
an unused base. Writes are accepted only on points the model marks writable; each write is decoded
(``drivers.modbus.sunspec.decode``) and handed to ``on_write`` (the rig turns it into plant inputs),
which may refuse it (:class:`~hil.errors.EmulatorError` -> "illegal data value", nothing stored).

Faults for the closed loop: ``fault = "garbage"`` answers every read with scale factors out of
range; ``await stop()`` takes the device off the network (connection refused).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Mapping, Sequence
from typing import Any, Literal

from pymodbus.constants import ExcCodes
from pymodbus.datastore import ModbusServerContext
from pymodbus.datastore.context import ModbusBaseDeviceContext
from pymodbus.server import ModbusTcpServer

from drivers.errors import DriverError
from drivers.modbus.sunspec.decode import decode_model
from drivers.modbus.sunspec.image import Value, model_registers
from drivers.modbus.sunspec.models import load_model
from hil.errors import EmulatorError

_log = logging.getLogger("hil.sunspec")

BASE_ADDRESS = 40000
WRITE_CODES = (6, 16)
Fault = Literal["garbage"] | None
WriteHandler = Callable[[int, dict[str, float | int | str]], None]


class SunSpecImage:
    """The register image of one device: 'SunS', the models in order, the end model."""

    def __init__(self, models: Sequence[tuple[int, Mapping[str, Value]]], base: int = BASE_ADDRESS) -> None:
        self.base = base
        self.values: dict[int, dict[str, Value]] = {}
        self.addresses: dict[int, int] = {}
        address = base + 2
        for model_id, values in models:
            if model_id in self.values:
                raise EmulatorError(f"model {model_id} appears twice")
            self.values[model_id] = dict(values)
            self.addresses[model_id] = address
            address += 2 + load_model(model_id).fixed_length
        self.end = address + 2  # after the end model
        self.regs = [0] * (self.end - base)
        self.regs[0:2] = [0x5375, 0x6E53]  # "SunS"
        self.regs[-2:] = [0xFFFF, 0]
        for model_id in self.values:
            self._encode(model_id)

    def _encode(self, model_id: int) -> None:
        start = self.addresses[model_id] - self.base
        block = model_registers(model_id, self.values[model_id])
        self.regs[start : start + len(block)] = block

    def update(self, model_id: int, values: Mapping[str, Value]) -> None:
        """Merge ``values`` into the model's points and re-encode it."""
        self.values[model_id].update(values)
        self._encode(model_id)

    def read(self, address: int, count: int) -> list[int] | None:
        if address < self.base or address + count > self.end:
            return None
        return self.regs[address - self.base : address - self.base + count]

    def model_at(self, address: int) -> int | None:
        for model_id, start in self.addresses.items():
            if start <= address < start + 2 + load_model(model_id).fixed_length:
                return model_id
        return None

    def write(self, address: int, regs: Sequence[int]) -> tuple[int, dict[str, float | int | str]]:
        """Store a write into writable points of one model; its decoded written points."""
        model_id = self.model_at(address)
        if model_id is None or self.model_at(address + len(regs) - 1) != model_id:
            raise EmulatorError(f"write at {address}+{len(regs)} is not inside one model")
        model = load_model(model_id)
        start = self.addresses[model_id]
        first, last = address - start, address - start + len(regs)
        touched = [p for p in model.points.values() if p.offset < last and p.offset + p.size > first]
        for p in touched:
            if not p.writable or p.offset < first or p.offset + p.size > last:
                raise EmulatorError(f"model {model_id} point {p.name} is not writable here")
        trial = self.regs[start - self.base : start - self.base + 2 + model.fixed_length]
        trial[first:last] = list(regs)
        try:
            decoded = decode_model(model, start, trial)
        except DriverError as e:
            raise EmulatorError(f"write leaves model {model_id} undecodable: {e}") from e
        written = {p.name: decoded.values[p.name] for p in touched if p.name in decoded.values}
        return model_id, written


class _Unit(ModbusBaseDeviceContext):
    def __init__(self, server: SunSpecServer) -> None:
        self._server = server

    def reset(self) -> None:
        """Nothing to reset: the image follows the plant."""

    def getValues(self, func_code: int, address: int, count: int = 1) -> Any:  # noqa: N802
        return self._server.read(address, count)

    def setValues(self, func_code: int, address: int, values: Any) -> Any:  # noqa: N802
        return self._server.write(func_code, address, list(values))


class SunSpecServer:
    """One SunSpec device served on ``host:port`` (unit ``unit_id``)."""

    def __init__(
        self,
        name: str,
        image: SunSpecImage,
        *,
        host: str = "127.0.0.1",
        port: int,
        unit_id: int = 1,
        on_write: WriteHandler | None = None,
    ) -> None:
        self.name = name
        self.image = image
        self.host = host
        self.port = port
        self.unit_id = unit_id
        self.on_write = on_write
        self.fault: Fault = None
        self.reads = 0
        self.writes = 0
        self.refused_writes = 0
        self._server: Any = None

    @property
    def running(self) -> bool:
        return self._server is not None

    async def start(self) -> None:
        if self._server is not None:
            return
        context = ModbusServerContext(devices={self.unit_id: _Unit(self)}, single=False)  # type: ignore[no-untyped-call]
        server = ModbusTcpServer(context, address=(self.host, self.port), ignore_missing_devices=True)
        await server.serve_forever(background=True)
        self._server = server

    async def stop(self) -> None:
        """Off the network: clients get connection refused until :meth:`start`."""
        server, self._server = self._server, None
        if server is not None:
            await server.shutdown()
            await asyncio.sleep(0)

    def read(self, address: int, count: int) -> list[int] | ExcCodes:
        self.reads += 1
        regs = self.image.read(address, count)
        if regs is None:
            return ExcCodes.ILLEGAL_ADDRESS
        if self.fault == "garbage":
            # Every register 0x7FFF: scale factors of 32767 are garbage to any SunSpec reader.
            return [0x7FFF] * count
        return regs

    def write(self, func_code: int, address: int, regs: list[int]) -> ExcCodes | None:
        if func_code not in WRITE_CODES:
            return ExcCodes.ILLEGAL_FUNCTION
        try:
            model_id, written = self.image.write(address, regs)
            if self.on_write is not None:
                self.on_write(model_id, written)
        except EmulatorError as e:
            self.refused_writes += 1
            _log.info("%s: refused write at %d: %s", self.name, address, e)
            return ExcCodes.ILLEGAL_VALUE
        self.image.update(model_id, written)
        self.writes += 1
        return None
