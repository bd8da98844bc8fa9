"""The run's seed: parsed from the scenario, and what it seeds (the weather forecast's errors)."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest

from hil.fast.clock import VirtualClock
from hil.fast.vloop import run_virtual
from hil.fast.world import FastWorld
from hil.sim.scenario import Scenario, ScenarioError, parse_scenario
from tests.fast.conftest import START, scenario


def test_the_seed_defaults_to_the_rigs_and_is_checked() -> None:
    def parsed(simulate: dict[str, Any]) -> Scenario:
        doc = {"site": {"tz": "Europe/Berlin"}, "grid": {"import_limit_kw": 17, "export_limit_kw": 10}}
        return parse_scenario({**doc, "start": START, "days": 1, "simulate": simulate})

    assert parsed({"preset": "summer"}).seed == 2015
    assert parsed({"preset": "summer", "seed": 7}).seed == 7
    for bad in (-1, 1.5, "x", True):
        with pytest.raises(ScenarioError) as e:
            parsed({"preset": "summer", "seed": bad})
        assert e.value.field == "simulate.seed"


def _forecast(seed: int, tmp_path: Path) -> dict[str, Any]:
    async def main() -> dict[str, Any]:
        clock = VirtualClock(scenario(1.0).start, asyncio.get_running_loop())
        world = FastWorld(scenario(1.0, seed=seed), clock, tmp_path / str(seed))
        return dict(world.rig.weather.state_messages())

    return run_virtual(main())


def test_the_seed_draws_the_forecast_errors(tmp_path: Path) -> None:
    assert _forecast(1, tmp_path) == _forecast(1, tmp_path)
    assert _forecast(1, tmp_path) != _forecast(2, tmp_path)
