"""A long virtual-time run split into consecutive parts that run side by side, one per core.

A year at 15-minute steps is some 35,000 plans, one after another on one core. Its days are not
independent (the stores carry energy from one to the next, the forecaster learns from the past),
but a few days are enough for the agent to forget where it started: the stores are emptied and
filled every day, and the base-load forecast leans on the last weeks, the latest the most. So
:func:`run_split` cuts the period at whole days into ``parts`` and runs each as a virtual-time run
of its own (:func:`hil.fast.run.run_part`), in a pool of ``workers`` processes:

* a part starts ``warm_up_days`` before its first day (the first part at the scenario's start),
  with the plant, the retailer and the agent as the scenario starts them; the warm-up runs the
  same code but counts nowhere: the plant's record, the bill, the plans and the home's tenders
  begin at the part's first day, and end where the next part begins;
* the references (ordinary rules, perfect foresight) are worked out over the whole period in
  the pool too, as in one run;
* the parts are joined: costs, flows and violations summed, the plant's bins laid end to end,
  each part's checks kept (named by part where one fails). Where a part starts with more energy
  in its stores than the part before ended with, that energy came from a warm-up no part pays
  for: the sum over the seams (``seam_stored_kwh``) is charged in ``cost_adjusted`` at the mean
  import price, as the stores at the end are.

The figures are the split run's own: the same scenario, seed, parts and warm-up give the same
bytes, but not those of one run through the period (the forecaster starts each part with only
its warm-up as history, and the stores meet the seam from the warm-up's side).
docs/measurements keeps the year both ways. A scenario that replays its data from its start
(``replay``, or a preset's week) or injects faults at times from its start cannot be split.
"""

from __future__ import annotations

import concurrent.futures
import dataclasses
import itertools
import multiprocessing as mp
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from agent.config import load_config
from hil.fast.run import FastStats, RunRecord, references_for, run_part
from hil.sim.compare import stored_in
from hil.sim.result import AgentSide, SimResult, combine
from hil.sim.scenario import Scenario, ScenarioError

DEFAULT_WARM_UP_DAYS = 7.0


@dataclass(frozen=True)
class Split:
    """How to split a run: into ``parts``, each warmed up ``warm_up_days``, on ``workers`` processes."""

    parts: int
    warm_up_days: float = DEFAULT_WARM_UP_DAYS
    workers: int = 2


@dataclass(frozen=True)
class Part:
    """One part: the scenario it runs (from the start of its warm-up), where its measured window
    begins, and where the next part takes over (None: it runs to the scenario's end)."""

    scenario: Scenario
    measure_from: datetime
    followed_at: datetime | None


@dataclass(frozen=True)
class PartRecord:
    part: Part
    run: RunRecord
    side: AgentSide  # the agent's side of the part's measured window


def plan_parts(scenario: Scenario, parts: int, warm_up_days: float) -> list[Part]:
    """The parts of ``scenario``: cut at whole days, as even as whole days allow."""
    if parts < 1:
        raise ScenarioError("--split", f"must be >= 1, got {parts}")
    if warm_up_days < 0:
        raise ScenarioError("--warm-up-days", f"must be >= 0, got {warm_up_days:g}")
    if parts == 1:
        return [Part(scenario, scenario.start, None)]
    whole_days = int(scenario.days)
    if whole_days < parts:
        raise ScenarioError("--split", f"{parts} parts need {parts} whole days, got {scenario.days:g}")
    if scenario.home.data.replay is not None:
        raise ScenarioError("replay", "a run that replays its data from its start cannot be split")
    if scenario.faults:
        raise ScenarioError("simulate.faults", "a run with faults (timed from its start) cannot be split")
    cuts = [round(k * whole_days / parts) for k in range(parts)] + [None]
    out = []
    for k in range(parts):
        first = scenario.start + timedelta(days=cuts[k] or 0)
        nxt = cuts[k + 1]
        last = scenario.start + timedelta(days=scenario.days if nxt is None else nxt)
        begin = max(scenario.start, first - timedelta(days=warm_up_days))
        days = (last - begin).total_seconds() / 86400.0
        sub = dataclasses.replace(scenario, start=begin, days=days)
        out.append(Part(sub, first, None if nxt is None else last))
    return out


def join_world(records: Sequence[PartRecord]) -> tuple[dict[str, Any], float]:
    """The parts' plant and retailer records as one; and the stores' energy gained at the seams."""
    worlds = [r.run.world for r in records]
    params = records[0].part.scenario.home
    seam_kwh = 0.0
    for before, after in itertools.pairwise(worlds):
        if before["bins"]:
            seam_kwh += stored_in(after["start_state"], params) - stored_in(before["bins"][-1], params)
    joined: dict[str, Any] = {
        "bins": [b for w in worlds for b in w["bins"]],
        "limit_violations": [v for w in worlds for v in w["limit_violations"]],
        "faults_injected": 0,
        "fault_log": [],
        "broker": worlds[0]["broker"],
        "start_state": worlds[0]["start_state"],
        "split": {
            "parts": [
                {"from": r.part.measure_from.isoformat(), "warm_up_from": r.part.scenario.start.isoformat()}
                for r in records
            ],
            "seam_stored_kwh": round(seam_kwh, 4),
        },
    }
    summed = ("comfort_violation_c_h", "tank_violation_c_h", "ev_shortfall_kwh", "energy_balance_error_kwh")
    for key in summed:
        joined[key] = sum(float(w[key]) for w in worlds)
    retailers = [w["retailer"] for w in worlds if "retailer" in w]
    if retailers:
        joined["retailer"] = {
            "home_tenders": sum(int(r["home_tenders"]) for r in retailers),
            "home_tenders_executed": sum(int(r["home_tenders_executed"]) for r in retailers),
            "bill": str(sum(float(r["bill"]) for r in retailers)),
        }
    return joined, seam_kwh


def join_sides(sides: Sequence[AgentSide]) -> AgentSide:
    bill: dict[str, float] = {}
    for s in sides:
        for k, v in s.bill.items():
            bill[k] = bill.get(k, 0.0) + v
    return AgentSide(
        cost=sum(s.cost for s in sides),
        bill=bill,
        settled_intervals=sum(s.settled_intervals for s in sides),
        transactions=sum(s.transactions for s in sides),
        day_costs=tuple(c for s in sides for c in s.day_costs),
        missing=tuple(m for s in sides for m in s.missing),
        extra=tuple(e for s in sides for e in s.extra),
    )


def _counters(records: Sequence[PartRecord]) -> dict[str, Any]:
    out: dict[str, Any] = {"plans": 0, "plan_failures": 0, "cycles": 0, "counters": {}}
    for r in records:
        c = r.run.counters
        for key in ("plans", "plan_failures", "cycles"):
            out[key] += c[key]
        for k, v in c["counters"].items():
            out["counters"][k] = out["counters"].get(k, 0) + v
    out["mode"] = records[-1].run.counters["mode"]
    return out


def run_split(scenario: Scenario, directory: Path, split: Split) -> tuple[SimResult, FastStats]:
    """Run ``scenario`` in parts on a pool of processes and join them (blocking)."""
    wall0 = time.perf_counter()
    plan = plan_parts(scenario, split.parts, split.warm_up_days)
    directory.mkdir(parents=True, exist_ok=True)
    ctx = mp.get_context("spawn")
    with concurrent.futures.ProcessPoolExecutor(max_workers=split.workers, mp_context=ctx) as pool:
        # The references first: one process's work as long as a part's.
        refs = pool.submit(references_for, scenario, directory / "references")
        runs = [pool.submit(run_part, p.scenario, directory / f"part-{k + 1}", p.measure_from, p.followed_at)
                for k, p in enumerate(plan)]  # fmt: skip
        records = [PartRecord(p, *r.result()) for p, r in zip(plan, runs, strict=True)]
        config_path, references = refs.result()
    world, seam_kwh = join_world(records)
    side = join_sides([r.side for r in records])
    result = combine(
        scenario, load_config(Path(config_path)), config_path,
        world=world, counters=_counters(records), side=side,
        wall0=wall0, refs=references, seam_stored_kwh=seam_kwh,
    )  # fmt: skip
    stats = FastStats(
        time.perf_counter() - wall0,
        sum(r.run.stats.plant_steps for r in records),
        sum(r.run.stats.messages for r in records),
        tuple(ms for r in records for ms in r.run.stats.plan_ms),
    )
    return result, stats
