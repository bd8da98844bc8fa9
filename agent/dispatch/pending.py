"""What this cycle's commands will change at the meter before the next snapshot shows it.

The battery follows the plan's meter flow (:func:`agent.dispatch.battery.follow_meter`) from a
snapshot taken before this cycle's commands. A water heater switched in the same cycle (an
on/off element paying off the plan's energy in pulses switches every minute or two) would
otherwise leave the battery a cycle behind at every switch: discharging 3 kW into the grid for
the minute after the element went off, and letting the grid carry the minute after it came on.
So the battery is decided last, from the meter as it will be.

Only changes that follow from the command alone are counted: an element switched on or off
(its rated power, or its metered power when it goes off), and a car whose charger followed the
last command and now gets another current. A charger that does not follow (the car is full)
is left to the next snapshot.
"""

from __future__ import annotations

from agent.config import devices as cfg
from agent.dispatch.commands import Action, Decision
from agent.dispatch.cycle import DeviceState, optional
from agent.dispatch.errors import StaleTelemetry
from agent.dispatch.settings import DeviceSpec
from agent.dispatch.snapshot import Snapshot

# A charger within this of what it was last told is following its commands.
EV_FOLLOWING_W = 500.0


def load_change_w(spec: DeviceSpec, decision: Decision, state: DeviceState, snapshot: Snapshot) -> float:
    """The expected change in this device's consumption once ``decision`` is carried out, W."""
    cmd = decision.command
    if cmd is None:
        return 0.0
    conf = spec.config
    if isinstance(conf, cfg.WaterHeater) and cmd.action is Action.ELEMENT_ON:
        return _element(snapshot, spec.name, bool(cmd.value), conf.element_kw * 1000.0)
    if isinstance(conf, cfg.EvCharger) and cmd.action is Action.EV_CURRENT_A:
        return _ev(spec, float(cmd.value or 0.0), state, snapshot)
    return 0.0


def _element(snapshot: Snapshot, name: str, on: bool, rated_w: float) -> float:
    try:
        was_on = snapshot.flag(name, "water_heater.element_on")
    except StaleTelemetry:
        return 0.0
    if on == was_on:
        return 0.0
    if on:
        return rated_w
    metered_w = optional(snapshot, name, "water_heater.element_power_w")
    return -(rated_w if metered_w is None else metered_w)


def _ev(spec: DeviceSpec, current_a: float, state: DeviceState, snapshot: Snapshot) -> float:
    last = state.last
    measured_w = optional(snapshot, spec.name, "ev.power_w")
    if last is None or last.action is not Action.EV_CURRENT_A or measured_w is None:
        return 0.0
    last_w = float(last.value or 0.0) * spec.ev_w_per_a
    if abs(measured_w - last_w) > EV_FOLLOWING_W:
        return 0.0
    return current_a * spec.ev_w_per_a - measured_w
