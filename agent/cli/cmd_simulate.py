"""``hems simulate``: the real agent against the simulated home and retailer, and its KPIs.

Two modes. ``--real-protocol``: the HIL rig, the retailer simulator and the agent on loopback
sockets (Modbus, MQTT through a broker), on a clock running ``speed`` times real time — for
protocol and fault work. ``--fast``: the same agent code on a virtual clock in one process, the
devices at the capability level and the retailer's messages on an in-process bus — deterministic
(the same scenario and ``--seed`` give the same KPIs, byte for byte) and as fast as the agent's
own computation allows. Without either, runs longer than two days are fast, shorter ones real.

A long run may be split (``--split N``): its period is cut at whole days into N parts that run
side by side (each part and the references in a process of its own, or ``--jobs`` processes),
each after a warm-up of ``--warm-up-days`` that counts nowhere, and the parts' figures are
joined (hil/fast/split.py says how, and what it changes). ``--oracle base_load,pv,outdoor,draws``
gives a fast run's agent the truth of those forecasts (hil/fast/oracle.py).

Several scenarios (``--scenario A.yaml B.yaml``) run in parallel processes (``--jobs``) and print
one table (``--json``: a list, one object per scenario with its name and mode). One scenario
prints its KPIs as a table, or exactly the KPI object with ``--json``; ``--report DIR`` writes an
HTML report with plots (one sub-directory per scenario in a batch). Wall time goes to stderr,
never into the KPIs. Exit codes: 0 every run completed and its checks held (every device in
limits, no transaction lost); 1 a check failed or a run broke; 2 bad scenario or options.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path
from typing import Any

FAST_ABOVE_DAYS = 2.0
MAX_DAYS = {"fast": 366.0, "real": 28.0}


def register(sub: Any) -> None:
    p = sub.add_parser(
        "simulate", help="run the agent against the simulated home; print KPIs", description=__doc__
    )
    p.add_argument(
        "--scenario", required=True, nargs="+", metavar="FILE", help="scenario YAML file(s) (hil/scenarios/)"
    )
    p.add_argument("--days", type=float, default=None, help="simulated days (default: the scenario's)")
    p.add_argument("--json", action="store_true", help="print exactly the KPI JSON (a list for a batch)")
    p.add_argument("--report", metavar="DIR", default=None, help="write an HTML report with plots here")
    p.add_argument("--speed", type=float, default=None, help="real-protocol mode: simulated s per real s")
    p.add_argument("--keep", metavar="DIR", default=None, help="keep the run's files (config, ledger) here")
    mode = p.add_mutually_exclusive_group()
    mode.add_argument("--fast", action="store_true", help="virtual time, in process (default above 2 days)")
    mode.add_argument(
        "--real-protocol", action="store_true", help="the rig on loopback sockets, accelerated wall clock"
    )
    p.add_argument("--seed", type=int, default=None, help="the run's seed (default: the scenario's)")
    p.add_argument(
        "--jobs", type=int, default=None, help="parallel runs for a batch or a split run (default: the cores)"
    )
    p.add_argument(
        "--split", type=int, default=1, metavar="N", help="fast mode: run the period as N parts side by side"
    )
    p.add_argument(
        "--warm-up-days",
        type=float,
        default=None,
        metavar="D",
        help="with --split: days each part runs unmeasured before its own (default: 7)",
    )
    p.add_argument(
        "--oracle",
        default=None,
        metavar="NAMES",
        help="fast mode: give the agent the true base_load, pv, outdoor, draws (comma-separated)",
    )
    p.add_argument(
        "--broker",
        choices=("auto", "mosquitto"),
        default="auto",
        help="real-protocol mode: MQTT broker (auto: mosquitto if installed)",
    )
    p.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    from hil.errors import HilError
    from hil.sim.batch import run_jobs
    from hil.sim.scenario import ScenarioError

    try:
        jobs = [_job(args, Path(path)) for path in args.scenario]
        if args.jobs is not None and args.jobs < 1:
            raise ScenarioError("--jobs", "must be >= 1")
    except ScenarioError as e:
        print(f"hems simulate: {e}", file=sys.stderr)
        return 2
    workers = args.jobs or min(len(jobs), os.cpu_count() or 1)
    try:
        outcomes = run_jobs(jobs, workers)
    except HilError as e:
        print(f"hems simulate: {e}", file=sys.stderr)
        return 1
    for o in outcomes:
        if o.error is not None:
            print(f"hems simulate: {o.name}: {o.error}", file=sys.stderr)
            continue
        days = o.days
        print(f"{o.name}: {o.mode}, wall time {o.wall_s:.1f} s ({o.wall_s / days:.2f} s per simulated day)",
              file=sys.stderr)  # fmt: skip
        for name, verdict in o.checks.items():
            print(f"{o.name}: check {name}: {verdict}", file=sys.stderr)
        for note in o.notes:
            print(f"{o.name}: {note}", file=sys.stderr)
        if o.report is not None:
            print(f"report: {o.report}", file=sys.stderr)
    _print(outcomes, as_json=args.json, batch=len(jobs) > 1)
    return 0 if all(o.ok for o in outcomes) else 1


def _job(args: argparse.Namespace, path: Path) -> Any:
    import dataclasses

    from hil.sim.batch import Job, Mode
    from hil.sim.scenario import ScenarioError, load_scenario

    scenario = load_scenario(path)
    days = scenario.days if args.days is None else args.days
    mode: Mode = "fast" if days > FAST_ABOVE_DAYS else "real"
    if args.fast or args.real_protocol:
        mode = "fast" if args.fast else "real"
    elif args.split != 1:
        mode = "fast"  # only a virtual-time run splits
    if scenario.contract is not None:
        # The real-protocol rig has only the retailer to trade with.
        if args.real_protocol:
            raise ScenarioError("simulate.contract", "a household contract runs on virtual time (--fast)")
        mode = "fast"
    if not 0 < days <= MAX_DAYS[mode]:
        raise ScenarioError("--days", f"must be > 0 and <= {MAX_DAYS[mode]:g} in {mode} mode")
    scenario = scenario.with_days(days)
    if args.speed is not None:
        if not 1 <= args.speed <= 20_000:
            raise ScenarioError("--speed", "must be 1..20000")
        scenario = dataclasses.replace(scenario, speed=args.speed)
    if args.seed is not None:
        if args.seed < 0:
            raise ScenarioError("--seed", "must be >= 0")
        scenario = dataclasses.replace(scenario, seed=args.seed)
    batch = len(args.scenario) > 1
    keep = _place(args.keep, path, batch)
    report = _place(args.report, path, batch)
    oracles = _oracles(args.oracle, mode, split=args.split != 1 or args.warm_up_days is not None)
    split = _split(args, scenario, mode)
    return Job(scenario, mode, keep=keep, report=report, broker=args.broker, split=split, oracles=oracles)


def _oracles(option: str | None, mode: str, *, split: bool) -> tuple[str, ...]:
    from hil.fast.oracle import ORACLES, parse_oracles
    from hil.sim.scenario import ScenarioError

    if option is None:
        return ()
    if mode != "fast" or split:
        raise ScenarioError("--oracle", "oracle forecasts are for a virtual-time run in one part (--fast)")
    oracles = parse_oracles(option)
    if not oracles:
        raise ScenarioError("--oracle", f"names none; choose from {', '.join(ORACLES)}")
    return oracles


def _split(args: argparse.Namespace, scenario: Any, mode: str) -> Any:
    from hil.fast.split import DEFAULT_WARM_UP_DAYS, Split, plan_parts
    from hil.sim.scenario import ScenarioError

    if args.split == 1 and args.warm_up_days is None:
        return None
    if mode != "fast":
        raise ScenarioError("--split", "a split run is a virtual-time run (--fast)")
    warm_up_days = DEFAULT_WARM_UP_DAYS if args.warm_up_days is None else args.warm_up_days
    plan_parts(scenario, args.split, warm_up_days)  # the options' errors before anything runs
    # By default every part and the references at once: the system shares the cores among them,
    # and the run ends when the last one does.
    return Split(args.split, warm_up_days, args.jobs or args.split + 1)


def _place(option: str | None, scenario: Path, batch: bool) -> Path | None:
    """The directory an option names: per scenario (a sub-directory by its file name) in a batch."""
    if option is None:
        return None
    return Path(option) / scenario.stem if batch else Path(option)


def _print(outcomes: list[Any], *, as_json: bool, batch: bool) -> None:
    rows = [o for o in outcomes if o.kpis is not None]
    if as_json:
        if batch:
            print(json.dumps([{"scenario": o.name, "mode": o.mode, **o.kpis} for o in rows], indent=2))
        elif rows:
            print(json.dumps(rows[0].kpis, indent=2))
        return
    if not rows:
        return
    keys = list(rows[0].kpis)
    width = max(len(k) for k in keys)
    cols = [max(12, len(o.name)) for o in rows]
    print(f"{'':<{width}}  " + "  ".join(f"{o.name:>{c}}" for o, c in zip(rows, cols, strict=True)))
    for k in keys:
        print(f"{k:<{width}}  " + "  ".join(f"{o.kpis[k]!s:>{c}}" for o, c in zip(rows, cols, strict=True)))
