"""Devices driven every 15 minutes still get each plan's first step: the plan for the quarter hour
that just began is dispatched as soon as it is made, not a whole cycle later."""

from __future__ import annotations

import dataclasses
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from agent.runtime.app import RunningAgent
from hil.fast.run import run_fast
from hil.fast.world import FastWorld
from hil.sim.scenario import load_scenario

YEAR = Path(__file__).parents[2] / "hil" / "scenarios" / "year_de_2015.yaml"
FEB = datetime(2015, 2, 1, tzinfo=ZoneInfo("Europe/Berlin"))


def test_a_fifteen_minute_cycle_dispatches_each_plan_when_it_is_made(tmp_path: Path) -> None:
    # The year's home over the nights of 1 to 3 February, every device driven every 15 minutes.
    # Each plan charges the car in the quarter hour it is made for; when that step waited for the
    # next cycle, the cycle ran the next step instead, and the car left 0.2 and 0.36 kWh short.
    scenario = dataclasses.replace(load_scenario(YEAR), start=FEB, days=2.3, cycle_s=900.0)
    stale: list[str] = []

    def probe(agent: RunningAgent, world: FastWorld) -> None:
        # Between cycles the dispatch in force is the newest plan's (none is under way here).
        cycle = agent.cycle
        if not cycle.planning.running and cycle.state.timing.plans:
            seen = cycle.state.dispatch.get("plan_version")
            if seen != cycle.planning.version:
                now = world.clock.now().isoformat()
                stale.append(f"{now}: dispatched {seen}, plan {cycle.planning.version}")

    result, _ = run_fast(scenario, tmp_path, probe=probe)
    assert stale == []
    kpis = result.kpis.to_json()
    assert kpis["ev_shortfall_kwh"] == 0.0
    assert kpis["tank_violation_c_h"] == 0.0
    assert kpis["plans"] > 2 * 90
