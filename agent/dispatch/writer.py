"""Sending one command through a device's capability, and reading its value back.

The drivers check limits and verify each write themselves (``WriteVerifyError``); the value
read back here is what the status page shows next to the command.
"""

from __future__ import annotations

import math
from typing import Any

from agent.dispatch.commands import Action, Command
from agent.dispatch.errors import DispatchError
from agent.dispatch.settings import DispatchSettings
from agent.dispatch.snapshot import Snapshot
from drivers.base import (
    BidirectionalCharger,
    Capabilities,
    ElementPower,
    ModeSwitching,
    Reading,
    ThermostatMode,
    WindowedBattery,
)
from drivers.errors import DriverError
from drivers.gpio.relay import TimeProportioned


class NoOutput(DispatchError):
    """The device lacks the capability the command needs (not discovered, wrong driver)."""


def _need(cap: Any, what: str) -> Any:
    if cap is None:
        raise NoOutput(f"device has no {what} capability")
    return cap


async def send(cmd: Command, caps: Capabilities) -> float | bool | None:
    """Write ``cmd``; returns the read-back value (``None`` where the device has no getter)."""
    v = cmd.value
    getter: Any = None
    match cmd.action:
        case Action.BATTERY_POWER_W:
            battery = _need(caps.battery, "battery")
            if cmd.window_w is not None and isinstance(battery, WindowedBattery):
                await battery.set_power_window_w(*cmd.window_w)
            else:
                await battery.set_power_w(float(v or 0.0))
        case Action.EV_CURRENT_A:
            ev = _need(caps.ev_charger, "ev_charger")
            current_a = float(v or 0.0)
            if current_a < 0.0:
                if not isinstance(ev, BidirectionalCharger):
                    raise NoOutput("the charger cannot discharge the vehicle")
                await ev.set_signed_current_a(current_a)
            else:
                await ev.set_current_limit_a(current_a)
            getter = ev.current_limit_a
        case Action.SETPOINT_C:
            th = _need(caps.thermostat, "thermostat")
            wanted = cmd.thermostat_mode
            # the mode first: a cooling setpoint given to a heating thermostat would heat
            if wanted is not None and isinstance(th, ModeSwitching) and _current_mode(th) is not wanted:
                await th.set_mode(wanted)
            await th.set_setpoint_c(float(v or 0.0))
            getter = th.setpoint_c
        case Action.ELEMENT_ON:
            wh = _need(caps.water_heater, "water_heater")
            await wh.set_element_on(bool(v))
            getter = wh.element_on
        case Action.ELEMENT_POWER_W:
            wh = _need(caps.water_heater, "water_heater")
            if not isinstance(wh, ElementPower):
                raise NoOutput("water heater has no adjustable element power")
            await wh.set_element_power_w(float(v or 0.0))
            getter = wh.element_power_w
        case Action.SWITCH_ON:
            sw = _need(caps.switch, "switch")
            await sw.set_on(bool(v))
            getter = sw.is_on
        case Action.SWITCH_DUTY:
            sw = _need(caps.switch, "switch")
            if not isinstance(sw, TimeProportioned):
                raise NoOutput("relay cannot be time-proportioned")
            await sw.set_duty(float(v or 0.0))
            getter = getattr(sw, "is_on", None)
        case Action.CURTAIL_LIMIT_W:
            await _need(caps.pv_inverter, "pv_inverter").set_curtailment_limit_w(
                None if v is None else float(v)
            )
    if getter is None:
        return None
    try:
        reading: Reading[Any] = getter()
    except DriverError:
        return None  # the driver verified the write; a getter not refreshed yet is no failure
    value = reading.value
    return value if isinstance(value, bool | float | int) else None


def _current_mode(th: Any) -> ThermostatMode | None:
    try:
        mode: ThermostatMode = th.mode().value
    except DriverError:
        return None  # unknown: written
    return mode


# Where a command can be compared with the device's own current value (skip if already there).
_CURRENT = {
    Action.EV_CURRENT_A: "ev.current_limit_a",
    Action.SETPOINT_C: "thermostat.setpoint_c",
    Action.ELEMENT_ON: "water_heater.element_on",
    Action.SWITCH_ON: "switch.on",
}


def _close(a: float | bool | None, b: float | bool | None, deadband: float) -> bool:
    if a is None or b is None or isinstance(a, bool) or isinstance(b, bool):
        return a == b
    if (a == 0.0) != (b == 0.0):
        return False  # idle / pause / off is always written exactly
    return math.isclose(a, b, abs_tol=deadband) or abs(a - b) < deadband


def deadband(cmd: Command, settings: DispatchSettings) -> float:
    return {
        Action.BATTERY_POWER_W: settings.battery_deadband_w,
        Action.EV_CURRENT_A: settings.ev_deadband_a,
        Action.SETPOINT_C: settings.setpoint_deadband_c,
        Action.ELEMENT_POWER_W: settings.power_deadband_w,
        Action.SWITCH_DUTY: settings.duty_deadband,
        Action.CURTAIL_LIMIT_W: settings.curtail_deadband_w,
    }.get(cmd.action, 0.0)


def unchanged(
    cmd: Command,
    *,
    last: Command | None,
    last_age_s: float | None,
    snapshot: Snapshot,
    device: str,
    settings: DispatchSettings,
) -> str | None:
    """Why writing ``cmd`` is unnecessary, or ``None`` when it must be written."""
    band = deadband(cmd, settings)
    if (
        last is not None
        and last.action is cmd.action
        and last_age_s is not None
        and last_age_s < settings.reassert_s
    ):
        if (
            _close(cmd.value, last.value, band)
            and _same_window(cmd, last, band)
            and cmd.thermostat_mode is last.thermostat_mode
        ):
            return f"within deadband of last write ({last})"
        return None
    if cmd.thermostat_mode is not None and not _mode_is(snapshot, device, cmd.thermostat_mode):
        return None  # the mode must change (or is not known)
    quantity = _CURRENT.get(cmd.action)
    if quantity is not None and snapshot.fresh(device, quantity):
        current = snapshot.get(device, quantity).value
        if isinstance(current, bool | int | float) and _close(cmd.value, current, band):
            return f"device already at {current!r}"
    return None


def _mode_is(snapshot: Snapshot, device: str, mode: ThermostatMode) -> bool:
    return snapshot.fresh(device, "thermostat.mode") and snapshot.get(device, "thermostat.mode").value == mode


def _same_window(cmd: Command, last: Command, band: float) -> bool:
    a, b = cmd.window_w, last.window_w
    if a is None or b is None:
        return a is b
    return abs(a[0] - b[0]) <= band and abs(a[1] - b[1]) <= band
