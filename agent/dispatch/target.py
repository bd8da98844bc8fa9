"""What the control cycle asks dispatch to do in the current interval, per device name.

Values follow ``agent/units.py``: battery and EV power +charging; loads >= 0. A target says
what the plan wants; dispatch alone decides what is written (limits, ramps, safe rules).
A device the target does not name falls to its safe rule for this cycle.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

from agent.config import devices as cfg
from agent.config.model import Config
from agent.dispatch.errors import TargetError
from agent.season import Mode


def _finite(name: str, value: float | None) -> None:
    if value is not None and not (isinstance(value, int | float) and math.isfinite(value)):
        raise TargetError(name, f"must be a finite number (got {value!r})")


def _non_negative(name: str, value: float | None) -> None:
    _finite(name, value)
    if value is not None and value < 0:
        raise TargetError(name, f"must be >= 0 (got {value!r})")


@dataclass(frozen=True, slots=True)
class BatteryTarget:
    power_kw: float  # +charge / -discharge
    grid_kw: float | None = None  # the plan's meter flow in the same interval, +import

    def __post_init__(self) -> None:
        _finite("battery.power_kw", self.power_kw)
        _finite("battery.grid_kw", self.grid_kw)


@dataclass(frozen=True, slots=True)
class EvTarget:
    """Charging power or current per phase (give one); 0 pauses the session."""

    power_kw: float | None = None
    current_a: float | None = None

    def __post_init__(self) -> None:
        _finite("ev.power_kw", self.power_kw)
        _non_negative("ev.current_a", self.current_a)
        if (self.power_kw is None) == (self.current_a is None):
            raise TargetError("ev", "give exactly one of power_kw or current_a")

    def power_kw_a(self, w_per_a: float) -> float:
        """The target as a current per phase, A (``w_per_a``: phases x phase voltage)."""
        if self.current_a is not None:
            return self.current_a
        assert self.power_kw is not None
        return self.power_kw * 1000.0 / w_per_a


@dataclass(frozen=True, slots=True)
class ThermalTarget:
    """A setpoint (thermostat) or an electric power (relay-switched heat pump), or both.

    ``mode``: heating or cooling, the mode the plan was made in (None: the mode in force now by
    the device's rule); the thermostat is put in it and the setpoint held in its comfort band.
    """

    setpoint_c: float | None = None
    electric_kw: float | None = None
    mode: Mode | None = None

    def __post_init__(self) -> None:
        _finite("thermal.setpoint_c", self.setpoint_c)
        _non_negative("thermal.electric_kw", self.electric_kw)
        if self.setpoint_c is None and self.electric_kw is None:
            raise TargetError("thermal", "give setpoint_c or electric_kw")
        if self.mode not in (None, "heating", "cooling"):
            raise TargetError("thermal.mode", f"must be 'heating' or 'cooling' (got {self.mode!r})")


@dataclass(frozen=True, slots=True)
class WaterHeaterTarget:
    """Element power (duty on a relay, on/off when only that is possible), or on/off."""

    power_kw: float | None = None
    on: bool | None = None

    def __post_init__(self) -> None:
        _non_negative("water_heater.power_kw", self.power_kw)
        if (self.power_kw is None) == (self.on is None):
            raise TargetError("water_heater", "give exactly one of power_kw or on")


@dataclass(frozen=True, slots=True)
class PvTarget:
    """Cap on AC production; ``None`` lifts the cap."""

    limit_kw: float | None = None

    def __post_init__(self) -> None:
        _non_negative("pv.limit_kw", self.limit_kw)


DeviceTarget = BatteryTarget | EvTarget | ThermalTarget | WaterHeaterTarget | PvTarget


@dataclass(frozen=True, slots=True)
class DispatchTarget:
    devices: Mapping[str, DeviceTarget]
    label: str = "plan"  # where it came from (shown in the report): plan id, "manual", ...
    extra: Mapping[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        object.__setattr__(self, "devices", MappingProxyType(dict(self.devices)))


# Below this a planned curtailment or load is solver noise, not an intention.
_EPS_KW = 1e-3


def target_from_setpoints(
    setpoints: Mapping[str, float],
    config: Config,
    *,
    pv_forecast_kw: float | None = None,
    heat_mode: Mode | None = None,
    label: str = "plan",
) -> DispatchTarget:
    """Map one interval of a plan (``Plan.setpoints(0)``) onto the configured devices.

    The planner has one device of each kind, named by its series (``battery_kw``, ``ev_kw``,
    ``heat_pump_kw`` with ``indoor_c``, ``water_heater_kw``, ``pv_curtail_kw``). PV curtailment
    becomes a production cap of forecast - curtailment, so it needs ``pv_forecast_kw``.
    ``heat_mode``: the mode the plan was made in (its heat pump inputs' ``mode``).
    """
    out: dict[str, DeviceTarget] = {}
    for name, dev in config.devices.items():
        if isinstance(dev, cfg.Battery) and "battery_kw" in setpoints:
            out[name] = BatteryTarget(setpoints["battery_kw"], setpoints.get("grid_kw"))
        elif isinstance(dev, cfg.EvCharger) and "ev_kw" in setpoints:
            out[name] = EvTarget(power_kw=setpoints["ev_kw"])
        elif isinstance(dev, cfg.HeatPump | cfg.Thermostat) and "heat_pump_kw" in setpoints:
            electric_kw = max(0.0, setpoints["heat_pump_kw"])
            mode = heat_mode or fixed_mode(dev)
            out[name] = ThermalTarget(
                setpoint_c=_setpoint_c(dev, mode, setpoints.get("indoor_c"), electric_kw),
                electric_kw=electric_kw,
                mode=heat_mode,
            )
        elif isinstance(dev, cfg.WaterHeater) and "water_heater_kw" in setpoints:
            out[name] = WaterHeaterTarget(power_kw=max(0.0, setpoints["water_heater_kw"]))
        elif isinstance(dev, cfg.PvInverter) and dev.curtailable and "pv_curtail_kw" in setpoints:
            curtail_kw = setpoints["pv_curtail_kw"]
            if curtail_kw <= _EPS_KW:
                out[name] = PvTarget(None)
            elif pv_forecast_kw is not None:
                out[name] = PvTarget(max(0.0, pv_forecast_kw - curtail_kw))
    return DispatchTarget(out, label=label)


# Below this share of its electric maximum a planned heat pump counts as off.
_OFF_SHARE = 0.02


def fixed_mode(dev: cfg.HeatPump | cfg.Thermostat) -> Mode:
    """The mode a target without one means: the configured one (heating for auto, as before)."""
    return "cooling" if dev.mode == "cooling" else "heating"


def _setpoint_c(
    dev: cfg.HeatPump | cfg.Thermostat, mode: Mode, planned_c: float | None, electric_kw: float
) -> float | None:
    """The thermostat's setpoint for one planned interval.

    Running: the temperature the plan reaches by the interval's end (the thermostat's own control
    gets the house there). Off: the comfort band's far edge (the upper one when cooling, the lower
    one when heating), so the house floats inside the band. Asking for the planned temperature
    when the plan runs nothing would make the thermostat run whenever the house drifts the other
    way from what the plan foresaw; a model that expects the house to cool by itself would ratchet
    a cooled house down to the band's lower edge.
    """
    if planned_c is None or electric_kw >= _OFF_SHARE * dev.electric_max_kw:
        return planned_c
    band = dev.comfort_in(mode)
    if mode == "cooling":
        return max(planned_c, band.target_c + band.band_c)
    return min(planned_c, band.target_c - band.band_c)
