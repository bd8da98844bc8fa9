"""What dispatch decides per device: a command, the mode it was decided in, and why."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from drivers.base import ThermostatMode


class Action(StrEnum):
    BATTERY_POWER_W = "battery_power_w"  # +charge / -discharge
    EV_CURRENT_A = "ev_current_a"  # per phase; 0 pauses; negative discharges (V2G chargers)
    SETPOINT_C = "setpoint_c"
    ELEMENT_ON = "element_on"  # water heater with its own switch (MQTT)
    ELEMENT_POWER_W = "element_power_w"
    SWITCH_ON = "switch_on"  # a relay
    SWITCH_DUTY = "switch_duty"  # a time-proportioned relay, fraction 0..1
    CURTAIL_LIMIT_W = "curtail_limit_w"  # None lifts the cap


class Mode(StrEnum):
    OPTIMISED = "optimised"
    SAFE = "safe"


@dataclass(frozen=True, slots=True)
class Command:
    action: Action
    value: float | bool | None
    # BATTERY_POWER_W only: (lo, hi) W, lo <= 0 <= hi, for an inverter that follows the home's
    # flows itself within it (drivers.base.WindowedBattery); others take ``value``.
    window_w: tuple[float, float] | None = None
    # SETPOINT_C only: the system mode the setpoint is meant for, on a thermostat that can be put
    # in heating or cooling (drivers.base.ModeSwitching); None leaves the mode alone.
    thermostat_mode: ThermostatMode | None = None

    def __str__(self) -> str:
        v = self.value
        shown = "lift" if v is None else (str(v).lower() if isinstance(v, bool) else f"{v:.4g}")
        if self.window_w is not None:
            shown += f" within [{self.window_w[0]:.4g}, {self.window_w[1]:.4g}]"
        if self.thermostat_mode is not None:
            shown += f" ({self.thermostat_mode.value})"
        return f"{self.action.value}={shown}"


@dataclass(frozen=True, slots=True)
class Decision:
    """``wanted``: what the target or safe rule asked for; ``command``: that within every limit."""

    mode: Mode
    reason: str | None  # why safe (None when optimised)
    wanted: Command | None
    command: Command | None
    limited_by: tuple[str, ...] = ()
