"""Devices: a role (what the planner treats it as), a driver, and the plant parameters it needs.

Power and energy follow ``agent.units``: all limits here are magnitudes (>= 0); the planner
applies the sign convention.
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping
from datetime import time
from decimal import Decimal
from typing import Annotated, Any, ClassVar, Literal

from pydantic import Field

from agent.config.base import Check, Finding, Strict, attr
from agent.config.drivers import Driver
from agent.config.thermal import Comfort, CoolingSeasonDays, CopPoint, House
from agent.config.types import Celsius, ClockTime, Efficiency, Fraction, NonNegativeKw, PositiveKw
from agent.season import Mode, ModeRule, ModeSetting

ROLES = ("meter", "pv_inverter", "battery", "ev_charger", "heat_pump", "thermostat", "water_heater")
# A relay can only switch; it cannot read a meter, an inverter or a battery's state of charge.
_READING_DRIVERS = frozenset({"modbus_tcp", "modbus_rtu", "mqtt", "simulated"})
_SWITCHABLE_DRIVERS = _READING_DRIVERS | {"gpio_relay"}
_SWITCHING_ROLES = frozenset({"heat_pump", "thermostat", "water_heater"})

EnergyKwh = Annotated[float, Field(gt=0.0, le=10_000.0)]


def _driver_fits_role(v: Mapping[str, Any]) -> Finding | None:
    kind = attr(v["driver"], "type")
    allowed = _SWITCHABLE_DRIVERS if v["role"] in _SWITCHING_ROLES else _READING_DRIVERS
    if kind not in allowed:
        return (
            "driver",
            f"a {v['role']} cannot use driver type '{kind}'; allowed: {', '.join(sorted(allowed))}",
        )
    return None


def _soc_order(v: Mapping[str, Any]) -> Finding | None:
    if v["soc_min"] >= v["soc_max"]:
        return "soc_max", f"must be > soc_min (got soc_min {v['soc_min']:g}, soc_max {v['soc_max']:g})"
    return None


def _reserve_in_band(v: Mapping[str, Any]) -> Finding | None:
    # only meaningful once the band itself is sound (else _soc_order already reports it)
    if v["soc_min"] < v["soc_max"] and not v["soc_min"] <= v["reserve_soc"] <= v["soc_max"]:
        return (
            "reserve_soc",
            f"must lie between soc_min {v['soc_min']:g} and soc_max {v['soc_max']:g} "
            f"(got {v['reserve_soc']:g})",
        )
    return None


def _ev_min_below_max(v: Mapping[str, Any]) -> Finding | None:
    if v["min_kw"] > v["max_kw"]:
        return "min_kw", f"must be <= max_kw {v['max_kw']:g} (got {v['min_kw']:g})"
    return None


def _v2g_limit(v: Mapping[str, Any]) -> Finding | None:
    if v["v2g"] is True and v["v2g_max_kw"] is None:
        return "v2g_max_kw", "is required when v2g is true"
    if v["v2g"] is False and v["v2g_max_kw"] is not None:
        return "v2g_max_kw", "is only allowed when v2g is true"
    return None


def _ev_arrival(v: Mapping[str, Any]) -> Finding | None:
    if v["arrival_time"] is not None and v["arrival_time"] == v["departure_time"]:
        return "arrival_time", f"must differ from departure_time {v['departure_time']:%H:%M}"
    return None


def _one_cop(v: Mapping[str, Any]) -> Finding | None:
    if (v["cop"] is None) == (v["cop_curve"] is None):
        return "cop", "give exactly one of 'cop' (constant) or 'cop_curve' (list of {outdoor_c, cop})"
    return None


def _increasing(key: str) -> Check:
    def check(v: Mapping[str, Any]) -> Finding | None:
        if v[key] is None:
            return None
        temps = [float(attr(p, "outdoor_c")) for p in v[key]]
        if any(b <= a for a, b in itertools.pairwise(temps)):
            return key, f"outdoor_c must increase strictly (got {', '.join(f'{t:g}' for t in temps)})"
        return None

    return check


_cop_curve_increasing = _increasing("cop_curve")
_cooling_cop_curve_increasing = _increasing("cooling_cop_curve")


def _one_cooling_cop(v: Mapping[str, Any]) -> Finding | None:
    given = v["cooling_cop"] is not None or v["cooling_cop_curve"] is not None
    if v["mode"] != "auto":
        if given:
            return "cooling_cop", f"is only used with mode auto (with mode {v['mode']}, 'cop' is the mode's)"
        return None
    if (v["cooling_cop"] is None) == (v["cooling_cop_curve"] is None):
        return (
            "cooling_cop",
            "with mode auto give exactly one of 'cooling_cop' (constant) or 'cooling_cop_curve' "
            "(list of {outdoor_c, cop}): the COP while cooling",
        )
    return None


def _season_with_auto(v: Mapping[str, Any]) -> Finding | None:
    if v["mode"] == "auto" and v["cooling_season"] is None:
        return "cooling_season", "is required when mode is auto, e.g. {from: '05-15', to: '09-15'}"
    if v["mode"] != "auto" and v["cooling_season"] is not None:
        return "cooling_season", f"is only used with mode auto (mode is {v['mode']})"
    return None


def _cooling_comfort(v: Mapping[str, Any]) -> Finding | None:
    cooling = v["cooling_comfort"]
    if v["mode"] == "auto" and cooling is None:
        return (
            "cooling_comfort",
            "is required when mode is auto: the band while cooling, e.g. {target_c: 24.5, band_c: 1}",
        )
    if v["mode"] == "heating" and cooling is not None:
        return "cooling_comfort", "is only used with mode cooling or auto (mode is heating)"
    if v["mode"] == "auto":
        cool_c, heat_c = float(attr(cooling, "target_c")), float(attr(v["comfort"], "target_c"))
        if cool_c < heat_c:
            # the house would be cooled in summer below what it is heated to in winter
            return (
                "cooling_comfort",
                f"target_c must be >= comfort.target_c {heat_c:g} (got {cool_c:g})",
            )
    return None


def _tank_band(v: Mapping[str, Any]) -> Finding | None:
    if v["min_c"] >= v["max_c"]:
        return "max_c", f"must be > min_c {v['min_c']:g} (got {v['max_c']:g})"
    return None


def _tank_target(v: Mapping[str, Any]) -> Finding | None:
    # only meaningful once the band itself is sound (else _tank_band already reports it)
    if v["min_c"] < v["max_c"] and not v["min_c"] <= v["target_c"] <= v["max_c"]:
        return (
            "target_c",
            f"must lie between min_c {v['min_c']:g} and max_c {v['max_c']:g} (got {v['target_c']:g})",
        )
    return None


def _tank_inlet(v: Mapping[str, Any]) -> Finding | None:
    if v["inlet_c"] >= v["min_c"]:
        return "inlet_c", f"must be < min_c {v['min_c']:g} (got {v['inlet_c']:g})"
    return None


class _Device(Strict):
    checks: ClassVar[tuple[Check, ...]] = (_driver_fits_role,)
    driver: Driver


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
    checks: ClassVar[tuple[Check, ...]] = (_soc_order, _reserve_in_band)
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


class EvCharger(_Device):
    checks: ClassVar[tuple[Check, ...]] = (_ev_min_below_max, _v2g_limit, _ev_arrival)
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
    # When the car usually comes home, and how charged: the plan keeps energy for a car that is
    # away (None: a plan counts only on a car plugged in now).
    arrival_time: ClockTime | None = None
    arrival_soc: Fraction = 0.3
    battery_kwh: EnergyKwh


class _Thermal(_Device):
    checks: ClassVar[tuple[Check, ...]] = (
        _one_cop,
        _cop_curve_increasing,
        _season_with_auto,
        _cooling_comfort,
        _one_cooling_cop,
        _cooling_cop_curve_increasing,
    )
    # heating or cooling all year, or auto: cooling in cooling_season, heating outside it
    # (agent/season.py has the rule; a plan uses the mode in force when its horizon starts)
    mode: ModeSetting = "heating"
    cooling_season: CoolingSeasonDays | None = None
    electric_max_kw: PositiveKw
    cop: Annotated[float, Field(gt=0.0, le=15.0)] | None = None
    cop_curve: Annotated[list[CopPoint], Field(min_length=2, max_length=50)] | None = None
    # mode auto: the COP while cooling (cop / cop_curve is then the heating one)
    cooling_cop: Annotated[float, Field(gt=0.0, le=15.0)] | None = None
    cooling_cop_curve: Annotated[list[CopPoint], Field(min_length=2, max_length=50)] | None = None
    house: House
    # the band while heating (and while cooling when no cooling_comfort is given)
    comfort: Comfort = Comfort()
    # the band while cooling; required with mode auto
    cooling_comfort: Comfort | None = None

    def mode_rule(self) -> ModeRule:
        season = None if self.cooling_season is None else self.cooling_season.season()
        return ModeRule(self.mode, season)

    def comfort_in(self, mode: Mode) -> Comfort:
        """The comfort band that holds while the heat pump works in ``mode``."""
        if mode == "cooling" and self.cooling_comfort is not None:
            return self.cooling_comfort
        return self.comfort


class HeatPump(_Thermal):
    """Power-controlled heat pump (the planner sets its electric power)."""

    role: Literal["heat_pump"]


class Thermostat(_Thermal):
    """Setpoint-controlled heating or cooling (the planner sets a temperature)."""

    role: Literal["thermostat"]


class WaterHeater(_Device):
    checks: ClassVar[tuple[Check, ...]] = (_tank_band, _tank_target, _tank_inlet)
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


Device = Annotated[
    Meter | PvInverter | Battery | EvCharger | HeatPump | Thermostat | WaterHeater,
    Field(discriminator="role"),
]
