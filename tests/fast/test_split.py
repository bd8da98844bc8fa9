"""A run split into parts side by side: the parts are cut at whole days and joined as if each ran alone."""

from __future__ import annotations

import dataclasses
import json
import subprocess
import sys
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from hil.fast.run import run_fast
from hil.fast.split import Split, plan_parts, run_split
from hil.sim.compare import stored_in
from hil.sim.kpi import KPI_KEYS
from hil.sim.scenario import Scenario, ScenarioError, load_scenario
from tests.fast.conftest import scenario as summer

YEAR = Path(__file__).parents[2] / "hil" / "scenarios" / "year_de_2015.yaml"
BERLIN = ZoneInfo("Europe/Berlin")
FEB = datetime(2015, 2, 2, tzinfo=BERLIN)


def year(start: datetime, days: float) -> Scenario:
    """The shipped year's home (its data read at their own dates) over ``days`` from ``start``,
    driven every 15 minutes."""
    return dataclasses.replace(load_scenario(YEAR), start=start, days=days, cycle_s=900.0)


def test_parts_are_cut_at_whole_days_each_after_its_warm_up() -> None:
    parts = plan_parts(year(FEB, 10), 3, 2.0)
    day = timedelta(days=1)
    assert [p.measure_from for p in parts] == [FEB, FEB + 3 * day, FEB + 7 * day]
    assert [p.scenario.start for p in parts] == [FEB, FEB + day, FEB + 5 * day]
    assert [p.followed_at for p in parts] == [FEB + 3 * day, FEB + 7 * day, None]
    assert [p.scenario.days for p in parts] == [3.0, 6.0, 5.0]


def test_a_warm_up_never_reaches_before_the_start() -> None:
    first, second = plan_parts(year(FEB, 4), 2, 7.0)
    assert first.scenario.start == FEB
    assert second.scenario.start == FEB
    assert second.measure_from == FEB + timedelta(days=2)


@pytest.mark.parametrize(
    ("make", "parts", "warm_up", "field"),
    [
        (lambda: summer(72.0), 2, 1.0, "replay"),  # the preset replays its week from the start
        (lambda: dataclasses.replace(year(FEB, 3), faults=summer(1.0, faults=[
            {"at_h": 1, "kind": "broker_restart", "duration_s": 10}]).faults), 2, 1.0, "simulate.faults"),
        (lambda: year(FEB, 2.5), 3, 1.0, "--split"),
        (lambda: year(FEB, 3), 0, 1.0, "--split"),
        (lambda: year(FEB, 3), 2, -1.0, "--warm-up-days"),
    ],
)  # fmt: skip
def test_what_cannot_be_split_is_refused_by_name(make, parts: int, warm_up: float, field: str) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(ScenarioError) as e:
        plan_parts(make(), parts, warm_up)
    assert e.value.key == field


def test_a_split_run_is_its_parts_run_alone(tmp_path: Path) -> None:
    # No warm-up: each part is the run of its own day, started afresh, which the join must add up.
    day = timedelta(days=1)
    split, stats = run_split(year(FEB, 2), tmp_path / "split", Split(2, 0.0, 2))
    one, _ = run_fast(year(FEB, 1), tmp_path / "one")
    two, _ = run_fast(year(FEB + day, 1), tmp_path / "two")
    # The KPI objects unrounded (their JSON rounds each figure to 4 decimals).
    k, k1, k2 = (dataclasses.asdict(r.kpis) for r in (split, one, two))
    assert k["cost"] == pytest.approx(k1["cost"] + k2["cost"], abs=1e-9)
    summed = ("import_kwh", "export_kwh", "tank_violation_c_h", "comfort_violation_c_h", "ev_shortfall_kwh")
    for key in summed:
        assert k[key] == pytest.approx(k1[key] + k2[key], abs=1e-9), key
    assert k["plans"] == k1["plans"] + k2["plans"]
    assert k["peak_import_kw"] == max(k1["peak_import_kw"], k2["peak_import_kw"])
    # Each day's bill rounded to 4 decimals, as the report shows it.
    assert [d["agent"] for d in split.daily_costs] == [round(k1["cost"], 4), round(k2["cost"], 4)]
    assert len(split.world["bins"]) == len(one.world["bins"]) + len(two.world["bins"])
    # The second day started with the scenario's stores, not with what the first day left.
    seam_kwh = stored_in(two.world["start_state"], two.scenario.home) - stored_in(
        one.world["bins"][-1], one.scenario.home
    )
    assert abs(seam_kwh) > 0.1
    assert split.world["split"]["seam_stored_kwh"] == pytest.approx(seam_kwh, abs=1e-4)
    assert split.checks["no_transaction_lost"] == "ok"
    assert split.checks["settled"] == "ok"
    assert len(stats.plan_ms) == k["plans"]


ROOT = Path(__file__).parents[2]
HEMS = [sys.executable, "-m", "agent.cli.main"]


def _hems(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*HEMS, "simulate", *args], capture_output=True, text=True, timeout=600, check=False, cwd=ROOT
    )


def test_a_split_run_from_the_command_line_prints_the_same_bytes_twice(tmp_path: Path) -> None:
    # The year's home over three days of February, its data files named by absolute path.
    text = YEAR.read_text(encoding="utf-8").replace("../../scenarios/data", str(ROOT / "scenarios" / "data"))
    text = text.replace('start: "2015-01-01T00:00:00+01:00"', 'start: "2015-02-02T00:00:00+01:00"')
    text = text.replace("days: 365 ", "days: 3 ").replace("cycle_s: 60", "cycle_s: 900")
    path = tmp_path / "february.yaml"
    path.write_text(text, encoding="utf-8")
    args = ("--scenario", str(path), "--split", "3", "--warm-up-days", "0.5", "--json")
    first, second = _hems(*args), _hems(*args)
    assert first.returncode == 0, first.stderr[-3000:]
    assert first.stdout == second.stdout
    assert "split into 3 parts" in first.stderr
    kpis = json.loads(first.stdout)
    assert tuple(kpis) == KPI_KEYS
    assert kpis["plans"] > 3 * 90  # three days at one plan per quarter hour, none of the warm-ups'
    assert kpis["plans"] < 3 * 100


def test_a_scenario_that_replays_its_data_is_not_split() -> None:
    out = _hems("--scenario", "hil/scenarios/summer_week.yaml", "--fast", "--split", "2")
    assert out.returncode == 2
    assert "replay" in out.stderr


def test_a_split_run_is_a_virtual_time_run() -> None:
    out = _hems(
        "--scenario", "hil/scenarios/summer_week.yaml", "--real-protocol", "--split", "2", "--days", "1"
    )
    assert out.returncode == 2
    assert "--split" in out.stderr
