"""The real agent on virtual time: deterministic, never waiting on the wall clock, faults on time."""

from __future__ import annotations

import concurrent.futures
import json
import selectors
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from agent.runtime.app import RunningAgent
from drivers.errors import StaleValue
from hil.fast.run import run_fast
from hil.fast.world import FastWorld
from hil.report import write_report
from hil.sim.kpi import KPI_KEYS
from hil.sim.scenario import load_scenario
from tests.fast.conftest import START, scenario


def test_the_same_scenario_and_seed_give_byte_identical_kpis(tmp_path: Path) -> None:
    sc = scenario(2.0)
    first, _ = run_fast(sc, tmp_path / "a")
    second, _ = run_fast(sc, tmp_path / "b")
    a = json.dumps(first.kpis.to_json(), sort_keys=True)
    b = json.dumps(second.kpis.to_json(), sort_keys=True)
    assert a == b
    kpis = first.kpis.to_json()
    assert tuple(kpis) == KPI_KEYS
    assert kpis["plans"] > 0
    assert kpis["transactions"] > 0  # the link traded through the bus with the retailer
    assert first.checks["no_transaction_lost"] == "ok"
    assert first.checks["devices_in_limits"] == "ok"
    assert "wall" not in a  # wall time is reported apart from the KPIs
    # The report gives the cost per day of the agent, the baseline and the reference.
    index = write_report(first, tmp_path / "report")
    page = index.read_text(encoding="utf-8")
    assert "Cost per day" in page
    assert "virtual time" in page
    (day,) = first.daily_costs
    assert day["baseline"] == pytest.approx(kpis["baseline_cost"], abs=1e-3)
    assert day["agent"] == pytest.approx(kpis["cost"], abs=1e-3)


def test_a_run_never_blocks_on_the_wall_clock(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    timeouts: list[Any] = []
    original = selectors.EpollSelector.select

    def spy(self: selectors.EpollSelector, timeout: float | None = None) -> Any:
        timeouts.append(timeout)
        return original(self, timeout)

    monkeypatch.setattr(selectors.EpollSelector, "select", spy)
    cycles: list[datetime] = []
    result, stats = run_fast(
        scenario(1.0), tmp_path, probe=lambda agent, world: cycles.append(world.clock.now())
    )
    # An hour of simulated time with its cycles, plant steps and messages happened...
    assert cycles[-1] - cycles[0] >= timedelta(minutes=59)
    assert stats.plant_steps >= 120  # 30 s steps
    assert stats.messages > 0
    assert result.agent_counters["cycles"] >= 60
    # ...and every wait on the selector was a poll.
    assert timeouts
    assert set(timeouts) == {0}


def test_a_meter_outage_fires_on_virtual_time_and_holds_safe_rules_for_its_duration(tmp_path: Path) -> None:
    at_h, duration_s = 1.5, 1800.0
    fault = {"at_h": at_h, "kind": "modbus_gone", "device": "meter", "duration_s": duration_s}
    samples: list[tuple[datetime, str, bool]] = []

    def probe(agent: RunningAgent, world: FastWorld) -> None:
        meter = agent.devices["grid"].capabilities.energy_meter
        assert meter is not None
        try:
            meter.import_kwh()
            fresh = True
        except StaleValue:
            fresh = False
        samples.append((world.clock.now(), agent.state.mode, fresh))

    result, _ = run_fast(scenario(3.0, faults=[fault]), tmp_path, probe=probe)
    start = datetime.fromisoformat(START)
    t_fault = start + timedelta(hours=at_h)
    t_back = t_fault + timedelta(seconds=duration_s)
    assert result.world["fault_log"] == [f"{t_fault.astimezone(UTC).isoformat()} modbus_gone meter"]

    def window(lo: datetime, hi: datetime) -> list[tuple[datetime, str, bool]]:
        return [s for s in samples if lo <= s[0] < hi]

    before = window(t_fault - timedelta(minutes=20), t_fault)
    during = window(t_fault + timedelta(minutes=5), t_back)
    after = window(t_back + timedelta(minutes=5), t_back + timedelta(minutes=25))
    assert before and during and after
    assert all(fresh and mode == "optimising" for _, mode, fresh in before)
    # Stale once the last reading is older than its limit (180 s), safe rules meanwhile.
    assert all(not fresh and mode == "safe" for _, mode, fresh in during)
    assert all(fresh and mode == "optimising" for _, mode, fresh in after)


def test_every_fault_kind_of_the_smoke_scenario_fires_and_the_gates_hold(tmp_path: Path) -> None:
    smoke = load_scenario(Path(__file__).parents[2] / "hil" / "scenarios" / "smoke.yaml")
    result, _ = run_fast(smoke, tmp_path)
    kinds = sorted({line.split()[1] for line in result.world["fault_log"]})
    assert kinds == sorted({f.kind for f in smoke.faults})
    assert result.kpis.faults_injected == len(smoke.faults)
    assert result.ok  # every device in limits, no transaction lost, through the bus outage too
    assert abs(result.kpis.energy_balance_error_kwh) < 1e-6
    assert result.kpis.plans > 0


def test_references_worked_out_in_a_second_process_give_the_same_kpis(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    sc = scenario(2.0)
    inline, _ = run_fast(sc, tmp_path / "inline")
    monkeypatch.setattr("hil.fast.run.PARALLEL_REFERENCES_DAYS", 0.0)
    spawned = []
    original = concurrent.futures.ProcessPoolExecutor.submit

    def spy(self: concurrent.futures.ProcessPoolExecutor, fn: Any, /, *args: Any, **kwargs: Any) -> Any:
        spawned.append(fn.__name__)
        return original(self, fn, *args, **kwargs)

    monkeypatch.setattr(concurrent.futures.ProcessPoolExecutor, "submit", spy)
    parallel, _ = run_fast(sc, tmp_path / "parallel")
    assert spawned == ["references"]
    a = json.dumps(inline.kpis.to_json(), sort_keys=True)
    b = json.dumps(parallel.kpis.to_json(), sort_keys=True)
    assert a == b
    assert inline.daily_costs == parallel.daily_costs
