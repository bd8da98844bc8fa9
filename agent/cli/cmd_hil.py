"""``hems hil``: the rig alone — emulated meter, inverter, thermostat, water heater, EV charger
and the retailer — so that an agent on a real gateway can be bench-tested over the LAN.

Prints the agent config that points at the rig (save it as the gateway's hems.yaml) and runs
until Ctrl-C. ``--bind 0.0.0.0`` serves the LAN (the printed config then names
``--advertise``, this machine's address as the gateway sees it); ``--realtime`` runs the clock
at real speed (default: the scenario's speed). Wiring and steps: hil/README.md.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import dataclasses
import signal
import sys
import tempfile
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any


def register(sub: Any) -> None:
    p = sub.add_parser("hil", help="run the HIL rig alone, for a real gateway", description=__doc__)
    p.add_argument(
        "--scenario", required=True, metavar="FILE", help="scenario YAML (the home and its faults)"
    )
    p.add_argument("--bind", default="127.0.0.1", help="address the emulated devices and broker listen on")
    p.add_argument("--advertise", default=None, help="address the printed config names (default: --bind)")
    p.add_argument("--realtime", action="store_true", help="run at real time (default: the scenario's speed)")
    p.add_argument("--state-dir", default="/var/lib/hems", help="state_dir written into the printed config")
    p.add_argument("--duration-s", type=float, default=None, help="stop after this many real seconds")
    p.add_argument("--no-retailer", action="store_true", help="devices only, no retailer simulator")
    p.add_argument("--gpio", action="store_true", help="water heater through a relay on a GPIO pin (on a Pi)")
    p.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    # The rig is imported here, not at start-up: a gateway installs the agent without it.
    from hil.errors import HilError
    from hil.sim.scenario import ScenarioError, load_scenario

    try:
        scenario = load_scenario(Path(args.scenario))
    except ScenarioError as e:
        print(f"hems hil: {e}", file=sys.stderr)
        return 2
    if scenario.contract is not None:
        # The rig's wires carry only the retailer: a contract is not served over them.
        print("hems hil: simulate.contract: runs on virtual time (hems simulate --fast)", file=sys.stderr)
        return 2
    if args.realtime:
        # A gateway keeps real time: the rig runs from now (the recorded week replays from the
        # same time of day), or the retailer's tenders would lie in the gateway's past.
        now = datetime.now(UTC).replace(microsecond=0)
        scenario = dataclasses.replace(scenario, speed=1.0, start=now)
    try:
        return asyncio.run(_serve(scenario, args))
    except HilError as e:
        print(f"hems hil: {e}", file=sys.stderr)
        return 1


async def _serve(scenario: Any, args: argparse.Namespace) -> int:
    import time

    import yaml

    from hil.sim.clock import HeldClock
    from hil.sim.world import World

    clock = HeldClock(scenario.start, scenario.speed)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(sig, stop.set)
    with tempfile.TemporaryDirectory(prefix="hems-hil-") as tmp:
        world = World(
            scenario,
            clock,
            Path(tmp),
            bind=args.bind,
            retailer=not args.no_retailer,
            days=max(14, int(scenario.days) + 2),
            advertise=args.advertise,
            gpio=args.gpio,
        )
        await world.start()
        try:
            doc = world.agent_config(Path(args.state_dir))
            print(yaml.safe_dump(doc, sort_keys=False), flush=True)
            where = f"{world.broker.host}:{world.broker.port}"
            print(
                f"# rig running (broker {world.broker.kind} on {where}); Ctrl-C stops",
                file=sys.stderr,
                flush=True,
            )
            clock.release(time.monotonic())
            world.start_faults()
            end = datetime.now().astimezone() + timedelta(seconds=args.duration_s or 10**9)
            while not stop.is_set() and datetime.now().astimezone() < end:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), 0.5)
        finally:
            await world.stop()
    return 0
