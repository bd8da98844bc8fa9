"""Planner speed and accuracy on receding-horizon re-plans: ``python -m bench.optimizer --json``.

Each case builds the planner for a synthetic home with every device on (battery, V2G EV, heat
pump, water heater, PV, two-step ladders each way), plans once, then re-plans ``--replans`` times,
each time one interval later with new prices, forecasts and EV sessions. Times are wall-clock for
the whole ``Planner.plan`` call (filling the numbers, solving, checking the plan). The objective
gap and the worst constraint violation are measured against cvxpy + Clarabel at 1e-8 on a few of
the re-plans (the reference takes seconds), after all timing. ``peak_rss_mb`` is the process peak
before the reference is imported; ``peak_rss_mb_with_reference`` after it. ``bid_curve_ms`` is
the extra time of pricing bid curves for the next 4 intervals at the 6 default prices each, and
``bid_curve_probe_solves`` how many probe solves that took (24 without the bisection shortcut).
Every time is also given as process CPU time (``*_cpu_ms``), which other load on a shared machine
inflates less than the wall clock; ``cpu_affinity`` says which cores the run was allowed
(``taskset -c 0 python -m bench.optimizer --json`` pins it to one).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import sys
import time
from typing import Any

import numpy as np

from agent.optimizer import Planner, synthetic

BID_INTERVALS = 4
CASES = (("24h@5min", 288, 5 / 60), ("48h@15min", 192, 0.25), ("24h@1h", 24, 1.0))


def run_case(name: str, horizon: int, dt_h: float, replans: int, references: int) -> dict[str, Any]:
    t0 = time.perf_counter()
    planner = Planner(synthetic.devices(), horizon, dt_h)
    plan = planner.plan(synthetic.inputs(horizon, dt_h, 0, 0))
    first_ms = (time.perf_counter() - t0) * 1e3
    times, cpu, violation, costs = [], [], plan.solver.max_violation, {}
    check_at = set(np.linspace(1, replans, references, dtype=int).tolist())
    for k in range(1, replans + 1):
        inputs = synthetic.inputs(horizon, dt_h, k, k)
        c1, t1 = time.process_time(), time.perf_counter()
        plan = planner.plan(inputs, elapsed_intervals=1)
        times.append((time.perf_counter() - t1) * 1e3)
        cpu.append((time.process_time() - c1) * 1e3)
        violation = max(violation, plan.solver.max_violation)
        if k in check_at:
            costs[k] = plan.total_cost
    bid_ms, bid_cpu_ms, probes = bid_curves(planner, horizon, dt_h, replans)
    return {
        "name": name,
        "intervals": horizon,
        "variables": planner.variables,
        "first_solve_ms": round(first_ms, 2),
        "resolve_ms_median": round(statistics.median(times), 2),
        "resolve_ms_p90": round(float(np.percentile(times, 90)), 2),
        "resolve_cpu_ms_median": round(statistics.median(cpu), 2),
        "objective_rel_gap": costs,  # filled in by reference_gaps once every case is timed
        "max_violation": float(f"{violation:.3g}"),
        "bid_curve_ms": bid_ms,
        "bid_curve_cpu_ms": bid_cpu_ms,
        "bid_curve_probe_solves": probes,
        # Re-plans whose solve without the penalty slacks could not be certified (solved whole).
        "screen_fallbacks": planner._piqp.screen_fallbacks if planner._piqp is not None else 0,
    }


def bid_curves(
    planner: Planner, horizon: int, dt_h: float, after: int, runs: int = 5
) -> tuple[float, float, float]:
    """Median extra wall and CPU time of a re-plan that also prices BID_INTERVALS bid curves, and
    the probe solves that took."""
    extra, extra_cpu, solves = [], [], []
    for k in range(after + 1, after + 1 + runs):
        inputs = synthetic.inputs(horizon, dt_h, k, k)
        c0, t0 = time.process_time(), time.perf_counter()
        planner.plan(inputs, elapsed_intervals=1)
        plain, plain_cpu = time.perf_counter() - t0, time.process_time() - c0
        before = planner.probe_solves
        c1, t1 = time.process_time(), time.perf_counter()
        planner.plan(inputs, elapsed_intervals=0, bid_intervals=BID_INTERVALS)
        extra.append((time.perf_counter() - t1 - plain) * 1e3)
        extra_cpu.append((time.process_time() - c1 - plain_cpu) * 1e3)
        solves.append(planner.probe_solves - before)
    return (
        round(statistics.median(extra), 2),
        round(statistics.median(extra_cpu), 2),
        statistics.median(solves),
    )


def reference_gaps(case: dict[str, Any], horizon: int, dt_h: float) -> None:
    """Replace the sampled costs by the worst relative gap to cvxpy + Clarabel at 1e-8."""
    planner = Planner(synthetic.devices(), horizon, dt_h)
    gaps = []
    for k, cost in case["objective_rel_gap"].items():
        ref = planner.reference_plan(synthetic.inputs(horizon, dt_h, k, k))
        gaps.append(abs(cost - ref.total_cost) / max(abs(ref.total_cost), 1e-9))
    case["objective_rel_gap"] = float(f"{max(gaps):.3g}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.optimizer", description=__doc__)
    parser.add_argument("--json", action="store_true", help="print the result as JSON")
    parser.add_argument("--replans", type=int, default=60, help="re-plans per case (>= 50 for the targets)")
    parser.add_argument("--references", type=int, default=3, help="re-plans compared with the reference")
    args = parser.parse_args(argv)
    cases = [run_case(name, t_n, dt, args.replans, args.references) for name, t_n, dt in CASES]
    # The planner's own footprint, before cvxpy and Clarabel are loaded for the reference.
    rss_mb = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)
    for case, (_, t_n, dt) in zip(cases, CASES, strict=True):
        reference_gaps(case, t_n, dt)
    out = {
        # Which cores the run was allowed (``taskset -c 0 python -m bench.optimizer`` pins it to one)
        # and how busy the machine was: the CPU-time medians are less inflated by others' load.
        "cpu_affinity": sorted(os.sched_getaffinity(0)),
        "cpus_on_machine": os.cpu_count(),
        "load_average_1min": round(os.getloadavg()[0], 2),
        "cases": cases,
        "peak_rss_mb": rss_mb,
        "peak_rss_mb_with_reference": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
    }
    if args.json:
        json.dump(out, sys.stdout, indent=2)
        print()
    else:
        for c in cases:
            print(
                f"{c['name']:<10} {c['variables']:>6} vars  first {c['first_solve_ms']:8.1f} ms  "
                f"re-plan median {c['resolve_ms_median']:6.1f} ms  p90 {c['resolve_ms_p90']:6.1f} ms  "
                f"gap {c['objective_rel_gap']:.1e}  violation {c['max_violation']:.1e}"
            )
        print(f"peak RSS {out['peak_rss_mb']} MB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
