"""A virtual-time run: the real agent and the simulated world in one process on one virtual clock.

:func:`run_fast` builds the world (:mod:`hil.fast.world`), writes the agent config the
real-protocol run would use, builds the agent from it with ``agent.runtime.app.build`` — its
forecaster, planner (here in process), trading, retailer link (its book, outbox and SQLite
store, on the in-process bus), dispatcher with its safe rules and read-back, settler and ledger
on disk in ``directory``; under a household contract (``simulate.contract``) no retailer
link, and a dynamic tariff's prices from the recorded series, published day-ahead — and serves
it with ``serve`` until the scenario's end plus the same tail as the real-protocol run, then
gathers the same KPIs (:func:`hil.sim.result.assemble_result`). ``oracles`` swaps some of the
agent's forecasts for the plant's truth once it is built (:mod:`hil.fast.oracle`).

Everything runs on :mod:`hil.fast.vloop`: no wall-clock sleep anywhere, and the same scenario and
seed give the same run, event for event. A run of ``PARALLEL_REFERENCES_DAYS`` or more works out
the baseline and the perfect-foresight reference (:func:`hil.sim.result.references`) in a second
process while the agent runs (they need only the scenario and the agent's config), so a machine
with two cores finishes sooner; the figures are the same either way.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import multiprocessing as mp
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
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
from hil.fast.oracle import install_oracles, parse_oracles
from hil.fast.vloop import run_virtual
from hil.fast.world import FastWorld
from hil.sim.loop import TAIL_S
from hil.sim.program import contract_market
from hil.sim.result import AgentSide, References, SimResult, agent_side, assemble_result, references
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


@dataclass(frozen=True)
class RunRecord:
    """What one virtual-time run leaves for its KPIs (picklable: a part of a split run hands it
    to the process that joins the parts)."""

    world: dict[str, Any]
    counters: dict[str, Any]
    config_path: str
    stats: FastStats


def _counters(agent: RunningAgent) -> dict[str, Any]:
    return {
        "plans": agent.cycle.planning.plans,
        "plan_failures": agent.cycle.planning.failures,
        "cycles": agent.state.timing.cycles,
        "mode": agent.state.mode,
        "counters": dict(agent.state.counters),
    }


def _since(now: dict[str, Any], then: dict[str, Any] | None) -> dict[str, Any]:
    """The counters gathered since ``then`` (None: since the start)."""
    if then is None:
        return now
    out = dict(now)
    for key in ("plans", "plan_failures", "cycles"):
        out[key] = now[key] - then[key]
    out["counters"] = {k: v - then["counters"].get(k, 0) for k, v in now["counters"].items()}
    return out


async def _simulate(
    scenario: Scenario,
    directory: Path,
    probe: Probe | None,
    *,
    measure_from: datetime | None = None,
    followed_at: datetime | None = None,
    on_config: Callable[[Path], None] | None = None,
    oracles: Sequence[str] = (),
) -> RunRecord:
    wall0 = time.perf_counter()
    loop = asyncio.get_running_loop()
    clock = VirtualClock(scenario.start, loop)
    end = scenario.start + timedelta(days=scenario.days)
    world = FastWorld(scenario, clock, directory, measure_from=measure_from, followed_at=followed_at)
    await world.start()
    config_path = world.write_agent_config(directory / "hems.yaml", directory / "state")
    if on_config is not None:
        on_config(config_path)
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
    install_oracles(agent.forecaster, world.rig.plant, oracles)
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
    at_measure: dict[str, Any] | None = None
    if measure_from is not None and measure_from > scenario.start:
        # The warm-up's plans and cycles are not the measured window's.
        await clock.until(measure_from)
        at_measure = _counters(agent)
    await clock.until(end + timedelta(seconds=TAIL_S))
    if watching is not None:
        watching.cancel()
    if feeding is not None:
        feeding.cancel()
    counters = _since(_counters(agent), at_measure)
    stop.set()
    await asyncio.wait_for(serving, SHUTDOWN_TIMEOUT_S)
    await world.stop()
    stats = FastStats(time.perf_counter() - wall0, world.steps, world.bus.published, tuple(planner.plan_ms))
    return RunRecord(world.results(), counters, str(config_path), stats)


def run_fast(
    scenario: Scenario, directory: Path, *, probe: Probe | None = None, oracles: Sequence[str] = ()
) -> tuple[SimResult, FastStats]:
    """Run ``scenario`` on virtual time (blocking; call it outside any running event loop).

    ``oracles``: the forecast quantities the agent is given the truth of (:mod:`hil.fast.oracle`).
    """
    wall0 = time.perf_counter()
    oracles = parse_oracles(oracles)  # a bad name before anything runs
    if scenario.days < PARALLEL_REFERENCES_DAYS:
        record = run_virtual(_simulate(scenario, directory, probe, oracles=oracles))
        refs = None
    else:
        with concurrent.futures.ProcessPoolExecutor(1, mp_context=mp.get_context("spawn")) as pool:
            pending: list[concurrent.futures.Future[References]] = []

            def submit(config_path: Path) -> None:
                pending.append(pool.submit(references, scenario, str(config_path)))

            record = run_virtual(_simulate(scenario, directory, probe, on_config=submit, oracles=oracles))
            refs = pending[0].result()  # the agent is done: nothing else to run
    end = scenario.start + timedelta(days=scenario.days)
    result = assemble_result(
        scenario, record.config_path, record.world, record.counters, end, wall0=wall0, refs=refs
    )
    return result, record.stats


def run_part(
    scenario: Scenario, directory: Path, measure_from: datetime, followed_at: datetime | None
) -> tuple[RunRecord, AgentSide]:
    """One part of a split run (:mod:`hil.fast.split`): ``scenario`` from its warm-up's start,
    measured from ``measure_from`` to where the next part takes over (``followed_at``)."""
    record = run_virtual(
        _simulate(scenario, directory, None, measure_from=measure_from, followed_at=followed_at)
    )
    config = load_config(Path(record.config_path))
    end = scenario.start + timedelta(days=scenario.days)
    return record, agent_side(scenario, config, record.world, measure_from, end, followed_at=followed_at)


def references_for(scenario: Scenario, directory: Path) -> tuple[str, References]:
    """The references of ``scenario``, and the agent config a run of it writes (in ``directory``)."""

    async def write() -> Path:
        world = FastWorld(scenario, VirtualClock(scenario.start, asyncio.get_running_loop()), directory)
        return world.write_agent_config(directory / "hems.yaml", directory / "state")

    path = str(run_virtual(write()))
    return path, references(scenario, path)
