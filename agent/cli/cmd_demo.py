"""``hems demo``: the embedded default a new user meets — a whole simulated home on this machine.

Starts a Mosquitto broker (the Debian package ``mosquitto``), the HIL rig (meter, hybrid
inverter, thermostat, water heater, EV charger on their real protocols), the retailer simulator,
and the agent with its web page, all on loopback; the clock runs ``--speed`` times faster than
real time. Prints the URL and runs until Ctrl-C (or ``--duration-s``). The rig comes with
``pip install 'hems[hil]'``. ``--foundation`` runs the scripted ledger demo instead (no rig, no
broker; prints a bill).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import dataclasses
import importlib.resources
import sys
import tempfile
import time
from pathlib import Path
from typing import Any


def register(sub: Any) -> None:
    p = sub.add_parser("demo", help="run a simulated home on this machine", description=__doc__)
    p.add_argument("--port", type=int, default=8080, help="web page port (loopback)")
    p.add_argument("--speed", type=float, default=60.0, help="simulated seconds per real second")
    p.add_argument("--scenario", default=None, metavar="FILE", help="scenario YAML (default: the demo day)")
    p.add_argument("--duration-s", type=float, default=None, help="stop after this many real seconds")
    p.add_argument("--state-dir", default=None, help="keep the agent's state here (default: a temporary one)")
    p.add_argument("--foundation", action="store_true", help="the scripted ledger demo (prints a bill)")
    p.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    if args.foundation:
        from agent.demo_foundation import run_foundation_demo

        return run_foundation_demo()
    # The rig is imported here, not at start-up: a gateway installs the agent without it.
    from hil.errors import HilError
    from hil.sim.scenario import ScenarioError, load_scenario

    demo_scenario = Path(str(importlib.resources.files("hil.scenarios") / "demo.yaml"))

    if not 1 <= args.port <= 65535:
        print("hems demo: --port must be 1..65535", file=sys.stderr)
        return 2
    if not 0 < args.speed <= 5000:
        print("hems demo: --speed must be > 0 and <= 5000", file=sys.stderr)
        return 2
    try:
        scenario = load_scenario(Path(args.scenario) if args.scenario else demo_scenario)
    except ScenarioError as e:
        print(f"hems demo: {e}", file=sys.stderr)
        return 2
    if scenario.contract is not None:
        # The demo's rig trades with its retailer: a contract is not served over its wires.
        print("hems demo: simulate.contract: runs on virtual time (hems simulate --fast)", file=sys.stderr)
        return 2
    scenario = dataclasses.replace(scenario, speed=args.speed)
    try:
        return asyncio.run(_demo(scenario, args))
    except HilError as e:
        print(f"hems demo: {e}", file=sys.stderr)
        return 1


async def _demo(scenario: Any, args: argparse.Namespace) -> int:
    import yaml

    from agent.cli.cmd_run import run_agent
    from agent.config import load_config
    from hil.sim.clock import HeldClock
    from hil.sim.world import World

    with tempfile.TemporaryDirectory(prefix="hems-demo-") as tmp:
        directory = Path(tmp)
        state_dir = Path(args.state_dir) if args.state_dir else directory / "state"
        clock = HeldClock(scenario.start, scenario.speed)
        world = World(scenario, clock, directory / "world", days=int(scenario.days) + 2)
        await world.start()
        try:
            doc = world.agent_config(state_dir)
            doc["web"] = {"bind": "127.0.0.1", "port": args.port}
            path = directory / "hems.yaml"
            path.write_text(yaml.safe_dump(doc, sort_keys=False), encoding="utf-8")
            config = load_config(path)
            clock.release(time.monotonic())
            world.start_faults()
            stop = asyncio.Event()
            if args.duration_s is not None:
                asyncio.get_running_loop().call_later(args.duration_s, stop.set)
            print(f"hems demo: http://127.0.0.1:{args.port}/", flush=True)
            home = f"{scenario.name!r} from {scenario.start.isoformat()} at {scenario.speed:g}x"
            broker = f"{world.broker.kind} on 127.0.0.1:{world.broker.port}"
            print(f"  simulated home {home}; broker: {broker}; state: {state_dir}; Ctrl-C stops", flush=True)
            code = await run_agent(path, config, clock, cycle_s=scenario.cycle_s, stop=stop)
        finally:
            with contextlib.suppress(Exception):
                await world.stop()
    return code
