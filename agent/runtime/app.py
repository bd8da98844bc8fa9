"""``hems run``: build every part from the config, run them under the supervisor, stop cleanly.

Order of start: ledger → devices (links first) → retailer link → forecaster → planner →
dispatcher → control cycle (and the web server slot). Order of stop is the reverse, with the
dispatcher's safe state written before the devices are closed, so every output is left safe.
systemd hears READY after the first good cycle, WATCHDOG from completed cycles, STOPPING first.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field

from agent.clock import Clock
from agent.config import Config
from agent.dispatch import Dispatcher, DispatchSettings
from agent.forecast import Forecaster, build_forecaster
from agent.ledger import Ledger
from agent.link import RetailerLink, build_link
from agent.link.settings import HEARTBEAT_S
from agent.openadr import OpenAdrVen, build_ven, openadr_market
from agent.optimizer import Planner
from agent.optimizer.worker import PlannerProcess
from agent.planning import devices_from_config, planned_devices, planner_shape
from agent.runtime.cycle import DEFAULT_CYCLE_S, ControlCycle
from agent.runtime.energy_counters import EnergyCounters
from agent.runtime.plan_phase import PlanPhase
from agent.runtime.settings_store import SettingsStore
from agent.runtime.settler import Settler
from agent.runtime.state import AgentState
from agent.runtime.supervisor import Supervisor
from agent.runtime.telemetry import Poller, start_all
from agent.runtime.transact_phase import TransactPhase
from agent.systemd import Notifier, Watchdog
from agent.tariff import MarketPriceSource, TariffCounterparty
from agent.tariff.contract_book import ContractBook
from agent.trading import TradingRules
from drivers.assembly import add_brokers, build_devices
from drivers.base import Device, DeviceContext, LinkPool, stop_all
from drivers.mqtt.client import MqttClient
from drivers.mqtt.factory import broker_key
from drivers.registry import prepare_drivers

log = logging.getLogger(__name__)

# Devices are polled at least this often (seconds of the agent's clock), whatever the cycle period.
POLL_MAX_S = 5.0

# Extra long-running tasks (the web server) get the running agent and run under the supervisor.
ExtraTask = Callable[["RunningAgent"], Awaitable[None]]


@dataclass
class RunningAgent:
    config: Config
    clock: Clock
    ledger: Ledger
    devices: dict[str, Device]
    ctx: DeviceContext
    link: RetailerLink | None
    forecaster: Forecaster
    planner: Planner | PlannerProcess
    dispatcher: Dispatcher
    settler: Settler
    cycle: ControlCycle
    state: AgentState
    supervisor: Supervisor
    settings: SettingsStore
    energy: EnergyCounters
    first_cycle: asyncio.Event = field(default_factory=asyncio.Event)
    # The household's contract where market.source is a tariff (its tenders, for the plan and page).
    tariff: TariffCounterparty | None = None
    # The VEN of a utility's OpenADR price program, where the tariff stands on one.
    openadr: OpenAdrVen | None = None


def _mqtt_clients(config: Config, links: LinkPool) -> dict[str, MqttClient]:
    def missing() -> MqttClient:
        raise KeyError("broker not registered")  # add_brokers registered every configured one

    return {name: links.get_or_create(broker_key(name), MqttClient, missing) for name in config.mqtt_brokers}


async def build(
    config: Config,
    clock: Clock,
    *,
    ctx: DeviceContext | None = None,
    cycle_s: float = DEFAULT_CYCLE_S,
    devices: Mapping[str, Device] | None = None,
    mqtt_clients: Mapping[str, MqttClient] | None = None,
    link_client: MqttClient | None = None,
    planner: Planner | PlannerProcess | None = None,
    market_prices: MarketPriceSource | None = None,
    link_heartbeat_s: float = HEARTBEAT_S,
) -> RunningAgent:
    """Every part, built and started but for the supervised tasks (see :func:`serve`).

    A simulation on virtual time hands in what the field would provide: ``devices`` at the
    capability level (instead of the configured drivers), ``mqtt_clients`` and ``link_client``
    on its in-process bus (instead of connections to the configured brokers) and a ``planner``
    in this process (instead of the planner's child process), under a dynamic tariff
    ``market_prices`` (recorded day-ahead prices instead of the price service's HTTP client),
    and may space the link's heartbeats (``link_heartbeat_s``) further apart than the field's.
    Everything else is built as here.
    """
    config.state_dir.mkdir(parents=True, exist_ok=True)
    ledger = await asyncio.to_thread(
        Ledger.open, config.state_dir, config.zone, home_party=config.party_id, clock=clock
    )
    ctx = ctx or DeviceContext(clock)
    if devices is None:
        add_brokers(config, ctx)
        prepare_drivers(config, ctx)
        devices = build_devices(config, ctx)
    devices = dict(devices)
    clients = dict(mqtt_clients) if mqtt_clients is not None else _mqtt_clients(config, ctx.links)
    for client in clients.values():
        await client.start()
    await start_all(devices)
    link = (
        build_link(config, ledger, clock, client=link_client, heartbeat_s=link_heartbeat_s)
        if config.retailer is not None
        else None
    )
    if link is not None:
        await link.start()
    # market.source: tariff — the contract is the counterparty; the config allows no retailer link then.
    openadr = _openadr_ven(config, clock, devices)
    tariff = (
        TariffCounterparty(config, openadr.book if openadr is not None else market_prices, clock=clock)
        if config.market.tariff is not None
        else None
    )
    forecaster = build_forecaster(config, clock, mqtt_clients=clients)
    await forecaster.start()
    planner_devices = devices_from_config(config)
    if planner is None:
        planner = PlannerProcess(planner_devices, *planner_shape(config))
    dispatcher = Dispatcher(config, devices, clock, DispatchSettings(cycle_s=cycle_s))
    settler = Settler(
        ledger,
        meter=config.meter_name,
        party=config.party_id,
        metering=config.metering_interval,
        clock=clock,
        send_delivery=link.send_delivery if link is not None else None,
        contract=_contract_book(config, ledger, tariff),
    )
    state = AgentState(config.site.id, config.party_id, config.site.currency, clock.now())
    settings = SettingsStore(config.state_dir)
    state.overrides = settings.load(clock.now())
    energy = EnergyCounters(config.state_dir)
    energy.load()
    planning = PlanPhase(
        config=config,
        clock=clock,
        planner=planner,
        devices=planner_devices,
        forecaster=forecaster,
        ledger=ledger,
        link=link,
        tariff=tariff,
    )
    transact = TransactPhase(link, TradingRules.from_config(config)) if link is not None else None
    supervisor = Supervisor(clock)
    poller = Poller(devices, clock, period_s=min(cycle_s, POLL_MAX_S))
    cycle = ControlCycle(
        config=config,
        clock=clock,
        devices=devices,
        dispatcher=dispatcher,
        planning=planning,
        transact=transact,
        settler=settler,
        forecaster=forecaster,
        poller=poller,
        state=state,
        roles=planned_devices(config),
        cycle_s=cycle_s,
        energy=energy,
    )
    cycle.watch_overrides(lambda: settings.save_soon(state.overrides))
    return RunningAgent(
        config,
        clock,
        ledger,
        devices,
        ctx,
        link,
        forecaster,
        planner,
        dispatcher,
        settler,
        cycle,
        state,
        supervisor,
        settings,
        energy,
        tariff=tariff,
        openadr=openadr,
    )


def _openadr_ven(config: Config, clock: Clock, devices: Mapping[str, Device]) -> OpenAdrVen | None:
    """The program's VEN, reporting the meter's grid power when the VTN asks for it."""
    market = openadr_market(config)
    if market is None:
        return None
    meter = devices.get(config.meter_name)
    energy_meter = meter.capabilities.energy_meter if meter is not None else None
    usage = energy_meter.power_w if energy_meter is not None else None
    return build_ven(config, market, clock, usage_w=usage)


def _contract_book(config: Config, ledger: Ledger, tariff: TariffCounterparty | None) -> ContractBook | None:
    """Under a tariff the settler bills each closed interval by the contract (no retailer spot)."""
    if tariff is None or config.market.tariff is None:
        return None
    return ContractBook(
        ledger,
        tariff,
        config.market.tariff,
        party=config.party_id,
        meter=config.meter_name,
        currency=config.site.currency,
    )


async def shutdown(agent: RunningAgent) -> None:
    """Safe states first, then close everything; each step bounded, none skipped for another's failure."""
    agent.state.mode = "stopping"
    await agent.supervisor.stop()
    with contextlib.suppress(Exception):
        report = await asyncio.wait_for(agent.dispatcher.safe_stop(), 15.0)
        log.info("outputs in safe state: %s", ", ".join(sorted(report.devices)) or "none")
    with contextlib.suppress(Exception):
        await agent.settings.flush()  # bounded: 5 s
    with contextlib.suppress(Exception):
        await agent.energy.save(agent.clock.monotonic_s())  # bounded: 10 s
    await stop_all(list(agent.devices.values()))
    await agent.forecaster.stop()
    if isinstance(agent.planner, PlannerProcess):
        with contextlib.suppress(Exception):
            await asyncio.wait_for(agent.planner.close(), 10.0)
    if agent.link is not None:
        with contextlib.suppress(Exception):
            await agent.link.stop()
    if agent.openadr is not None:
        await agent.openadr.close()  # bounded, never raises
        with contextlib.suppress(Exception):
            await asyncio.wait_for(agent.openadr.book.save(), 10.0)
    await agent.ctx.links.close_all()
    await asyncio.to_thread(agent.ledger.close)


async def serve(
    agent: RunningAgent,
    stop: asyncio.Event,
    *,
    notifier: Notifier | None = None,
    extra: dict[str, ExtraTask] | None = None,
) -> None:
    """Run the supervised tasks until ``stop`` is set, then shut down."""
    notifier = notifier or Notifier.from_environment()
    watchdog = Watchdog(notifier)

    def on_cycle() -> None:
        if not agent.first_cycle.is_set():
            agent.first_cycle.set()
            notifier.ready(f"cycling every {agent.cycle.cycle_s:g} s")
        watchdog.beat()
        agent.state.tasks = agent.supervisor.status()

    agent.cycle._on_cycle = on_cycle
    agent.supervisor.add("poller", agent.cycle.poller.run)
    agent.supervisor.add("cycle", agent.cycle.run)
    if watchdog.enabled:
        agent.supervisor.add("watchdog", watchdog.run)
    if agent.openadr is not None:
        agent.supervisor.add("openadr", agent.openadr.run)
    for name, task in (extra or {}).items():
        agent.supervisor.add(name, lambda task=task: task(agent))  # type: ignore[misc]
    agent.supervisor.start()
    try:
        await stop.wait()
    finally:
        notifier.stopping("putting outputs in their safe state")
        await shutdown(agent)
