"""The world's process in a closed-loop run: it builds the world, waits for the go, runs, reports.

Messages on the pipe (tuples): world → agent side ``("ready", config_path)``, later
``("results", dict)`` or ``("error", text)``; agent side → world ``("go", real0)`` (release the
clock at that ``time.monotonic()`` reading) and ``("stop",)``. Running the world apart from the
agent gives each its own interpreter (and core): at thousands of times real time neither then
waits on the other's share of the GIL.
"""

from __future__ import annotations

import asyncio
import logging
from multiprocessing.connection import Connection
from pathlib import Path

from hil.sim.clock import HeldClock
from hil.sim.scenario import Scenario
from hil.sim.world import World


def world_main(conn: Connection, scenario: Scenario, directory: Path, broker: str, log_level: int) -> None:
    logging.basicConfig(level=log_level, format="%(asctime)s %(levelname)s world %(name)s: %(message)s")
    asyncio.run(_run(conn, scenario, directory, broker))


async def _run(conn: Connection, scenario: Scenario, directory: Path, broker: str) -> None:
    clock = HeldClock(scenario.start, scenario.speed)
    world = World(scenario, clock, directory, broker=broker, days=int(scenario.days) + 2)
    try:
        await world.start()
        path = world.write_agent_config(directory / "hems.yaml", directory / "state")
        conn.send(("ready", str(path)))
        go = await asyncio.to_thread(conn.recv)
        clock.release(float(go[1]))
        world.start_faults()
        await asyncio.to_thread(conn.recv)  # ("stop",)
        await world.stop()
        conn.send(("results", world.results()))
    except Exception as e:  # reported to the agent side, which exits 1 with it
        logging.getLogger("hil.sim").exception("world failed")
        conn.send(("error", f"{type(e).__name__}: {e}"))
        await world.stop()
