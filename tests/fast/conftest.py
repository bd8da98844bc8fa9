"""Short scenarios of the summer home for the virtual-time tests."""

from __future__ import annotations

from typing import Any

from hil.sim.scenario import Scenario, parse_scenario

START = "2026-06-15T07:00:00+02:00"


# The summer home (hil/plant/params.py) where the shipped summer week puts it.
SITE = "{tz: Europe/Berlin, latitude_deg: 36.10, longitude_deg: 25.05}"
GRID = "{import_limit_kw: 17, export_limit_kw: 10}"


def scenario_yaml(name: str, days: float, *, seed: int | None = None) -> str:
    """A short summer scenario as a file would hold it."""
    seeded = "" if seed is None else f", seed: {seed}"
    return (
        f'name: {name}\nsite: {SITE}\nstart: "{START}"\ndays: {days}\ngrid: {GRID}\n'
        f"simulate: {{preset: summer{seeded}}}\n"
    )


def scenario(
    hours: float, *, faults: list[dict[str, Any]] | None = None, seed: int = 2015, cycle_s: float = 60
) -> Scenario:
    return parse_scenario(
        {
            "name": f"summer {hours:g} h",
            "site": {"tz": "Europe/Berlin", "latitude_deg": 36.10, "longitude_deg": 25.05},
            "start": START,
            "days": hours / 24.0,
            "grid": {"import_limit_kw": 17, "export_limit_kw": 10},
            "simulate": {"preset": "summer", "cycle_s": cycle_s, "seed": seed, "faults": faults or []},
        }
    )
