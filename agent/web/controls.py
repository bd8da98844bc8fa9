"""The householder's controls: validate a request body, then write the overrides.

A body is a JSON object holding any subset of the fields below. All of it is checked before any
of it is applied, so a request with one bad field changes nothing. A change bumps the cycle's
``overrides_version`` so the next cycle re-plans with it (pause makes dispatch use safe rules).

=========================  ================================================================
``paused``                 true: the optimizer stops, devices follow their safe rules
``ev_departure``           ISO 8601 date-time with offset (in the next 7 days), or null
``ev_target_soc_pct``      0..100, or null (as configured)
``comfort_target_c``       5..35, or null
``comfort_band_c``         0.1..10 (half-width around the target), or null
``water_heater_boost_h``   0..24: heat the tank now for this long (0 ends a boost)
``water_heater_hold``      true: keep the element off (holiday), false: as planned
``ev_mode``                smart (as planned), now (charge at the limit), off (no charging, none planned)
``ev_current_limit_a``     6..32 A per phase: caps what the plan or the mode asks, or null
=========================  ================================================================

The settings are saved in the state directory after every change and restored on restart
(:mod:`agent.runtime.settings_store`).
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from agent.runtime.state import (
    COMFORT_BAND_RANGE_C,
    COMFORT_TARGET_RANGE_C,
    EV_CURRENT_LIMIT_RANGE_A,
    EV_MODES,
    Overrides,
)
from agent.web import queries as q
from agent.web.errors import RequestError

if TYPE_CHECKING:
    from agent.runtime.app import RunningAgent

FIELDS = {
    "paused",
    "ev_departure",
    "ev_target_soc_pct",
    "comfort_target_c",
    "comfort_band_c",
    "water_heater_boost_h",
    "water_heater_hold",
    "ev_mode",
    "ev_current_limit_a",
}
MAX_DEPARTURE_AHEAD = timedelta(days=7)


def _optional(body: dict[str, Any], field: str, bounds: tuple[float, float]) -> float | None:
    return None if body[field] is None else q.number(body, field, *bounds)


def parse(body: dict[str, Any], current: Overrides, now: datetime) -> Overrides:
    """The overrides after applying ``body``; raises :class:`RequestError` naming the first bad field."""
    q.only_keys(body, FIELDS, "control")
    if not body:
        raise RequestError("body", f"give at least one of: {', '.join(sorted(FIELDS))}")
    new = current
    if "paused" in body:
        new = replace(new, paused=q.boolean(body, "paused"))
    if "ev_departure" in body:
        departure = None
        if body["ev_departure"] is not None:
            departure = q.instant(body["ev_departure"], "ev_departure")
            if departure <= now:
                raise RequestError("ev_departure", f"must be in the future (now is {now.isoformat()})")
            if departure - now > MAX_DEPARTURE_AHEAD:
                raise RequestError("ev_departure", "must be within the next 7 days")
        new = replace(new, ev_departure=departure)
    if "ev_target_soc_pct" in body:
        pct = _optional(body, "ev_target_soc_pct", (0.0, 100.0))
        new = replace(new, ev_target_soc=None if pct is None else pct / 100.0)
    if "comfort_target_c" in body:
        new = replace(new, comfort_target_c=_optional(body, "comfort_target_c", COMFORT_TARGET_RANGE_C))
    if "comfort_band_c" in body:
        new = replace(new, comfort_band_c=_optional(body, "comfort_band_c", COMFORT_BAND_RANGE_C))
    if "water_heater_boost_h" in body:
        hours = q.number(body, "water_heater_boost_h", 0.0, 24.0)
        new = replace(new, water_heater_boost_until=now + timedelta(hours=hours) if hours > 0 else None)
    if "water_heater_hold" in body:
        new = replace(new, water_heater_hold=q.boolean(body, "water_heater_hold"))
    if "ev_mode" in body:
        mode = body["ev_mode"]
        if mode not in EV_MODES:
            raise RequestError("ev_mode", f"must be one of {', '.join(EV_MODES)} (got {str(mode)[:40]!r})")
        new = replace(new, ev_mode=mode)
    if "ev_current_limit_a" in body:
        new = replace(new, ev_current_limit_a=_optional(body, "ev_current_limit_a", EV_CURRENT_LIMIT_RANGE_A))
    return new


def apply(agent: RunningAgent, body: dict[str, Any]) -> dict[str, Any]:
    """Validate and write; returns the overrides now in force."""
    current = agent.state.overrides
    new = parse(body, current, agent.clock.now())
    if new != current:
        agent.state.overrides = new
        agent.cycle.overrides_changed()
        agent.state.counters["control_changes"] += 1
    return controls_json(agent)


def controls_json(agent: RunningAgent) -> dict[str, Any]:
    o = agent.state.overrides
    out = o.to_json()
    out["ev_target_soc_pct"] = None if o.ev_target_soc is None else round(o.ev_target_soc * 100.0, 3)
    del out["ev_target_soc"]
    out["version"] = agent.cycle.overrides_version
    # Why the saved settings were not restored or cannot be saved (None: all is well).
    out["settings_problem"] = agent.settings.problem
    return out
