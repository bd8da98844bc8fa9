"""``hems simulate``: the closed loop — the HIL rig, the retailer simulator and the real agent on
loopback, on an accelerated clock — and its KPIs.

Prints the KPIs as a table, or exactly the KPI object with ``--json``; ``--report DIR`` writes an
HTML report with plots. Exit codes: 0 the run completed and its checks held (every device in
limits, no transaction lost, the period settled); 1 a check failed or the run broke; 2 bad
scenario or options.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import tempfile
from pathlib import Path
from typing import Any


def register(sub: Any) -> None:
    p = sub.add_parser(
        "simulate", help="run the agent against the simulated home; print KPIs", description=__doc__
    )
    p.add_argument("--scenario", required=True, metavar="FILE", help="scenario YAML (hil/scenarios/*.yaml)")
    p.add_argument("--days", type=float, default=None, help="simulated days (default: the scenario's)")
    p.add_argument("--json", action="store_true", help="print exactly the KPI JSON object")
    p.add_argument("--report", metavar="DIR", default=None, help="write an HTML report with plots here")
    p.add_argument("--speed", type=float, default=None, help="simulated seconds per real second")
    p.add_argument("--keep", metavar="DIR", default=None, help="keep the run's files (config, ledger) here")
    p.add_argument(
        "--broker",
        choices=("auto", "mosquitto", "embedded"),
        default="auto",
        help="MQTT broker (auto: mosquitto if installed)",
    )
    p.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    import dataclasses

    from hil.errors import HilError
    from hil.sim.loop import run_simulation
    from hil.sim.scenario import ScenarioError, load_scenario

    try:
        scenario = load_scenario(Path(args.scenario))
        if args.days is not None:
            if not 0 < args.days <= 28:
                raise ScenarioError("--days", "must be > 0 and <= 28")
            scenario = scenario.with_days(args.days)
        if args.speed is not None:
            if not 1 <= args.speed <= 20_000:
                raise ScenarioError("--speed", "must be 1..20000")
            scenario = dataclasses.replace(scenario, speed=args.speed)
    except ScenarioError as e:
        print(f"hems simulate: {e}", file=sys.stderr)
        return 2
    with tempfile.TemporaryDirectory(prefix="hems-sim-") as tmp:
        directory = Path(args.keep) if args.keep else Path(tmp)
        try:
            result = asyncio.run(run_simulation(scenario, directory, broker=args.broker))
        except HilError as e:
            print(f"hems simulate: {e}", file=sys.stderr)
            return 1
    if args.report:
        from hil.report import write_report

        index = write_report(result, Path(args.report))
        print(f"report: {index}", file=sys.stderr)
    kpis = result.kpis.to_json()
    if args.json:
        print(json.dumps(kpis, indent=2))
    else:
        width = max(len(k) for k in kpis)
        for k, v in kpis.items():
            print(f"{k:<{width}}  {v}")
    per_day = result.wall_s / scenario.days
    print(f"wall time {result.wall_s:.1f} s ({per_day:.1f} s per simulated day)", file=sys.stderr)
    for name, verdict in result.checks.items():
        print(f"check {name}: {verdict}", file=sys.stderr)
    return 0 if result.ok else 1
