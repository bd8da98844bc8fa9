"""``hems plan --scenario FILE [--json]``: plan one scenario and show the result.

Exit codes: 0 a checked plan; 1 the solver or the plan check failed; 2 the scenario is bad
(the message names the key).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from agent.optimizer import InputError, OptimizerError, Plan, Planner
from agent.scenario import ScenarioError, load_spec
from agent.scenario.plan_inputs import PlanProblem, plan_problem

COLUMNS = (
    ("grid_kw", "grid kW", "{:7.2f}"),
    ("battery_kw", "bat kW", "{:7.2f}"),
    ("battery_kwh", "bat kWh", "{:7.2f}"),
    ("ev_kw", "EV kW", "{:7.2f}"),
    ("ev_kwh", "EV kWh", "{:7.2f}"),
    ("heat_pump_kw", "HP kW", "{:6.2f}"),
    ("indoor_c", "in °C", "{:6.2f}"),
    ("water_heater_kw", "WH kW", "{:6.2f}"),
    ("tank_c", "tank °C", "{:7.2f}"),
    ("pv_kw", "PV kW", "{:6.2f}"),
    ("pv_curtail_kw", "curt kW", "{:7.2f}"),
)


def register(sub: Any) -> None:
    p = sub.add_parser("plan", help="plan a scenario file (see docs/scenario-format.md)")
    p.add_argument("--scenario", required=True, type=Path, help="scenario YAML file")
    p.add_argument("--json", action="store_true", help="per-interval values and costs as JSON")
    p.add_argument("--bids", type=int, default=0, metavar="N", help="bid curves for the first N intervals")
    p.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    try:
        scenario = plan_problem(load_spec(args.scenario))
        planner = Planner(scenario.devices, len(scenario.starts), scenario.dt_h)
        plan = planner.plan(scenario.inputs, bid_intervals=args.bids)
    except (ScenarioError, InputError) as e:
        print(f"hems plan: {args.scenario}: {e}", file=sys.stderr)
        return 2
    except OptimizerError as e:
        print(f"hems plan: {type(e).__name__}: {e}", file=sys.stderr)
        return 1
    if args.json:
        starts = [s.isoformat() for s in scenario.starts]
        out = {"scenario": scenario.name, "intervals": starts, **plan.to_json()}
        json.dump(out, sys.stdout, indent=1)
        print()
    else:
        print(_table(scenario, plan))
    return 0


def _table(scenario: PlanProblem, plan: Plan) -> str:
    cols = [c for c in COLUMNS if c[0] in plan.series]
    price = scenario.inputs.grid.buy_price_per_kwh
    head = f"{'interval start':<25} {'buy/kWh':>8} {'value/kWh':>9} " + " ".join(f"{c[1]:>7}" for c in cols)
    lines = [f"scenario {scenario.name}: {plan.horizon} intervals of {plan.dt_h * 60:g} min", head]
    for t, start in enumerate(scenario.starts):
        buy = f"{price[t, 0]:8.4f}" if price.shape[1] else f"{'-':>8}"
        cells = " ".join(c[2].format(plan.series[c[0]][t]).rjust(7) for c in cols)
        lines.append(f"{start.isoformat():<25} {buy} {plan.marginal_value_per_kwh[t]:9.4f} {cells}")
    lines.append("")
    lines.append("cost by component:")
    for name, value in plan.cost.items():
        if abs(value) > 5e-7:
            lines.append(f"  {name:<22} {value:10.4f}")
    lines.append(f"  {'total':<22} {plan.total_cost:10.4f}")
    for curve in plan.bids:
        pts = ", ".join(f"{p.quantity_kw:+.2f} kW @ {p.price_per_kwh:.4f}" for p in curve.points)
        lines.append(f"bids {scenario.starts[curve.interval].isoformat()}: {pts}")
    s = plan.solver
    lines.append(f"solver {s.backend}: {s.status}, {s.iterations} iterations, {s.solve_ms:.1f} ms")
    return "\n".join(lines)
