"""EV charger: the plan's rate as a current the charger can offer; else the departure rule.

A charger offers 0 (pause) or a current between its minimum (IEC 61851: 6 A) and maximum. A
plan's rate below the minimum is delivered in pulses at the minimum (the tally of
:func:`~agent.dispatch.cycle.owed_on`), so the car gets the plan's energy. The safe rule charges
at the rate that still meets the departure target (energy needed / time left, rounded up to
the minimum, full power when late or when the vehicle's SoC is unknown).

A plan's negative rate (V2G) is a discharge current only where the charger can discharge
(:class:`~drivers.base.BidirectionalCharger`) and the config allows it (``v2g_max_kw``), and only
while the vehicle's SoC is known and above the V2G floor (tapered so that one cycle cannot cross
it). The safe rule never discharges.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from agent.config import devices as cfg
from agent.dispatch.commands import Action, Command, Decision, Mode
from agent.dispatch.cycle import Cycle, DeviceState, mismatch, optional, owed_on, stale_reason
from agent.dispatch.settings import DeviceSpec
from agent.dispatch.target import DeviceTarget, EvTarget
from agent.planning.devices import DEFAULT_V2G_FLOOR_SOC
from agent.units import S_PER_H


def hours_to_departure(now: datetime, conf: cfg.EvCharger, cycle: Cycle) -> float:
    local = now.astimezone(cycle.zone)
    departure = datetime.combine(local.date(), conf.departure_time, tzinfo=cycle.zone)
    if departure <= local:
        departure = datetime.combine(local.date() + timedelta(days=1), conf.departure_time, tzinfo=cycle.zone)
    return (departure - local).total_seconds() / S_PER_H


def departure_current_a(spec: DeviceSpec, cycle: Cycle, soc_pct: float | None) -> tuple[float, str]:
    conf = spec.config
    assert isinstance(conf, cfg.EvCharger)
    lo_a, hi_a = spec.ev_current_range_a
    if soc_pct is None:
        return hi_a, "vehicle SoC unknown: full rate"
    need_kwh = (
        max(0.0, conf.target_soc - soc_pct / 100.0) * conf.battery_kwh * cycle.settings.ev_energy_margin
    )
    if need_kwh <= 0.0:
        return 0.0, "departure target reached"
    left_h = hours_to_departure(cycle.now, conf, cycle)
    rate_kw = need_kwh / left_h
    current_a = rate_kw * 1000.0 / spec.ev_w_per_a
    if current_a >= hi_a:
        return hi_a, f"late for departure: {need_kwh:.1f} kWh in {left_h:.1f} h needs full rate"
    return max(current_a, lo_a), f"{need_kwh:.1f} kWh in {left_h:.1f} h"


def discharge_a(
    spec: DeviceSpec, cycle: Cycle, wanted_a: float, bidirectional: bool, limited: list[str]
) -> float:
    """The (negative) discharge current for a wanted negative one within every V2G limit, or 0."""
    conf = spec.config
    assert isinstance(conf, cfg.EvCharger)
    max_a = spec.limits.ev_discharge_current_a
    if not bidirectional or max_a is None:
        limited.append("no_discharge")
        return 0.0
    soc_pct = optional(cycle.snapshot, spec.name, "ev.vehicle_soc_pct")
    if soc_pct is None:  # the floor cannot be kept without knowing where the car is
        limited.append("v2g_soc_unknown")
        return 0.0
    above_kwh = (soc_pct / 100.0 - DEFAULT_V2G_FLOOR_SOC) * conf.battery_kwh
    if above_kwh <= 0.0:
        limited.append("v2g_floor")
        return 0.0
    value = wanted_a
    if value < -max_a:
        value = -max_a
        limited.append("v2g_max_current")
    taper_a = above_kwh * S_PER_H / cycle.settings.cycle_s * 1000.0 / spec.ev_w_per_a
    if value < -taper_a:
        value = -taper_a
        limited.append("v2g_floor")
    return value


def decide(
    spec: DeviceSpec,
    target: DeviceTarget | None,
    cycle: Cycle,
    state: DeviceState,
    *,
    bidirectional: bool = False,
) -> Decision:
    snap, name = cycle.snapshot, spec.name
    lo_a, hi_a = spec.ev_current_range_a
    reason = mismatch(target, EvTarget, name, cycle.no_target_reason) or stale_reason(
        snap, name, "ev.plugged"
    )
    limited: list[str] = []
    if reason is None:
        assert isinstance(target, EvTarget)
        mode = Mode.OPTIMISED
        wanted_a = target.power_kw_a(spec.ev_w_per_a)
        value = wanted_a
        if 0.0 < value < lo_a:
            lo_kw = lo_a * spec.ev_w_per_a / 1000.0
            last = state.last
            running = (
                None if last is None or last.action is not Action.EV_CURRENT_A else float(last.value or 0) > 0
            )
            planned_kw = value * spec.ev_w_per_a / 1000.0
            value = lo_a if owed_on(state, planned_kw, lo_kw, cycle.mono_s, running) else 0.0
            limited.append("ev_min_current")
        else:
            state.debt_kwh, state.debt_mono_s = 0.0, cycle.mono_s
    else:
        mode = Mode.SAFE
        wanted_a, why = departure_current_a(spec, cycle, optional(snap, name, "ev.vehicle_soc_pct"))
        reason = f"{reason}; {why}"
        value = wanted_a
    if value < 0.0:
        value = discharge_a(spec, cycle, value, bidirectional, limited)
    if value > hi_a:
        value = hi_a
        limited.append("ev_max_current")
    if snap.fresh(name, "ev.plugged") and not snap.flag(name, "ev.plugged") and value != 0.0:
        value = 0.0
        limited.append("unplugged")
    command = Command(Action.EV_CURRENT_A, round(value, 2))
    return Decision(mode, reason, Command(Action.EV_CURRENT_A, wanted_a), command, tuple(limited))
