"""What every Modbus device shares: health, value store, report, verified writes, safe stop."""

from __future__ import annotations

import logging

from agent.clock import Clock
from drivers.base import Capabilities, DeviceIdentity, DeviceLimits, DeviceReport, Health, ValueStore
from drivers.errors import DriverError, WriteVerifyError
from drivers.modbus.codec import RegType, WordOrder, decode, encode
from drivers.modbus.link import ModbusLink, Table

# Polled values are refreshed every control cycle (seconds to a minute); one missed poll is
# tolerated, a value older than this is not used.
DEFAULT_STALE_AFTER_S = 120.0


class ModbusDevice(DeviceIdentity):
    def __init__(
        self,
        name: str,
        driver: str,
        *,
        link: ModbusLink,
        unit_id: int,
        clock: Clock,
        limits: DeviceLimits,
        stale_after_s: float = DEFAULT_STALE_AFTER_S,
    ) -> None:
        self._name = name
        self._driver = driver
        self.link = link
        self.unit_id = unit_id
        self._clock = clock
        self._limits = limits
        self._health = Health(name, clock, logging.getLogger(f"drivers.modbus.{name}"))
        self.store = ValueStore(clock, name, stale_after_s)
        self._capabilities = Capabilities()
        self.info: dict[str, str] = {"link": link.key, "unit_id": str(unit_id)}
        self._commanded = False  # a battery/curtailment command is active: undo it on stop

    @property
    def device_name(self) -> str:
        return self._name

    async def start(self) -> None:
        """Nothing to open: the shared link connects on first use (an absent device is no error)."""

    async def refresh(self) -> None:
        with self._health.track():
            await self._poll()

    async def _poll(self) -> None:
        raise NotImplementedError

    async def stop(self) -> None:
        """Hand control back to the device's own logic if we commanded anything."""
        if not self._commanded:
            return
        try:
            await self._release()
            self._commanded = False
        except DriverError as e:
            self._health.record_failure(e)

    async def _release(self) -> None:
        """Lift our battery and curtailment commands (subclasses with controls override)."""

    def report(self) -> DeviceReport:
        values, errors = self.store.report()
        return DeviceReport(
            device=self._name,
            driver=self._driver,
            info=dict(self.info),
            values=values,
            errors=errors,
            health=self._health.snapshot(),
            capabilities=self._capabilities.provided(),
        )

    def source(self, table: Table | str, address: int) -> str:
        return f"{self.link.key} unit {self.unit_id} {table} {address}"

    async def write_verified(
        self, what: str, address: int, raw: int | float, reg_type: RegType, word_order: WordOrder = "big"
    ) -> None:
        """Write ``raw`` and read it back; :class:`WriteVerifyError` if the device kept another value."""
        registers = encode(raw, reg_type, word_order)
        await self.link.write(self.unit_id, address, registers)
        back = decode(await self.link.read(self.unit_id, address, len(registers)), reg_type, word_order)
        if back != decode(registers, reg_type, word_order):
            raise WriteVerifyError(
                f"{what} at {address} did not stick", device=self._name, wanted=raw, got=back
            )
