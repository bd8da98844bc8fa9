"""The decomposition of the gap to perfect foresight: its runs, its arithmetic, one cause end to end."""

from __future__ import annotations

import dataclasses

import pytest

from bench.decompose import cause_runs, measure, summary
from hil.sim.scenario import merge
from tests.fast.conftest import scenario


def test_each_cause_is_one_run_with_only_that_cause_taken_away() -> None:
    sc = scenario(24.0 * 3)
    jobs, skipped = cause_runs(sc)
    assert skipped == {}
    assert set(jobs) == {"base_load", "pv", "outdoor", "draws", "forecasts", "trading", "horizon"}
    for name in ("base_load", "pv", "outdoor", "draws"):
        assert jobs[name].oracles == (name,)
        assert jobs[name].scenario == sc
    assert set(jobs["forecasts"].oracles) == {"base_load", "pv", "outdoor", "draws"}
    assert jobs["trading"].oracles == ()
    assert jobs["trading"].scenario.agent["market"]["forward_trading"] is False
    # The reference plans the three days in one: the agent's horizon is made as long.
    assert jobs["horizon"].scenario.agent["planner"]["horizon_h"] == 72
    assert "market" not in jobs["horizon"].scenario.agent
    assert all(j.mode == "fast" for j in jobs.values())


def test_the_horizon_is_held_to_the_configs_bound_and_skipped_when_not_longer() -> None:
    jobs, _ = cause_runs(scenario(24.0 * 30))
    assert jobs["horizon"].scenario.agent["planner"]["horizon_h"] == 168
    short = scenario(12.0)  # the reference looks 12 h ahead, the agent 24 h
    jobs, skipped = cause_runs(short)
    assert "horizon" not in jobs
    assert "12 h" in skipped["horizon"] and "24 h" in skipped["horizon"]
    week_ahead = dataclasses.replace(scenario(24.0 * 3), agent=merge({}, {"planner": {"horizon_h": 96}}))
    assert "horizon" in cause_runs(week_ahead)[1]


def test_explains_is_the_agents_cost_less_the_runs_and_unexplained_the_rest() -> None:
    out = summary(
        "s", 7.0, agent_cost=50.0, foresight_cost=40.0, skipped={"horizon": "why"},
        costs={"pv": 48.5, "base_load": 50.25, "forecasts": 47.0, "trading": 49.0},
    )  # fmt: skip
    assert out["gap"] == 10.0
    assert out["causes"]["pv"] == {"cost_adjusted": 48.5, "explains": 1.5}
    assert out["causes"]["base_load"]["explains"] == -0.25  # the truth cost money here
    # forecasts (3.0) and trading (1.0) are the top-level runs; pv is inside forecasts.
    assert out["unexplained"] == 6.0
    assert out["skipped"] == {"horizon": "why"}
    assert list(out)[:7] == [
        "scenario", "days", "agent_cost_adjusted", "perfect_foresight_cost", "gap", "causes", "unexplained",
    ]  # fmt: skip


def test_a_short_run_with_true_draws_is_measured_against_the_same_run_as_is() -> None:
    sc = scenario(3.0)
    out = measure(sc, 1, only=("draws",))
    assert set(out["causes"]) == {"draws"}
    draws = out["causes"]["draws"]
    assert draws["explains"] == pytest.approx(out["agent_cost_adjusted"] - draws["cost_adjusted"], abs=1e-4)
    assert out["gap"] == pytest.approx(out["agent_cost_adjusted"] - out["perfect_foresight_cost"], abs=1e-4)
    assert out["unexplained"] == pytest.approx(out["gap"], abs=1e-4)  # no top-level cause was run
