"""One small protocol per device capability.

Getters are synchronous: they return the latest :class:`Reading` that the device's ``refresh``
(polled devices) or its subscription (pushed devices) stored, and raise
:class:`~drivers.errors.StaleValue` when it is too old. Setters are coroutines that do the I/O,
refuse values outside the configured limits (:class:`~drivers.errors.DriverConfigError`, nothing
is sent) and read back what they wrote (:class:`~drivers.errors.WriteVerifyError`).

Signs follow ``agent/units.py``: meter power +import/-export; battery and EV power
+charging/-discharging; PV power is a production >= 0.

The optional capabilities (phase values, vehicle SoC, element power) are ``runtime_checkable``:
test the object of the main capability with ``isinstance``.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Protocol, runtime_checkable

from drivers.base.reading import Reading


class EnergyMeter(Protocol):
    def import_kwh(self) -> Reading[float]:
        """Cumulative energy imported through the meter, kWh (a counter that never decreases)."""
        ...

    def export_kwh(self) -> Reading[float]:
        """Cumulative energy exported through the meter, kWh (a counter that never decreases)."""
        ...

    def power_w(self) -> Reading[float]:
        """Total active power, W: positive = import (into the home), negative = export."""
        ...


@runtime_checkable
class PhaseMeter(Protocol):
    def phase_power_w(self) -> tuple[Reading[float], Reading[float], Reading[float]]:
        """Active power of L1, L2, L3, W, signed like ``power_w``."""
        ...

    def phase_current_a(self) -> tuple[Reading[float], Reading[float], Reading[float]]:
        """RMS current of L1, L2, L3, A (unsigned)."""
        ...

    def phase_voltage_v(self) -> tuple[Reading[float], Reading[float], Reading[float]]:
        """Line-to-neutral RMS voltage of L1, L2, L3, V."""
        ...


class PvInverter(Protocol):
    def power_w(self) -> Reading[float]:
        """AC power produced, W, >= 0."""
        ...

    def energy_kwh(self) -> Reading[float]:
        """Lifetime energy produced, kWh (counter)."""
        ...

    def rated_power_w(self) -> float:
        """Nameplate AC power, W (from the device or the configuration)."""
        ...

    async def set_curtailment_limit_w(self, limit_w: float | None) -> None:
        """Cap AC production at ``limit_w`` W (0 <= limit <= rated); ``None`` lifts the cap."""
        ...


@dataclass(frozen=True, slots=True)
class BatteryLimits:
    capacity_kwh: float
    max_charge_w: float  # >= 0
    max_discharge_w: float  # >= 0, a magnitude
    min_soc_pct: float = 0.0
    max_soc_pct: float = 100.0


class Battery(Protocol):
    def soc_pct(self) -> Reading[float]:
        """State of charge, percent 0-100."""
        ...

    def power_w(self) -> Reading[float]:
        """Battery power, W: positive = charging, negative = discharging."""
        ...

    def limits(self) -> BatteryLimits:
        """Capacity and power limits (configured; devices may only narrow them)."""
        ...

    async def set_power_w(self, power_w: float) -> None:
        """Command a power, W (+charge/-discharge), within ``limits()``."""
        ...


@runtime_checkable
class WindowedBattery(Battery, Protocol):
    """A battery whose inverter runs its own fast self-consumption loop within a power window.

    Inside ``[lo_w, hi_w]`` (``lo_w <= 0 <= hi_w``) the inverter moves the battery, as fast as it
    measures, to bring the meter to zero: it charges from surplus up to ``hi_w`` and discharges
    into the home's loads up to ``-lo_w``. A one-minute setpoint cannot follow an element or a
    compressor switching: each step it lags goes out to the grid at the export price or comes in
    at the import price.
    """

    async def set_power_window_w(self, lo_w: float, hi_w: float) -> None: ...


class ThermostatMode(StrEnum):
    OFF = "off"
    HEAT = "heat"
    COOL = "cool"
    AUTO = "auto"


class Thermostat(Protocol):
    def indoor_c(self) -> Reading[float]:
        """Measured indoor temperature, degrees Celsius."""
        ...

    def setpoint_c(self) -> Reading[float]:
        """Active setpoint, degrees Celsius."""
        ...

    def mode(self) -> Reading[ThermostatMode]: ...

    async def set_setpoint_c(self, setpoint_c: float) -> None:
        """Set the setpoint, degrees Celsius, within the configured comfort limits."""
        ...


@runtime_checkable
class ModeSwitching(Thermostat, Protocol):
    """A thermostat that can be put in heating or cooling (its system mode): a heat pump that
    both heats and cools, changed over by the agent with the season."""

    async def set_mode(self, mode: ThermostatMode) -> None: ...


class WaterHeater(Protocol):
    def tank_c(self) -> Reading[float]:
        """Tank water temperature, degrees Celsius."""
        ...

    def element_on(self) -> Reading[bool]:
        """Whether the heating element is energised."""
        ...

    async def set_element_on(self, on: bool) -> None: ...


@runtime_checkable
class MeteredElement(Protocol):
    """A water heater that measures its element's power (a switch with a power meter)."""

    def element_power_w(self) -> Reading[float]:
        """Element power, W, >= 0."""
        ...


@runtime_checkable
class ElementPower(Protocol):
    """A water heater whose element power is continuously adjustable."""

    def element_power_w(self) -> Reading[float]:
        """Element power, W, >= 0."""
        ...

    async def set_element_power_w(self, power_w: float) -> None: ...


class EvCharger(Protocol):
    def plugged(self) -> Reading[bool]: ...

    def charging(self) -> Reading[bool]: ...

    def power_w(self) -> Reading[float]:
        """Charging power, W: positive = into the vehicle."""
        ...

    def current_limit_a(self) -> Reading[float]:
        """The charge current the charger currently offers, A per phase."""
        ...

    def session_kwh(self) -> Reading[float]:
        """Energy delivered in the current (or last) session, kWh."""
        ...

    async def set_current_limit_a(self, current_a: float) -> None:
        """Offer ``current_a`` A per phase (0 pauses charging) within the configured limits."""
        ...


@runtime_checkable
class BidirectionalCharger(Protocol):
    """An EV charger that can also discharge the vehicle into the home (V2G).

    ISO 15118-20 bidirectional power transfer, or a DC charger with its own converter; a J1772 /
    IEC 61851 pilot (OpenEVSE and most AC wallboxes) can only offer a charge current.
    """

    async def set_signed_current_a(self, current_a: float) -> None:
        """Current per phase, A: positive charges as ``set_current_limit_a`` does, 0 pauses, and
        negative discharges the vehicle, at most the configured V2G limit
        (``DeviceLimits.ev_discharge_current_a``; none configured: refused, nothing sent).
        ``current_limit_a`` reads back negative while discharging.
        """
        ...


@runtime_checkable
class VehicleSoc(Protocol):
    def vehicle_soc_pct(self) -> Reading[float]:
        """The vehicle's state of charge, percent, where the charger learns it."""
        ...


class Switch(Protocol):
    """A relay output (a resistive load switched on and off)."""

    def is_on(self) -> Reading[bool]: ...

    async def set_on(self, on: bool) -> None: ...
