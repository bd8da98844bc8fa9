"""Short scenarios of the summer home for the virtual-time tests."""

from __future__ import annotations

from typing import Any

from hil.sim.scenario import Scenario, parse_scenario

START = "2026-06-15T07:00:00+02:00"


def scenario(hours: float, *, faults: list[dict[str, Any]] | None = None, seed: int = 2015) -> Scenario:
    return parse_scenario(
        {
            "name": f"summer {hours:g} h",
            "home": {"preset": "summer"},
            "start": START,
            "days": hours / 24.0,
            "cycle_s": 60,
            "seed": seed,
            "faults": faults or [],
        }
    )
