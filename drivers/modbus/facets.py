"""Capability objects of Modbus devices, reading from the device's value store.

Both the SunSpec and the register-map driver store their values under the same names
(``power_w``, ``import_kwh``, ``pv_power_w``, ``battery_soc_pct``, ...), so one set of facets
serves both. Writes go through a :class:`Writer` (the device), after the limit checks here.
"""

from __future__ import annotations

from typing import Protocol

from drivers.base import BatteryLimits, DeviceLimits, Reading, ValueStore
from drivers.errors import DriverConfigError, StaleValue

PHASE_POINTS = tuple(f"l{i}_{q}" for q in ("power_w", "current_a", "voltage_v") for i in (1, 2, 3))
METER_POINTS = ("power_w", "import_kwh", "export_kwh")
PV_POINTS = ("pv_power_w", "pv_energy_kwh")
BATTERY_POINTS = ("battery_soc_pct", "battery_power_w")


class Writer(Protocol):
    @property
    def device_name(self) -> str: ...

    async def write_curtailment_limit_w(self, limit_w: float | None) -> None: ...

    async def write_battery_power_w(self, power_w: float) -> None: ...


class WindowWriter(Writer, Protocol):
    async def write_battery_window_w(self, lo_w: float, hi_w: float) -> None: ...


class ModbusMeter:
    def __init__(self, store: ValueStore) -> None:
        self._store = store

    def import_kwh(self) -> Reading[float]:
        return self._store.number("import_kwh")

    def export_kwh(self) -> Reading[float]:
        return self._store.number("export_kwh")

    def power_w(self) -> Reading[float]:
        return self._store.number("power_w")


class ModbusPhaseMeter(ModbusMeter):
    def _three(self, quantity: str) -> tuple[Reading[float], Reading[float], Reading[float]]:
        return (
            self._store.number(f"l1_{quantity}"),
            self._store.number(f"l2_{quantity}"),
            self._store.number(f"l3_{quantity}"),
        )

    def phase_power_w(self) -> tuple[Reading[float], Reading[float], Reading[float]]:
        return self._three("power_w")

    def phase_current_a(self) -> tuple[Reading[float], Reading[float], Reading[float]]:
        return self._three("current_a")

    def phase_voltage_v(self) -> tuple[Reading[float], Reading[float], Reading[float]]:
        return self._three("voltage_v")


class ModbusPv:
    def __init__(self, store: ValueStore, writer: Writer, limits: DeviceLimits) -> None:
        self._store = store
        self._writer = writer
        self._limits = limits

    def power_w(self) -> Reading[float]:
        return self._store.number("pv_power_w")

    def energy_kwh(self) -> Reading[float]:
        return self._store.number("pv_energy_kwh")

    def rated_power_w(self) -> float:
        if self._limits.pv_rated_w is not None:
            return self._limits.pv_rated_w
        return self._store.number("pv_rated_w").value

    async def set_curtailment_limit_w(self, limit_w: float | None) -> None:
        rated_w = self._limits.pv_rated_w
        if rated_w is None:
            raise DriverConfigError(
                "no configured rated power: curtailment refused", device=self._writer.device_name
            )
        if limit_w is not None and not 0.0 <= limit_w <= rated_w:
            raise DriverConfigError(
                f"curtailment limit {limit_w:g} W outside 0..{rated_w:g} W", device=self._writer.device_name
            )
        await self._writer.write_curtailment_limit_w(limit_w)


class ModbusBattery:
    def __init__(self, store: ValueStore, writer: Writer, limits: DeviceLimits) -> None:
        self._store = store
        self._writer = writer
        self._limits = limits.battery

    def soc_pct(self) -> Reading[float]:
        return self._store.number("battery_soc_pct")

    def power_w(self) -> Reading[float]:
        return self._store.number("battery_power_w")

    def limits(self) -> BatteryLimits:
        if self._limits is None:
            raise DriverConfigError("no configured battery limits", device=self._writer.device_name)
        return self._limits

    def _envelope(self) -> tuple[float, float]:
        """(max charge W, max discharge W): the configured limits, narrowed by the device's."""
        limits = self.limits()
        max_charge_w, max_discharge_w = limits.max_charge_w, limits.max_discharge_w
        # The device may narrow the configured limits (a cold battery charges slower). A narrowing
        # not read lately is not known: the configured limits (the installer's envelope) stand,
        # and the inverter still clamps to its own; refusing the write instead left the battery
        # on its previous setpoint for as long as that register lagged the others.
        for point, current in (("battery_max_charge_w", max_charge_w), ("battery_max_discharge_w", None)):
            if self._store.has(point):
                try:
                    device_max = self._store.number(point).value
                except StaleValue:
                    continue
                if current is not None:
                    max_charge_w = min(max_charge_w, device_max)
                else:
                    max_discharge_w = min(max_discharge_w, device_max)
        return max_charge_w, max_discharge_w

    def _check(self, power_w: float, what: str) -> None:
        max_charge_w, max_discharge_w = self._envelope()
        if not -max_discharge_w <= power_w <= max_charge_w:
            raise DriverConfigError(
                f"{what} {power_w:g} W outside -{max_discharge_w:g}..{max_charge_w:g} W",
                device=self._writer.device_name,
            )

    async def set_power_w(self, power_w: float) -> None:
        self._check(power_w, "battery power")
        await self._writer.write_battery_power_w(power_w)


class SelfConsumptionBattery(ModbusBattery):
    """A battery whose inverter can run its own self-consumption loop within a power window."""

    def __init__(self, store: ValueStore, writer: WindowWriter, limits: DeviceLimits) -> None:
        super().__init__(store, writer, limits)
        self._window_writer = writer

    async def set_power_window_w(self, lo_w: float, hi_w: float) -> None:
        if not lo_w <= 0.0 <= hi_w:
            raise DriverConfigError(
                f"battery window {lo_w:g}..{hi_w:g} W must hold 0", device=self._writer.device_name
            )
        self._check(lo_w, "battery window floor")
        self._check(hi_w, "battery window ceiling")
        await self._window_writer.write_battery_window_w(lo_w, hi_w)
