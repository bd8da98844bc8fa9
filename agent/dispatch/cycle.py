"""What every rule sees in one cycle, and what dispatch remembers per device between cycles."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from agent.config import devices as cfg
from agent.dispatch.commands import Command, Mode
from agent.dispatch.errors import StaleTelemetry
from agent.dispatch.settings import DeviceSpec, DispatchSettings
from agent.dispatch.snapshot import Snapshot


@dataclass(frozen=True, slots=True)
class Cycle:
    snapshot: Snapshot
    settings: DispatchSettings
    zone: ZoneInfo
    meter: str
    meter_config: cfg.Meter
    no_target_reason: str  # why there is no target at all (when there is none)
    # What this cycle's commands to other devices will change at the meter, W (agent/dispatch/pending.py).
    load_change_w: float = 0.0

    @property
    def now(self) -> datetime:
        return self.snapshot.taken_at

    @property
    def mono_s(self) -> float:
        return self.snapshot.mono_s

    def meter_power_w(self) -> float:
        return self.snapshot.number(self.meter, "meter.power_w")


@dataclass
class DeviceState:
    last: Command | None = None  # the last command written and accepted
    last_mono_s: float | None = None
    relay_on: bool | None = None  # the on/off state dispatch last asked for
    relay_since_s: float | None = None
    mode: Mode | None = None
    reason: str | None = None
    failing: bool = False
    # On/off loads asked for a power between off and full: energy owed to the plan so far (kWh,
    # + means the plan wanted more than the relay gave) and when it was last brought up to date.
    debt_kwh: float = 0.0
    debt_mono_s: float | None = None


def optional(snapshot: Snapshot, device: str, quantity: str) -> float | None:
    """A number the rule can do without (it then takes a more cautious branch)."""
    try:
        return snapshot.number(device, quantity)
    except StaleTelemetry:
        return None


def stale_reason(snapshot: Snapshot, device: str, *quantities: str) -> str | None:
    """The first needed value that is not fresh, as a reason for the safe rule."""
    for q in quantities:
        if not snapshot.fresh(device, q):
            try:
                snapshot.get(device, q)
            except StaleTelemetry as e:
                return f"{q} stale ({e.reason})"
    return None


def mismatch(target: object, wanted: type, device: str, no_target_reason: str) -> str | None:
    if target is None:
        return no_target_reason
    if not isinstance(target, wanted):
        return f"target for {device} is a {type(target).__name__}, not a {wanted.__name__}"
    return None


def guarded(
    spec: DeviceSpec, state: DeviceState, want_on: bool, mono_s: float
) -> tuple[bool, tuple[str, ...]]:
    """Hold an on/off request until the minimum on or off time has passed (as the relay would)."""
    if state.relay_on is None or state.relay_since_s is None or want_on == state.relay_on:
        return want_on, ()
    held_s = mono_s - state.relay_since_s
    if state.relay_on and held_s < spec.min_on_s:
        return True, ("min_on_time",)
    if not state.relay_on and held_s < spec.min_off_s:
        return False, ("min_off_time",)
    return want_on, ()


def clip(value: float, lo: float, hi: float, name_lo: str, name_hi: str) -> tuple[float, tuple[str, ...]]:
    if value < lo:
        return lo, (name_lo,)
    if value > hi:
        return hi, (name_hi,)
    return value, ()


# How much energy an on/off element may owe or be owed: a quarter hour at full power. Beyond
# that the next plan (which sees the tank's temperature) knows better than the tally.
DEBT_LIMIT_H = 0.25


def owed_on(
    state: DeviceState, planned_kw: float, element_kw: float, mono_s: float, running: bool | None
) -> bool:
    """On or off for a load that runs at ``element_kw`` or not at all, asked for ``planned_kw``:
    on while the plan is owed energy. ``running``: whether the load runs now (None: unknown).

    Rounding each cycle's request to on or off would lose what the plan wanted between them (a
    planned 1.4 kW of a 3 kW element, rounded to off, every cycle of the interval; an EV asked
    for less than its charger's 6 A floor); tallying planned minus delivered energy and running
    while it is positive delivers the plan's energy over a few cycles.
    """
    if planned_kw <= 1e-3:
        state.debt_kwh, state.debt_mono_s = 0.0, mono_s
        return False
    if planned_kw >= element_kw - 1e-3:
        state.debt_kwh, state.debt_mono_s = 0.0, mono_s
        return True
    since_s, state.debt_mono_s = state.debt_mono_s, mono_s
    if since_s is None:  # nothing tallied yet: the nearer of off and on
        return planned_kw >= element_kw / 2
    delivered_kw = element_kw if running else 0.0
    dt_h = max(0.0, mono_s - since_s) / 3600.0
    limit = element_kw * DEBT_LIMIT_H
    state.debt_kwh = min(limit, max(-limit, state.debt_kwh + (planned_kw - delivered_kw) * dt_h))
    return state.debt_kwh > 0.0 if not running else state.debt_kwh > -1e-9
