"""A virtual-time run: the real agent and the simulated world in one process on one virtual clock.

:func:`run_fast` builds the world (:mod:`hil.fast.world`), writes the agent config the
real-protocol run would use, builds the agent from it with ``agent.runtime.app.build`` — its
forecaster, planner (here in process), trading, retailer link (its book, outbox and SQLite
store, on the in-process bus), dispatcher with its safe rules and read-back, settler and ledger
on disk in ``directory``; under a household contract (``simulate.contract``) no retailer
link, and a dynamic tariff's prices from the recorded series, published day-ahead — and serves
it with ``serve`` until the scenario's end plus the same tail as the real-protocol run, then
gathers the same KPIs (:func:`hil.sim.loop.assemble_result`).

Everything runs on :mod:`hil.fast.vloop`: no wall-clock sleep anywhere, and the same scenario and
seed give the same run, event for event. A run of ``PARALLEL_REFERENCES_DAYS`` or more works out
the baseline and the perfect-foresight reference (:func:`hil.sim.loop.references`) in a second
process while the agent runs (they need only the scenario and the agent's config), so a machine
with two cores finishes sooner; the figures are the same either way.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import multiprocessing as mp
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

from agent.config import load_config
from agent.optimizer import Plan, Planner
from agent.planning import devices_from_config, planner_shape
from agent.runtime.app import RunningAgent, build, serve
from agent.runtime.telemetry import Poller
from agent.systemd import Notifier
from hil.fast.clock import VirtualClock
from hil.fast.contract import feed_program, recorded_market_prices
from hil.fast.vloop import run_virtual
from hil.fast.world import FastWorld
from hil.sim.loop import TAIL_S, SimResult, assemble_result, references
from hil.sim.program import contract_market
from hil.sim.scenario import Scenario
from hil.sim.world import BROKER_NAME

SHUTDOWN_TIMEOUT_S = 60.0  # virtual seconds
# Shorter runs work out their references in this process: starting another costs more.
PARALLEL_REFERENCES_DAYS = 2.0
# The link's heartbeat tells the retailer the home is alive and how its link fares; the
# simulated retailer only counts them. Every 30 s (the field's) it was a twentieth of a run.
HEARTBEAT_S = 900.0  # virtual seconds

# Called once per cycle period with the running agent and the world (tests watch the run with it).
Probe = Callable[[RunningAgent, FastWorld], None]


@dataclass(frozen=True)
class FastStats:
    """What the run cost (wall time lives here, never in the KPIs)."""

    wall_s: float
    plant_steps: int
    messages: int
    plan_ms: tuple[float, ...]  # wall time of each plan (solve, bid curves and checks)


class TimedPlanner(Planner):
    """The agent's planner, unchanged, with the wall time of each plan noted for the report."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.plan_ms: list[float] = []

    def plan(self, *args: Any, **kwargs: Any) -> Plan:
        t0 = time.perf_counter()
        try:
            return super().plan(*args, **kwargs)
        finally:
            self.plan_ms.append((time.perf_counter() - t0) * 1000.0)


async def _watch(probe: Probe, agent: RunningAgent, world: FastWorld, period_s: float) -> None:
    while True:
        probe(agent, world)
        await asyncio.sleep(period_s)


async def _run(
    scenario: Scenario, directory: Path, probe: Probe | None, pool: concurrent.futures.Executor | None
) -> tuple[SimResult, FastStats]:
    wall0 = time.perf_counter()
    loop = asyncio.get_running_loop()
    clock = VirtualClock(scenario.start, loop)
    end = scenario.start + timedelta(days=scenario.days)
    world = FastWorld(scenario, clock, directory)
    await world.start()
    config_path = world.write_agent_config(directory / "hems.yaml", directory / "state")
    refs = pool.submit(references, scenario, str(config_path)) if pool is not None else None
    config = load_config(config_path)
    # One plan per metering interval for the retailer's burst of publications around it: a third
    # of the plans of re-planning at every tender change.
    config = config.model_copy(
        update={"planner": config.planner.model_copy(update={"tenders_replan": "per_interval"})}
    )
    devices = world.make_devices(config, clock)
    planner = TimedPlanner(devices_from_config(config), *planner_shape(config))
    contract = scenario.contract is not None
    agent = await build(
        config,
        clock,
        cycle_s=scenario.cycle_s,
        devices=devices,
        mqtt_clients={BROKER_NAME: world.bus.client("agent devices").as_mqtt()},
        # Under a contract the config has no retailer link: nothing to connect.
        link_client=None if contract else world.bus.client("retailer link", persistent=True).as_mqtt(),
        planner=planner,
        market_prices=recorded_market_prices(scenario, config, clock) if contract else None,
        link_heartbeat_s=HEARTBEAT_S,
    )
    program_events = contract_market(scenario, config.zone)[1] if contract else []
    feeding = None
    if agent.openadr is not None:
        # No VTN here: the VEN is not run (it would register over HTTP); its events come from
        # the scenario's program through the VEN's own handler.
        feeding = asyncio.create_task(feed_program(agent.openadr, program_events, clock))
        agent.openadr = None
    # As in the real-protocol run: one poll round per cycle.
    agent.cycle.poller = Poller(agent.devices, clock, period_s=scenario.cycle_s)
    await world.start_market()
    world.start_faults()
    stop = asyncio.Event()
    serving = asyncio.create_task(serve(agent, stop, notifier=Notifier(None), extra={}))
    watching = None
    if probe is not None:
        watching = asyncio.create_task(_watch(probe, agent, world, scenario.cycle_s))
    await clock.until(end + timedelta(seconds=TAIL_S))
    if watching is not None:
        watching.cancel()
    if feeding is not None:
        feeding.cancel()
    counters = {
        "plans": agent.cycle.planning.plans,
        "plan_failures": agent.cycle.planning.failures,
        "cycles": agent.state.timing.cycles,
        "mode": agent.state.mode,
        "counters": dict(agent.state.counters),
    }
    stop.set()
    await asyncio.wait_for(serving, SHUTDOWN_TIMEOUT_S)
    await world.stop()
    results = world.results()
    result = assemble_result(
        scenario,
        str(config_path),
        results,
        counters,
        end,
        wall0=wall0,
        refs=refs.result() if refs is not None else None,  # the agent is done: nothing else to run
    )
    stats = FastStats(time.perf_counter() - wall0, world.steps, world.bus.published, tuple(planner.plan_ms))
    return result, stats


def run_fast(
    scenario: Scenario, directory: Path, *, probe: Probe | None = None
) -> tuple[SimResult, FastStats]:
    """Run ``scenario`` on virtual time (blocking; call it outside any running event loop)."""
    if scenario.days < PARALLEL_REFERENCES_DAYS:
        return run_virtual(_run(scenario, directory, probe, None))
    with concurrent.futures.ProcessPoolExecutor(1, mp_context=mp.get_context("spawn")) as pool:
        return run_virtual(_run(scenario, directory, probe, pool))
