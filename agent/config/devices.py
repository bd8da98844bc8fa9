"""Devices: a role (what the planner treats it as), a driver, and the plant parameters it needs.

Power and energy follow ``agent.units``: all limits here are magnitudes (>= 0); the planner
applies the sign convention.
"""

from __future__ import annotations

import itertools
from datetime import time
from decimal import Decimal
from typing import Annotated, ClassVar, Literal, Self

from pydantic import Field, model_validator

from agent.config.base import Strict, cross_field_error
from agent.config.drivers import Driver
from agent.config.thermal import Comfort, CopPoint, House
from agent.config.types import Celsius, ClockTime, Efficiency, Fraction, NonNegativeKw, PositiveKw

ROLES = ("meter", "pv_inverter", "battery", "ev_charger", "heat_pump", "thermostat", "water_heater")
# A relay can only switch; it cannot read a meter, an inverter or a battery's state of charge.
_READING_DRIVERS = frozenset({"modbus_tcp", "modbus_rtu", "mqtt", "simulated"})
_SWITCHABLE_DRIVERS = _READING_DRIVERS | {"gpio_relay"}

EnergyKwh = Annotated[float, Field(gt=0.0, le=10_000.0)]


class _Device(Strict):
    allowed_drivers: ClassVar[frozenset[str]] = _READING_DRIVERS
    driver: Driver

    @model_validator(mode="after")
    def _driver_fits_role(self) -> Self:
        if self.driver.type not in self.allowed_drivers:
            role = getattr(self, "role", "?")
            raise cross_field_error(
                "driver",
                f"a {role} cannot use driver type '{self.driver.type}'; "
                f"allowed: {', '.join(sorted(self.allowed_drivers))}",
            )
        return self


class Meter(_Device):
    """The grid connection point; its counters are what the home is billed on."""

    role: Literal["meter"]
    phases: Literal[1, 3] = 3
    # Limits of the grid connection (fuse, contract); None leaves the direction unconstrained.
    import_max_kw: PositiveKw | None = None
    export_max_kw: NonNegativeKw | None = None


class PvInverter(_Device):
    role: Literal["pv_inverter"]
    peak_kw: PositiveKw
    tilt_deg: Annotated[float, Field(ge=0.0, le=90.0)] = 30.0
    # Compass bearing the panels face, clockwise from north: 180 = south.
    azimuth_deg: Annotated[float, Field(ge=0.0, lt=360.0)] = 180.0
    curtailable: bool = False


class Battery(_Device):
    role: Literal["battery"]
    capacity_kwh: EnergyKwh
    charge_max_kw: PositiveKw
    discharge_max_kw: PositiveKw
    charge_efficiency: Efficiency = 0.95
    discharge_efficiency: Efficiency = 0.95
    soc_min: Fraction = 0.05
    soc_max: Fraction = 0.95
    reserve_soc: Fraction = 0.2
    wear_cost_per_kwh: Annotated[Decimal, Field(ge=Decimal(0), le=Decimal(10))] = Decimal("0.02")

    @model_validator(mode="after")
    def _soc_order(self) -> Self:
        if self.soc_min >= self.soc_max:
            raise cross_field_error(
                "soc_max", f"must be > soc_min (got soc_min {self.soc_min:g}, soc_max {self.soc_max:g})"
            )
        if not self.soc_min <= self.reserve_soc <= self.soc_max:
            raise cross_field_error(
                "reserve_soc",
                f"must lie between soc_min {self.soc_min:g} and soc_max {self.soc_max:g} "
                f"(got {self.reserve_soc:g})",
            )
        return self


class EvCharger(_Device):
    role: Literal["ev_charger"]
    max_kw: PositiveKw
    # IEC 61851 chargers cannot go below 6 A: about 1.4 kW on one phase, 4.1 kW on three.
    min_kw: NonNegativeKw = 0.0
    phases: Literal[1, 3] | None = None
    voltage_v: Annotated[float, Field(ge=100.0, le=480.0)] | None = None
    v2g: bool = False
    v2g_max_kw: PositiveKw | None = None
    departure_time: ClockTime = time(7, 0)
    target_soc: Fraction = 0.8
    battery_kwh: EnergyKwh

    @model_validator(mode="after")
    def _limits(self) -> Self:
        if self.min_kw > self.max_kw:
            raise cross_field_error("min_kw", f"must be <= max_kw {self.max_kw:g} (got {self.min_kw:g})")
        if self.v2g and self.v2g_max_kw is None:
            raise cross_field_error("v2g_max_kw", "is required when v2g is true")
        if not self.v2g and self.v2g_max_kw is not None:
            raise cross_field_error("v2g_max_kw", "is only allowed when v2g is true")
        return self


class _Thermal(_Device):
    allowed_drivers: ClassVar[frozenset[str]] = _SWITCHABLE_DRIVERS
    mode: Literal["heating", "cooling"] = "heating"
    electric_max_kw: PositiveKw
    cop: Annotated[float, Field(gt=0.0, le=15.0)] | None = None
    cop_curve: Annotated[list[CopPoint], Field(min_length=2, max_length=50)] | None = None
    house: House
    comfort: Comfort = Comfort()

    @model_validator(mode="after")
    def _one_cop(self) -> Self:
        if (self.cop is None) == (self.cop_curve is None):
            raise cross_field_error(
                "cop", "give exactly one of 'cop' (constant) or 'cop_curve' (list of {outdoor_c, cop})"
            )
        if self.cop_curve is not None:
            temps = [p.outdoor_c for p in self.cop_curve]
            if any(b <= a for a, b in itertools.pairwise(temps)):
                raise cross_field_error("cop_curve", f"outdoor_c must increase strictly (got {temps})")
        return self


class HeatPump(_Thermal):
    """Power-controlled heat pump (the planner sets its electric power)."""

    role: Literal["heat_pump"]


class Thermostat(_Thermal):
    """Setpoint-controlled heating or cooling (the planner sets a temperature)."""

    role: Literal["thermostat"]


class WaterHeater(_Device):
    allowed_drivers: ClassVar[frozenset[str]] = _SWITCHABLE_DRIVERS
    role: Literal["water_heater"]
    tank_l: Annotated[float, Field(gt=0.0, le=5_000.0)]
    element_kw: PositiveKw
    target_c: Celsius = 55.0
    min_c: Celsius = 45.0
    max_c: Celsius = 65.0
    # Standing loss: heat lost per kelvin between tank and room.
    ua_w_per_k: Annotated[float, Field(gt=0.0, le=100.0)] = 2.0
    inlet_c: Celsius = 12.0
    ambient_c: Celsius = 20.0

    @model_validator(mode="after")
    def _temperature_order(self) -> Self:
        if self.min_c >= self.max_c:
            raise cross_field_error("max_c", f"must be > min_c {self.min_c:g} (got {self.max_c:g})")
        if not self.min_c <= self.target_c <= self.max_c:
            raise cross_field_error(
                "target_c",
                f"must lie between min_c {self.min_c:g} and max_c {self.max_c:g} (got {self.target_c:g})",
            )
        if self.inlet_c >= self.min_c:
            raise cross_field_error("inlet_c", f"must be < min_c {self.min_c:g} (got {self.inlet_c:g})")
        return self


Device = Annotated[
    Meter | PvInverter | Battery | EvCharger | HeatPump | Thermostat | WaterHeater,
    Field(discriminator="role"),
]
