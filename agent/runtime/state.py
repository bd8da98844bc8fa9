"""What the running agent knows right now, for the web page, the API and the metrics.

The control cycle is the only writer; readers get plain data (``to_json``). Householder
overrides (pause, EV departure, comfort, boost) live here too so a reload or a web request never
touches the cycle's internals.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

# The ranges a householder may set (the page, Home Assistant and the saved settings share them).
COMFORT_TARGET_RANGE_C = (5.0, 35.0)
COMFORT_BAND_RANGE_C = (0.1, 10.0)
EV_CURRENT_LIMIT_RANGE_A = (6.0, 32.0)  # IEC 61851: 6 A is the least a charger may offer
# smart: as planned; now: charge at the limit whatever the price; off: do not charge.
EV_MODES = ("smart", "now", "off")


@dataclass
class Overrides:
    """Householder controls; None means "as configured"."""

    paused: bool = False
    ev_departure: datetime | None = None
    ev_target_soc: float | None = None
    comfort_target_c: float | None = None
    comfort_band_c: float | None = None
    water_heater_boost_until: datetime | None = None
    water_heater_hold: bool = False
    ev_mode: str = "smart"
    ev_current_limit_a: float | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "paused": self.paused,
            "ev_departure": self.ev_departure.isoformat() if self.ev_departure else None,
            "ev_target_soc": self.ev_target_soc,
            "comfort_target_c": self.comfort_target_c,
            "comfort_band_c": self.comfort_band_c,
            "water_heater_boost_until": (
                self.water_heater_boost_until.isoformat() if self.water_heater_boost_until else None
            ),
            "water_heater_hold": self.water_heater_hold,
            "ev_mode": self.ev_mode,
            "ev_current_limit_a": self.ev_current_limit_a,
        }


@dataclass
class CycleTiming:
    cycles: int = 0
    last_cycle_ms: float = 0.0
    last_plan_ms: float = 0.0
    plans: int = 0
    plan_failures: int = 0
    last_plan_at: datetime | None = None
    last_plan_reason: str = ""
    last_plan_error: str | None = None


@dataclass
class AgentState:
    site_id: str
    party: str
    currency: str
    started_at: datetime
    overrides: Overrides = field(default_factory=Overrides)
    timing: CycleTiming = field(default_factory=CycleTiming)
    counters: Counter[str] = field(default_factory=Counter)
    snapshot: dict[str, Any] = field(default_factory=dict)
    plan: dict[str, Any] | None = None
    plan_intervals: list[str] = field(default_factory=list)
    forecast: dict[str, Any] = field(default_factory=dict)
    dispatch: dict[str, Any] = field(default_factory=dict)
    trading: dict[str, Any] = field(default_factory=dict)
    settlement: dict[str, Any] = field(default_factory=dict)
    devices: dict[str, Any] = field(default_factory=dict)
    tasks: dict[str, Any] = field(default_factory=dict)
    link: dict[str, Any] = field(default_factory=dict)
    mode: str = "starting"  # starting | optimising | safe | paused | stopping

    def to_json(self) -> dict[str, Any]:
        t = self.timing
        return {
            "site_id": self.site_id,
            "party": self.party,
            "currency": self.currency,
            "started_at": self.started_at.isoformat(),
            "mode": self.mode,
            "overrides": self.overrides.to_json(),
            "timing": {
                "cycles": t.cycles,
                "last_cycle_ms": round(t.last_cycle_ms, 3),
                "last_plan_ms": round(t.last_plan_ms, 3),
                "plans": t.plans,
                "plan_failures": t.plan_failures,
                "last_plan_at": t.last_plan_at.isoformat() if t.last_plan_at else None,
                "last_plan_reason": t.last_plan_reason,
                "last_plan_error": t.last_plan_error,
            },
            "counters": dict(self.counters),
            "snapshot": self.snapshot,
            "plan": self.plan,
            "plan_intervals": self.plan_intervals,
            "forecast": self.forecast,
            "dispatch": self.dispatch,
            "trading": self.trading,
            "settlement": self.settlement,
            "devices": self.devices,
            "tasks": self.tasks,
            "link": self.link,
        }
