"""Oracle forecasts: the agent given the truth of the simulated plant, and nothing else changed."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

import pytest

from agent.cli.main import main as hems
from agent.forecast.records import Forecasts
from agent.runtime.app import RunningAgent
from hil.fast.oracle import ORACLES, SOURCE, parse_oracles
from hil.fast.run import run_fast
from hil.fast.world import FastWorld
from hil.plant import PlantInputs, PlantStep
from hil.sim.scenario import ScenarioError
from tests.fast.conftest import scenario

BIN_S = 900.0


class StepBins:
    """What the plant did, summed per quarter hour from its own steps (no oracle code here)."""

    def __init__(self) -> None:
        self.seconds: dict[datetime, float] = {}
        self.sums: dict[datetime, dict[str, float]] = {}

    def __call__(self, step: PlantStep, inputs: PlantInputs) -> None:
        epoch = step.start.timestamp()
        start = datetime.fromtimestamp(epoch - epoch % BIN_S, step.start.tzinfo)
        row = self.sums.setdefault(start, dict.fromkeys(("base", "pv", "outdoor", "ghi"), 0.0))
        row["base"] += step.powers_kw["base"] * step.dt_s
        row["pv"] += step.pv_available_kw * step.dt_s
        row["outdoor"] += step.outdoor_c * step.dt_s
        row["ghi"] += step.ghi_w_per_m2 * step.dt_s
        self.seconds[start] = self.seconds.get(start, 0.0) + step.dt_s

    def mean(self, start: datetime, key: str) -> float | None:
        if abs(self.seconds.get(start, 0.0) - BIN_S) > 1e-6:
            return None  # not a whole quarter hour of steps
        return self.sums[start][key] / BIN_S


def _tap_litres(world: FastWorld, start: datetime, end: datetime) -> float:
    """The taps' litres in ``[start, end)``: each event's litres spread evenly over its duration."""
    draws = world.rig.plant.draws
    assert draws is not None
    total = 0.0
    for e in draws.events:
        e_end = e.start + timedelta(seconds=e.duration_s)
        overlap_s = (min(end, e_end) - max(start, e.start)).total_seconds()
        total += e.litres * max(overlap_s, 0.0) / e.duration_s
    return total


def test_with_every_oracle_the_plans_forecast_what_the_plant_then_does(tmp_path: Path) -> None:
    bins = StepBins()
    plans: list[Forecasts] = []
    seen: dict[str, FastWorld] = {}

    def probe(agent: RunningAgent, world: FastWorld) -> None:
        if not seen:
            world.rig.on_step.append(bins)
            seen["world"] = world
        current = agent.cycle.planning.current
        if current is not None and (not plans or plans[-1] is not current.forecasts):
            plans.append(current.forecasts)

    result, _ = run_fast(scenario(6.0), tmp_path, probe=probe, oracles=ORACLES)
    assert result.kpis.to_json()["plans"] > 0
    world = seen["world"]
    compared = dict.fromkeys(("base", "pv", "outdoor", "ghi", "draws"), 0)
    sunny = 0
    for f in plans:
        for i, start in enumerate(f.starts):
            end = start + timedelta(seconds=BIN_S)
            litres = _tap_litres(world, start, end)
            assert float(f.draw_l[i]) == pytest.approx(litres, abs=1e-6)
            compared["draws"] += 1
            truth = {k: bins.mean(start, k) for k in ("base", "pv", "outdoor", "ghi")}
            got = {
                "base": f.base_load_kw[i], "pv": f.pv_kw[i], "outdoor": f.outdoor_c[i],
                "ghi": None if f.ghi_w_per_m2 is None else f.ghi_w_per_m2[i],
            }  # fmt: skip
            for key, value in truth.items():
                if value is None:
                    continue  # beyond the run, or a bin the run only began or ended in
                assert got[key] is not None
                assert float(got[key]) == pytest.approx(value, rel=1e-6, abs=1e-6), (key, start)
                compared[key] += 1
            sunny += int((truth["pv"] or 0.0) > 0.1)
    assert min(compared.values()) > 10
    assert sunny > 10  # the PV compared is not only the night's zeros
    assert any(f.draw_l.sum() > 0 for f in plans)


def test_only_the_chosen_quantities_are_swapped(tmp_path: Path) -> None:
    sources: dict[str, set[str]] = {}

    def probe(agent: RunningAgent, world: FastWorld) -> None:
        current = agent.cycle.planning.current
        if current is not None:
            f = current.forecasts
            for s in (*f.series, *([] if f.irradiance is None else [f.irradiance])):
                sources.setdefault(s.quantity, set()).add(s.source)

    run_fast(scenario(1.0), tmp_path, probe=probe, oracles=("draws",))
    assert sources["draw_l"] == {SOURCE}
    for quantity in ("base_load_kw", "pv_kw", "outdoor_c", "ghi_w_per_m2"):
        assert sources[quantity] and SOURCE not in sources[quantity], quantity


def test_unknown_oracle_names_are_refused_naming_the_option(tmp_path: Path) -> None:
    with pytest.raises(ScenarioError, match=r"--oracle.*weather"):
        parse_oracles("pv,weather")
    with pytest.raises(ScenarioError, match="--oracle"):
        run_fast(scenario(1.0), tmp_path, oracles=("sun",))
    assert parse_oracles(" pv, draws,pv ") == ("pv", "draws")


def test_the_cli_refuses_an_unknown_oracle_with_exit_2(capsys: pytest.CaptureFixture[str]) -> None:
    path = Path(__file__).parents[2] / "hil" / "scenarios" / "summer_week.yaml"
    code = hems(["simulate", "--fast", "--scenario", str(path), "--days", "0.01", "--oracle", "pv,prices"])
    assert code == 2
    err = capsys.readouterr().err
    assert "--oracle" in err and "prices" in err


def test_the_cli_refuses_oracles_outside_a_single_virtual_time_run(
    capsys: pytest.CaptureFixture[str],
) -> None:
    path = Path(__file__).parents[2] / "hil" / "scenarios" / "summer_week.yaml"
    for mode in (["--real-protocol", "--days", "1"], ["--split", "2"]):
        assert hems(["simulate", *mode, "--scenario", str(path), "--oracle", "pv"]) == 2
        assert "--oracle" in capsys.readouterr().err
