"""The closed loop: the world in its own process, the real agent (``hems run``'s code) here.

:func:`run_simulation` starts the world (broker, rig, retailer), builds the agent from the config
the world wrote (``agent.runtime.app.build`` and ``serve``, real sockets on loopback), releases
both clocks together, runs to the scenario's end plus a short tail (so the last intervals are
settled and confirmations delivered), stops the agent (safe state), then gathers the KPIs: the
agent's bill from its ledger, the baseline and perfect foresight on the same tariff, the plant's
violations, and the checks (devices in limits, no transaction lost).
"""

from __future__ import annotations

import asyncio
import logging
import multiprocessing as mp
import sys
import time
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from agent.config import load_config
from agent.runtime.app import build, serve
from agent.runtime.telemetry import Poller
from hil.errors import HilError
from hil.sim.clock import HeldClock
from hil.sim.result import SimResult, assemble_result
from hil.sim.scenario import Scenario, ScenarioError
from hil.sim.worker import world_main

_log = logging.getLogger("hil.sim")

TAIL_S = 1800.0  # simulated seconds after the end: the last settlements and confirmations land
READY_TIMEOUT_S = 60.0
RESULTS_TIMEOUT_S = 60.0
SWITCH_INTERVAL_S = 0.0005
SHUTDOWN_TIMEOUT_S = 60.0


class SimulationError(HilError):
    """The closed loop could not run (the world or the agent failed to start or stop)."""


async def _recv(conn: Any, timeout_s: float) -> tuple[Any, ...]:
    ready = await asyncio.wait_for(asyncio.to_thread(conn.poll, timeout_s), timeout_s + 5.0)
    if not ready:
        raise SimulationError(f"the world process said nothing for {timeout_s:g} s")
    msg: tuple[Any, ...] = conn.recv()
    if msg[0] == "error":
        raise SimulationError(f"world: {msg[1]}")
    return msg


async def run_simulation(scenario: Scenario, directory: Path, *, broker: str = "auto") -> SimResult:
    if scenario.contract is not None:
        raise ScenarioError("simulate.contract", "a household contract runs on virtual time only (--fast)")
    wall0 = time.perf_counter()
    # The planner's worker thread holds the GIL for long stretches; by default the event loop waits
    # up to 5 ms for it after every socket operation, which at thousands of times real time ages
    # device readings by minutes. A shorter switch interval keeps the loop responsive.
    sys.setswitchinterval(SWITCH_INTERVAL_S)
    end = scenario.start + timedelta(days=scenario.days)
    ctx = mp.get_context("spawn")
    ours, theirs = ctx.Pipe()
    level = logging.getLogger().getEffectiveLevel()
    proc = ctx.Process(target=world_main, args=(theirs, scenario, directory, broker, level), daemon=True)
    proc.start()
    try:
        _, config_path = await _recv(ours, READY_TIMEOUT_S)
        config = load_config(Path(config_path))
        clock = HeldClock(scenario.start, scenario.speed)
        agent = await build(config, clock, cycle_s=scenario.cycle_s)
        # Poll once per cycle: the default (every few seconds of agent time) would poll hundreds of
        # times per wall second at this speed, and the Modbus reads alone would take a core. The
        # world gives every device a staleness limit of ten cycles (FAST_STALE_AFTER_S), so a late
        # round still leaves slack.
        agent.cycle.poller = Poller(agent.devices, clock, period_s=scenario.cycle_s)
        real0 = time.monotonic() + 0.05
        ours.send(("go", real0))
        clock.release(real0)
        jumps = [asyncio.create_task(_jump(clock, scenario.start, f.at_s, f.seconds)) for f in scenario.faults
                 if f.kind == "clock_jump"]  # fmt: skip
        stop = asyncio.Event()
        serving = asyncio.create_task(serve(agent, stop, extra={}))
        while clock.now() < end + timedelta(seconds=TAIL_S):
            if serving.done() or not proc.is_alive():
                raise SimulationError("the agent or the world stopped before the end")
            await asyncio.sleep(0.2)
        counters = {
            "plans": agent.cycle.planning.plans,
            "plan_failures": agent.cycle.planning.failures,
            "cycles": agent.state.timing.cycles,
            "mode": agent.state.mode,
            "counters": dict(agent.state.counters),
        }
        stop.set()
        try:
            await asyncio.wait_for(asyncio.shield(serving), SHUTDOWN_TIMEOUT_S)
        except TimeoutError:
            # The results come from the ledger on disk; a shutdown that hangs must not hang the run.
            _log.error("the agent did not shut down within %g s; going on without it", SHUTDOWN_TIMEOUT_S)
            serving.cancel()
        for j in jumps:
            j.cancel()
        ours.send(("stop",))
        _, world = await _recv(ours, RESULTS_TIMEOUT_S)
    finally:
        if proc.is_alive():
            proc.join(10.0)
        if proc.is_alive():
            proc.kill()
    return await asyncio.to_thread(assemble_result, scenario, config_path, world, counters, end, wall0=wall0)


async def _jump(clock: HeldClock, start: datetime, at_s: float, seconds: float) -> None:
    await clock.until(start + timedelta(seconds=at_s))
    clock.jump(seconds)
