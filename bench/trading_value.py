"""What forward trading is worth: ``python -m bench.trading_value --json``.

Runs a scenario (default: ``hil/scenarios/volatile_spot_week.yaml``) in fast mode for each of
``--seeds`` run seeds (``--first-seed`` on; a seed draws the weather forecast's errors and the
volatile spot prices), each twice: as configured, and with the agent's ``market.forward_trading:
false`` (no tender accepted or posted, everything settled at spot). Prints::

    {"scenario", "days", "seeds": [...],
     "runs": [{"seed", "cost_with_trading", "cost_without_trading", "trading_value",
               "tenders_posted", "tenders_accepted_by_retailer", ...}],
     "trading_value": {"mean", "std", "min", "max"},
     "cost_with_trading": {...}, "cost_without_trading": {...}}

``trading_value`` = cost without trading − cost with it (:func:`hil.sim.kpi.trading_value`), per
seed; the spreads are over the seeds (population standard deviation). ``--merge A.json B.json``
combines outputs of the same scenario and period (say, seeds run in separate calls) into one.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
from pathlib import Path
from typing import Any

from hil.sim.batch import Job, run_jobs
from hil.sim.kpi import Spread, trading_value
from hil.sim.scenario import load_scenario, merge

SCENARIO = Path(__file__).parents[1] / "hil" / "scenarios" / "volatile_spot_week.yaml"
OFF = {"market": {"forward_trading": False}}


def measure(path: Path, days: float | None, seeds: list[int], workers: int) -> dict[str, Any]:
    base = load_scenario(path)
    if days is not None:
        base = base.with_days(days)
    jobs = []
    for seed in seeds:
        on = dataclasses.replace(base, seed=seed)
        off = dataclasses.replace(on, agent=merge(on.agent, OFF))
        jobs += [Job(on, "fast"), Job(off, "fast")]
    outcomes = run_jobs(jobs, workers)
    runs: list[dict[str, Any]] = []
    for seed, on_out, off_out in zip(seeds, outcomes[::2], outcomes[1::2], strict=True):
        for o in (on_out, off_out):
            if o.kpis is None:
                raise SystemExit(f"seed {seed}: {o.error}")
        k_on, k_off = on_out.kpis or {}, off_out.kpis or {}
        runs.append(
            {
                "seed": seed,
                "cost_with_trading": k_on["cost"],
                "cost_without_trading": k_off["cost"],
                "trading_value": round(trading_value(k_off["cost"], k_on["cost"]), 4),
                "tenders_posted": k_on["tenders_posted"],
                "tenders_accepted_by_retailer": k_on["tenders_accepted_by_retailer"],
                "transactions_with_trading": k_on["transactions"],
                "transactions_without_trading": k_off["transactions"],
                "baseline_cost": k_on["baseline_cost"],
                "perfect_foresight_cost": k_on["perfect_foresight_cost"],
            }
        )
    return summary(base.name, base.days, runs)


def summary(scenario: str, days: float, runs: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "scenario": scenario,
        "days": days,
        "seeds": [r["seed"] for r in runs],
        "runs": runs,
        **{
            key: dataclasses.asdict(Spread.of([r[key] for r in runs]))
            for key in ("trading_value", "cost_with_trading", "cost_without_trading")
        },
    }


def merge_docs(docs: list[dict[str, Any]]) -> dict[str, Any]:
    if not docs:
        raise ValueError("nothing to merge")
    first = docs[0]
    for d in docs[1:]:
        if (d["scenario"], d["days"]) != (first["scenario"], first["days"]):
            raise ValueError(f"cannot merge {d['scenario']} over {d['days']} d into {first['scenario']}")
    runs = sorted((r for d in docs for r in d["runs"]), key=lambda r: r["seed"])
    return summary(first["scenario"], first["days"], runs)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m bench.trading_value", description=__doc__)
    p.add_argument("--scenario", type=Path, default=SCENARIO)
    p.add_argument("--days", type=float, default=None, help="simulated days (default: the scenario's)")
    p.add_argument("--seeds", type=int, default=10)
    p.add_argument("--first-seed", type=int, default=1)
    p.add_argument("--jobs", type=int, default=2)
    p.add_argument("--json", action="store_true", help="print the JSON only")
    p.add_argument("--merge", nargs="+", type=Path, default=None, help="combine earlier outputs")
    args = p.parse_args(argv)
    if args.merge is not None:
        print(
            json.dumps(merge_docs([json.loads(f.read_text(encoding="utf-8")) for f in args.merge]), indent=2)
        )
        return 0
    if args.seeds < 1 or args.jobs < 1:
        print("--seeds and --jobs must be >= 1", file=sys.stderr)
        return 2
    seeds = list(range(args.first_seed, args.first_seed + args.seeds))
    out = measure(args.scenario, args.days, seeds, args.jobs)
    text = json.dumps(out, indent=2)
    print(text)
    if not args.json:
        tv = out["trading_value"]
        print(f"trading_value mean {tv['mean']} (std {tv['std']}, {tv['min']}..{tv['max']})", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
