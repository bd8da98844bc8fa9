"""Battery: the plan's power, following the plan's meter flow (:func:`follow_meter`), within
power, ramp, grid and SoC limits; else self-consumption or idle.

Order of limits: power range, then ramp (optimised only: a safe rule reacts to the present at
once), then the grid connection's import/export limits, then SoC floor and ceiling, which
always win. The floor is the backup reserve (never below ``soc_min`` either).
"""

from __future__ import annotations

import math

from agent.config import devices as cfg
from agent.dispatch.commands import Action, Command, Decision, Mode
from agent.dispatch.cycle import Cycle, DeviceState, clip, mismatch, optional, stale_reason
from agent.dispatch.settings import DeviceSpec
from agent.dispatch.target import BatteryTarget, DeviceTarget
from agent.units import S_PER_H

# Meter following needs both readings from the last this many cycles (_recent).
FOLLOW_MAX_AGE_CYCLES = 2.0
# A planned grid flow smaller than this is the plan's rounding, not a trade (plan_window).
GRID_ZERO_W = 50.0


def decide(spec: DeviceSpec, target: DeviceTarget | None, cycle: Cycle, state: DeviceState) -> Decision:
    conf = spec.config
    limits = spec.limits.battery
    assert isinstance(conf, cfg.Battery)
    assert limits is not None
    snap, name = cycle.snapshot, spec.name
    soc_pct = optional(snap, name, "battery.soc_pct")
    battery_w = optional(snap, name, "battery.power_w")
    meter_w = optional(snap, cycle.meter, "meter.power_w")
    reason = (
        mismatch(target, BatteryTarget, name, cycle.no_target_reason)
        or stale_reason(snap, name, "battery.soc_pct")
        or stale_reason(snap, cycle.meter, "meter.power_w")
    )
    limited: list[str] = []
    plan_grid_w: float | None = None
    if reason is None:
        assert isinstance(target, BatteryTarget)
        mode, wanted_w = Mode.OPTIMISED, target.power_kw * 1000.0
        plan_grid_w = None if target.grid_kw is None else target.grid_kw * 1000.0
    elif soc_pct is not None and battery_w is not None and meter_w is not None:
        # Self-consumption: move the battery by what flows at the meter, so the grid goes to 0.
        mode, wanted_w = Mode.SAFE, battery_w - meter_w
    else:
        mode, wanted_w = Mode.SAFE, 0.0
    value_w = wanted_w
    if plan_grid_w is not None and meter_w is not None and battery_w is not None and _recent(cycle, name):
        value_w = follow_meter(wanted_w, plan_grid_w, meter_w - battery_w + cycle.load_change_w)
        if value_w != wanted_w:
            limited.append("meter")
    value, hit = clip(value_w, -limits.max_discharge_w, limits.max_charge_w, "discharge_max", "charge_max")
    limited += hit
    if mode is Mode.OPTIMISED:
        value = _ramp(value, state, battery_w, cycle, limited)
        value = _grid(
            value, conf_meter=cycle.meter_config, meter_w=meter_w, battery_w=battery_w, limited=limited
        )
    lo_cap_w, hi_cap_w = limits.max_discharge_w, limits.max_charge_w
    if soc_pct is not None:  # without it the rule above already chose idle
        cycle_h = cycle.settings.cycle_s / S_PER_H
        floor_pct = max(limits.min_soc_pct, conf.reserve_soc * 100.0)
        above_kwh = max(0.0, soc_pct - floor_pct) / 100.0 * limits.capacity_kwh
        below_kwh = max(0.0, limits.max_soc_pct - soc_pct) / 100.0 * limits.capacity_kwh
        # Taper near the limits: one cycle at this power cannot cross them before the next look.
        max_out_w = above_kwh * conf.discharge_efficiency * 1000.0 / cycle_h
        max_in_w = below_kwh / conf.charge_efficiency * 1000.0 / cycle_h
        value, hit = clip(value, -max_out_w, max_in_w, "soc_floor", "soc_ceiling")
        limited += hit
        lo_cap_w, hi_cap_w = min(lo_cap_w, max_out_w), min(hi_cap_w, max_in_w)
    value, hit = clip(value, -limits.max_discharge_w, limits.max_charge_w, "discharge_max", "charge_max")
    limited += hit
    window = None
    if mode is Mode.OPTIMISED and plan_grid_w is not None:
        window = plan_window(wanted_w, plan_grid_w, lo_cap_w, hi_cap_w)
    command = Command(Action.BATTERY_POWER_W, _toward_zero(value), window)
    return Decision(
        mode, reason, Command(Action.BATTERY_POWER_W, wanted_w), command, tuple(dict.fromkeys(limited))
    )


def plan_window(
    plan_w: float, plan_grid_w: float, lo_cap_w: float, hi_cap_w: float
) -> tuple[float, float] | None:
    """The window an inverter with its own self-consumption loop is given for the plan's battery
    power, or None where the plan trades with the grid through the battery (exact power).

    The same intent as :func:`follow_meter`, at the inverter's speed: a planned discharge serves
    the home's loads up to that power and stops the moment they do (never exported), with any
    surplus charged; a planned charge from the sun takes up to that power of surplus (never
    imported for), with any unplanned load served from the battery. A discharge sold to the grid
    (planned export) or a charge bought from it (planned import) is a trade: that exact power.
    ``lo_cap_w``/``hi_cap_w``: the most the battery may discharge/charge now (W, >= 0).
    """
    lo_cap_w, hi_cap_w = max(lo_cap_w, 0.0), max(hi_cap_w, 0.0)
    p = min(max(plan_w, -lo_cap_w), hi_cap_w)
    grid = 0.0 if abs(plan_grid_w) < GRID_ZERO_W else plan_grid_w
    if (p < 0.0 and grid < 0.0) or (p > 0.0 and grid > 0.0):
        return None
    if p <= 0.0:
        return _toward_zero(p), _toward_zero(hi_cap_w)
    return _toward_zero(-lo_cap_w), _toward_zero(p)


def _toward_zero(w: float) -> float:
    """To 0.1 W, toward zero: rounding to nearest could step 0.05 W past the taper at a SoC limit."""
    return math.trunc(w * 10.0) / 10.0


def _recent(cycle: Cycle, battery: str) -> bool:
    """Whether the meter and the battery were read within the last two cycles: the difference of
    two readings minutes apart is not the rest of the home, and the battery would chase it."""
    limit_s = FOLLOW_MAX_AGE_CYCLES * cycle.settings.cycle_s
    snap = cycle.snapshot
    return (
        snap.get(cycle.meter, "meter.power_w").age_s <= limit_s
        and snap.get(battery, "battery.power_w").age_s <= limit_s
    )


def follow_meter(plan_w: float, plan_grid_w: float, rest_w: float) -> float:
    """The plan's battery power, corrected for what the rest of the home does unplanned.

    ``rest_w`` is the meter without the battery. The battery fights only unplanned flows: an
    import above the plan's (a load that does not stop is served from the battery, not the
    grid) and an export below it (a car that is full, or a pulsed element between its pulses,
    must not send the planned discharge out to the grid at the export price, to be bought back
    later with the network charge on top). It never gives up charge to deliver a planned export
    the sun did not provide, nor charges from the grid to make up a planned import. Re-planning
    (on a SoC off the plan) settles where the difference leaves the battery.
    """
    meter_w = rest_w + plan_w
    ceiling_w, floor_w = max(plan_grid_w, 0.0), min(plan_grid_w, 0.0)
    if meter_w > ceiling_w:
        return plan_w - (meter_w - ceiling_w)
    if meter_w < floor_w:
        return plan_w + (floor_w - meter_w)
    return plan_w


def _ramp(
    value: float, state: DeviceState, battery_w: float | None, cycle: Cycle, limited: list[str]
) -> float:
    rate = cycle.settings.battery_ramp_w_per_s
    if (
        state.last is not None
        and state.last.action is Action.BATTERY_POWER_W
        and state.last_mono_s is not None
    ):
        base = float(state.last.value or 0.0)
        elapsed_s = max(0.0, cycle.mono_s - state.last_mono_s)
    elif battery_w is not None:
        base, elapsed_s = battery_w, cycle.settings.cycle_s
    else:
        return value
    step = rate * elapsed_s
    ramped, hit = clip(value, base - step, base + step, "ramp", "ramp")
    limited += hit
    return ramped


def _grid(
    value: float, *, conf_meter: cfg.Meter, meter_w: float | None, battery_w: float | None, limited: list[str]
) -> float:
    if meter_w is None or battery_w is None:
        return value
    rest_w = meter_w - battery_w  # the home without the battery
    if conf_meter.import_max_kw is not None and rest_w + value > conf_meter.import_max_kw * 1000.0:
        value = conf_meter.import_max_kw * 1000.0 - rest_w
        limited.append("grid_import_max")
    if conf_meter.export_max_kw is not None and rest_w + value < -conf_meter.export_max_kw * 1000.0:
        value = -conf_meter.export_max_kw * 1000.0 - rest_w
        limited.append("grid_export_max")
    return value
