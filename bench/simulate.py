"""What a virtual-time simulation costs: ``python -m bench.simulate --json``.

Runs a scenario with ``hems simulate --fast``'s code (:func:`hil.fast.run.run_fast`) and prints::

    {"scenario", "sim_days", "wall_s", "sim_days_per_wall_s", "plans", "plan_ms_median", "peak_rss_mb"}

``wall_s`` covers the whole run: the simulated period with the agent, then the baseline and the
perfect-foresight reference. Added: ``cpu_s``, the process's CPU time over the same (which a
machine shared with other work does not inflate), ``cpu_children_s``, that of the process a
run of two days or more works the references out in (alongside the agent, on another core),
and ``plans_s``, the wall time of all plans. ``--split N`` runs the period as N parts side by
side (:mod:`hil.fast.split`) on ``--jobs`` processes: ``cpu_children_s`` is then the parts' and
the references' CPU time, and ``peak_rss_children_mb`` the largest of theirs.
``plans`` and ``plan_ms_median`` are the agent's plans (one solve plus its bid-curve probes
each). ``--profile`` runs under cProfile and adds ``profile_s``: the own time by part — the
solver, SQLite, the agent's Python, the simulated world, the event loop — so the report can say
where the time goes.

The default scenario is the shipped year (``hil/scenarios/year_de_2015.yaml``) where it exists,
otherwise the summer week.
"""

from __future__ import annotations

import argparse
import cProfile
import dataclasses
import json
import pstats
import resource
import statistics
import sys
import tempfile
from pathlib import Path
from typing import Any

from hil.fast.run import run_fast
from hil.fast.split import DEFAULT_WARM_UP_DAYS, Split, run_split
from hil.sim.batch import scratch_dir
from hil.sim.scenario import load_scenario

SCENARIOS = Path(__file__).parents[1] / "hil" / "scenarios"
YEAR = SCENARIOS / "year_de_2015.yaml"
WEEK = SCENARIOS / "summer_week.yaml"
# Own-time buckets of the profile, by where the function lives (first match wins).
PARTS = (
    ("solver", ("piqp", "qdldl", "scipy", "numpy")),
    ("sqlite", ("sqlite3",)),
    ("agent", ("/agent/",)),
    ("drivers", ("/drivers/",)),
    ("world", ("/hil/",)),
    ("event_loop", ("asyncio", "looptime", "selectors")),
)


def _part(filename: str) -> str:
    for part, needles in PARTS:
        if any(n in filename for n in needles):
            return part
    return "other"


def profile_parts(stats: pstats.Stats) -> dict[str, float]:
    out: dict[str, float] = {}
    raw: dict[Any, Any] = stats.stats  # type: ignore[attr-defined]
    for (filename, _, name), (_, _, tottime, _, _) in raw.items():
        key = _part(filename if filename != "~" else name)
        out[key] = out.get(key, 0.0) + tottime
    return {k: round(v, 2) for k, v in sorted(out.items(), key=lambda kv: -kv[1])}


def _cpu_s(who: int = resource.RUSAGE_SELF) -> float:
    r = resource.getrusage(who)
    return r.ru_utime + r.ru_stime


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--scenario", type=Path, default=YEAR if YEAR.exists() else WEEK)
    ap.add_argument("--days", type=float, default=None, help="simulated days (default: the scenario's)")
    ap.add_argument("--cycle-s", type=float, default=None, help="the control cycle (default: the scenario's)")
    ap.add_argument("--split", type=int, default=1, help="run the period as this many parts side by side")
    ap.add_argument("--warm-up-days", type=float, default=DEFAULT_WARM_UP_DAYS, help="with --split")
    ap.add_argument("--jobs", type=int, default=2, help="with --split: processes")
    ap.add_argument("--profile", action="store_true", help="add the cProfile own time by part")
    ap.add_argument("--json", action="store_true", help="print the JSON object only")
    args = ap.parse_args(argv)
    scenario = load_scenario(args.scenario)
    if args.days is not None:
        scenario = scenario.with_days(args.days)
    if args.cycle_s is not None:
        scenario = dataclasses.replace(scenario, cycle_s=args.cycle_s)
    split = Split(args.split, args.warm_up_days, args.jobs) if args.split > 1 else None
    profiler = cProfile.Profile() if args.profile else None
    with tempfile.TemporaryDirectory(prefix="hems-bench-", dir=scratch_dir()) as tmp:
        if profiler is not None:
            profiler.enable()
        cpu0, children0 = _cpu_s(), _cpu_s(resource.RUSAGE_CHILDREN)
        if split is None:
            result, stats = run_fast(scenario, Path(tmp))
        else:
            result, stats = run_split(scenario, Path(tmp), split)
        cpu_s = _cpu_s() - cpu0
        children_s = _cpu_s(resource.RUSAGE_CHILDREN) - children0  # reaped when the run returns
        if profiler is not None:
            profiler.disable()
    out: dict[str, Any] = {
        "scenario": scenario.name,
        "sim_days": scenario.days,
        "wall_s": round(result.wall_s, 2),
        "sim_days_per_wall_s": round(scenario.days / result.wall_s, 5),
        "plans": len(stats.plan_ms),
        "plan_ms_median": round(statistics.median(stats.plan_ms), 2) if stats.plan_ms else 0.0,
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0, 1),
        "cpu_s": round(cpu_s, 2),
        "cpu_children_s": round(children_s, 2),
        "plans_s": round(sum(stats.plan_ms) / 1000.0, 2),
        "cycle_s": scenario.cycle_s,
    }
    if split is not None:
        out["split"] = {"parts": split.parts, "warm_up_days": split.warm_up_days, "jobs": split.workers}
        children_rss_kb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
        out["peak_rss_children_mb"] = round(children_rss_kb / 1024.0, 1)
    if profiler is not None:
        out["profile_s"] = profile_parts(pstats.Stats(profiler))
    # On stderr either way: the JSON on stdout stays the benchmark's alone.
    print(f"kpis: {json.dumps(result.kpis.to_json())}", file=sys.stderr)
    print(json.dumps(out))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
