"""Where the money goes: the agent's gap to perfect foresight, cause by cause.

``python -m bench.decompose --scenario S [--days D] [--jobs J] [--json]`` runs the scenario in
fast mode as it is, then once per cause with that cause taken away, and prints::

    {"scenario", "days", "agent_cost_adjusted", "perfect_foresight_cost", "gap",
     "causes": {name: {"cost_adjusted", "explains"}}, "unexplained", "skipped": {name: why}}

``gap`` = the agent's ``cost_adjusted`` − the perfect-foresight reference's cost (the same QP
with the truth, :mod:`hil.sim.foresight`). A cause's ``explains`` = the agent's
``cost_adjusted`` − that of the run without the cause: positive, the cause cost money. The causes:

* ``base_load``, ``pv``, ``outdoor``, ``draws``: that forecast alone swapped for the truth of the
  plant (:mod:`hil.fast.oracle`; ``pv`` also gives the true irradiance for the house's gains);
* ``forecasts``: all four at once;
* ``trading``: forward trading off (``market.forward_trading: false``: nothing accepted or
  posted, everything settled at spot, as the reference is billed); not run under a household
  contract, which has no retailer to trade with;
* ``horizon``: the agent's planner horizon lengthened from its configured one to the
  reference's window (one plan over the period up to :data:`WINDOW_DAYS` plus its look-ahead),
  held to the longest the config allows (``planner.horizon_h`` <= 168 h); skipped where that is
  no longer than the configured horizon.

``unexplained`` = ``gap`` − the ``explains`` of ``forecasts``, ``trading`` and ``horizon`` (those
run), which is what none of these runs takes away: the prices the agent does not know past the
day-ahead publication, the EV sessions it learns from its habits, each of the
reference's windows starting from the scenario's initial stores, the cycle's timing and the devices'
own control between plans.

The parts need not add up, and each is measured against the agent as it is, not one after the
other. The forecast errors interact: a wrong outdoor temperature moves the heat pump's plan and
so what the PV forecast is worth; two quantities' errors may cancel (``forecasts`` may be less
than the sum of its parts, or more). Trading interacts with the forecasts: the agent hedges what
it forecasts, so a forecast error costs more with tenders committed to it, and the value of
trading shows only against the forecasts the agent has. A longer horizon with wrong forecasts
may plan worse than a short one (a week of guessed base load), so ``horizon`` is the horizon's
worth with the agent's forecasts, not with the truth. A single run's cost also moves a little
with any change to the plans (the retailer's tenders it meets, the cycle's timing): the runs
are deterministic, but a cause worth less than a few cents is within that.

The runs go on ``--jobs`` processes (:func:`hil.sim.batch.run_jobs`, as ``hems simulate
--jobs``), each working out its references in a second process when it is two days or longer.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import math
import sys
from pathlib import Path
from typing import Any

from hil.fast.oracle import ORACLES
from hil.sim.batch import Job, run_jobs
from hil.sim.foresight import OVERLAP_DAYS, WINDOW_DAYS
from hil.sim.scenario import Scenario, load_scenario, merge

MAX_HORIZON_H = 168  # planner.horizon_h's bound in the agent's config
DEFAULT_HORIZON_H = 24  # planner.horizon_h's default
# Causes whose runs together take away every cause measured (the rest is "unexplained").
TOP_LEVEL = ("forecasts", "trading", "horizon")


def reference_window_h(days: float) -> float:
    """How far the perfect-foresight reference's first plan looks ahead (hours)."""
    return 24.0 * min(days, WINDOW_DAYS + OVERLAP_DAYS)


def configured_horizon_h(scenario: Scenario) -> int:
    """The scenario's agent planner horizon (its override, else the config's default)."""
    planner = scenario.agent.get("planner") or {}
    return int(planner.get("horizon_h", DEFAULT_HORIZON_H))


def cause_runs(scenario: Scenario) -> tuple[dict[str, Job], dict[str, str]]:
    """One job per cause with that cause taken away, and the causes skipped with the reason."""
    jobs: dict[str, Job] = {name: Job(scenario, "fast", oracles=(name,)) for name in ORACLES}
    jobs["forecasts"] = Job(scenario, "fast", oracles=ORACLES)
    skipped: dict[str, str] = {}
    if scenario.contract is None:
        off = merge(scenario.agent, {"market": {"forward_trading": False}})
        jobs["trading"] = Job(dataclasses.replace(scenario, agent=off), "fast")
    else:
        skipped["trading"] = "a household contract has no retailer to trade with"
    window_h = reference_window_h(scenario.days)
    horizon_h = min(MAX_HORIZON_H, math.ceil(window_h))
    own_h = configured_horizon_h(scenario)
    if horizon_h > own_h:
        longer = merge(scenario.agent, {"planner": {"horizon_h": horizon_h}})
        jobs["horizon"] = Job(dataclasses.replace(scenario, agent=longer), "fast")
    else:
        skipped["horizon"] = (
            f"the reference looks {window_h:g} h ahead and the agent already plans {own_h} h"
            f" (the config allows at most {MAX_HORIZON_H} h)"
        )
    return jobs, skipped


def measure(scenario: Scenario, workers: int, only: tuple[str, ...] = ()) -> dict[str, Any]:
    """Run ``scenario`` as is and without each cause (``only``: just those causes)."""
    jobs, skipped = cause_runs(scenario)
    if only:
        jobs = {k: v for k, v in jobs.items() if k in only}
    names = list(jobs)
    outcomes = run_jobs([Job(scenario, "fast"), *jobs.values()], workers)
    for name, o in zip(["as is", *names], outcomes, strict=True):
        if o.kpis is None:
            raise SystemExit(f"{scenario.name} ({name}): {o.error}")
    agent = outcomes[0].kpis or {}
    costs = {name: (o.kpis or {})["cost_adjusted"] for name, o in zip(names, outcomes[1:], strict=True)}
    horizon = jobs.get("horizon")
    return summary(
        scenario.name, scenario.days, agent_cost=agent["cost_adjusted"],
        foresight_cost=agent["perfect_foresight_cost"], costs=costs, skipped=skipped,
        horizon_h=None if horizon is None else configured_horizon_h(horizon.scenario),
    )  # fmt: skip


def summary(
    scenario: str,
    days: float,
    *,
    agent_cost: float,
    foresight_cost: float,
    costs: dict[str, float],
    skipped: dict[str, str],
    horizon_h: int | None = None,
) -> dict[str, Any]:
    """The decomposition's JSON from the runs' ``cost_adjusted`` (see the module docstring)."""
    gap = agent_cost - foresight_cost
    causes = {
        name: {"cost_adjusted": cost, "explains": round(agent_cost - cost, 4)} for name, cost in costs.items()
    }
    if horizon_h is not None and "horizon" in causes:
        causes["horizon"]["horizon_h"] = horizon_h
    explained = sum(causes[name]["explains"] for name in TOP_LEVEL if name in causes)
    return {
        "scenario": scenario,
        "days": days,
        "agent_cost_adjusted": agent_cost,
        "perfect_foresight_cost": foresight_cost,
        "gap": round(gap, 4),
        "causes": causes,
        "unexplained": round(gap - explained, 4),
        "skipped": skipped,
    }


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m bench.decompose", description=__doc__)
    p.add_argument("--scenario", type=Path, required=True)
    p.add_argument("--days", type=float, default=None, help="simulated days (default: the scenario's)")
    p.add_argument("--jobs", type=int, default=2, help="runs side by side (default 2)")
    p.add_argument("--json", action="store_true", help="print the JSON only")
    args = p.parse_args(argv)
    if args.jobs < 1:
        print("--jobs must be >= 1", file=sys.stderr)
        return 2
    if args.days is not None and not 0 < args.days <= 366:
        print("--days must be > 0 and <= 366", file=sys.stderr)
        return 2
    scenario = load_scenario(args.scenario)
    if args.days is not None:
        scenario = scenario.with_days(args.days)
    out = measure(scenario, args.jobs)
    print(json.dumps(out, indent=2))
    if not args.json:
        for name, cause in out["causes"].items():
            print(f"{name}: explains {cause['explains']} of the gap {out['gap']}", file=sys.stderr)
        print(f"unexplained: {out['unexplained']}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
