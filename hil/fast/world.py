"""The simulated world of a virtual-time run: plant, devices, weather, retailer and bus, in process.

::

    world = FastWorld(scenario, clock, directory)
    await world.start()                 # the plant's update task, the weather service
    path = world.write_agent_config(directory / "hems.yaml", directory / "state")
    devices = world.make_devices(config, clock)
    ...                                 # the agent is built with them and clients on world.bus
    await world.start_market()          # the retailer
    world.start_faults()
    await world.stop()
    world.results()                     # the same record as the real-protocol world's

The home is the rig's (:class:`~hil.rig.Rig`: plant, device emulators, the same agent config),
without its servers: the plant is advanced every ``tick_s`` of the virtual clock in steps of at
most ``max_step_s`` (the accelerated rig's 30 s), and the agent reaches the devices through
:mod:`hil.fast.devices`. Faults fire on simulated time:

* ``modbus_gone`` / ``modbus_garbage``: the meter, or the inverter's PV and battery, refuse or
  garble every refresh (and writes to a gone device fail) for the duration;
* ``mqtt_silent`` / ``mqtt_drop``: the device's readings stop (they go stale at the agent); a
  dropped device also refuses writes; for ``weather`` the forecast stops being published;
* ``broker_restart``: the bus is down for the fault's duration, or :data:`BROKER_DOWN_S` when it
  has none (a broker restarts in about a second and paho reconnects within its first backoff);
* ``retailer_silent``, ``bad_tender`` (the fault payloads of :mod:`hil.retailer.faults`, through
  the agent's codec), ``clock_jump`` (the one clock of the run moves forward).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import yaml

from agent.clock import Clock
from agent.config import Config
from drivers.assembly import device_limits
from hil.emulators.mqtt_base import as_payload
from hil.emulators.weather import ForecastErrors
from hil.errors import HilError
from hil.fast.bus import Bus
from hil.fast.clock import VirtualClock
from hil.fast.devices import STALE_AFTER_POLLS, FastDevice, FaultState
from hil.fast.readings import Role
from hil.fast.retailer import FastRetailer
from hil.retailer import BadTender, RetailerSettings
from hil.rig import Rig
from hil.rig_settings import LOOPBACK, RigSettings
from hil.sim.recorder import Recorder
from hil.sim.scenario import Fault, Scenario, merge
from hil.sim.tariff import scenario_tariff
from hil.sim.world import (
    BROKER_NAME,
    METERING,
    SITE_ID,
    TOPIC_PREFIX,
    installer_spread_per_kwh,
    world_results,
)

_log = logging.getLogger("hil.fast")

BROKER_DOWN_S = 10.0
# The accelerated rig's cadence (hil.sim.world.rig_settings), so both modes integrate alike.
TICK_S = 30.0
MAX_STEP_S = 30.0
# Placeholders: the generated config names the rig's endpoints, which nothing serves here.
UNSERVED_PORT = 9
MODBUS_DEVICES = {"meter": ("grid",), "inverter": ("pv", "battery")}
MQTT_DEVICES = {"thermostat": "thermostat", "water_heater": "water_heater", "ev_charger": "ev"}


class FastWorld:
    def __init__(
        self,
        scenario: Scenario,
        clock: VirtualClock,
        directory: Path,
        *,
        measure_from: datetime | None = None,
        followed_at: datetime | None = None,
    ) -> None:
        """``measure_from``: where the plant's record and the retailer's bill begin (default: the
        start; later for a part of a split run, whose first days warm the agent up);
        ``followed_at``: where the next part of a split run takes over (its tenders are its own)."""
        self.scenario = sc = scenario
        self.measure_from = sc.start if measure_from is None else measure_from
        self.followed_at = followed_at
        self.clock = clock
        self.directory = directory
        directory.mkdir(parents=True, exist_ok=True)
        self.end = sc.start + timedelta(days=sc.days)
        self.bus = Bus()
        settings = RigSettings(
            meter_port=UNSERVED_PORT, inverter_port=UNSERVED_PORT, broker_host=LOOPBACK,
            broker_port=UNSERVED_PORT, tick_s=TICK_S, max_step_s=MAX_STEP_S,
        )  # fmt: skip
        self.rig = rig = Rig(sc.home, clock=clock, settings=settings, start=sc.start, days=int(sc.days) + 2)
        rig.weather.errors = ForecastErrors(seed=sc.seed)
        self.recorder = Recorder(
            rig.plant, sc.home, start=sc.start, end=self.end, bin_s=METERING.nominal.total_seconds(),
            measure_from=self.measure_from,
        )  # fmt: skip
        rig.on_step.append(self.recorder)
        # Under a household contract there is no retailer: the agent runs as a gateway does.
        self._retailer: FastRetailer | None = None
        if sc.contract is None:
            tariff = scenario_tariff(sc)
            rs = RetailerSettings(
                host=LOOPBACK, port=UNSERVED_PORT, home=SITE_ID, tz=ZoneInfo(sc.home.timezone),
                prefix=TOPIC_PREFIX, metering=METERING,
            )  # fmt: skip
            self._retailer = FastRetailer(rs, tariff.wholesale, clock, tariff.rules, self.bus)
        self.weather_client = self.bus.client("weather service")
        self.weather_quiet = False
        self.devices: dict[str, FastDevice] = {}
        self.faults_injected = 0
        self.fault_log: list[str] = []
        self.steps = 0
        self._tasks: list[asyncio.Task[None]] = []

    @property
    def retailer(self) -> FastRetailer:
        """The retailer simulator (a run under a household contract has none)."""
        if self._retailer is None:
            raise HilError("a run under a household contract has no retailer")
        return self._retailer

    # -- lifecycle ------------------------------------------------------------------------------

    async def start(self) -> None:
        """The plant and the weather service (the forecast is retained: a late subscriber has it)."""
        self.rig.advance(images=False)
        await self.weather_client.start()
        await self._publish_weather()
        self._tasks.append(asyncio.create_task(self._plant_loop(), name="fast-plant"))
        self._tasks.append(asyncio.create_task(self._weather_loop(), name="fast-weather"))

    async def start_market(self) -> None:
        """The retailer, once the agent's link has subscribed: its first round (a day of ladders)
        is not retained, and on MQTT a link that subscribed later would never see it."""
        if self._retailer is not None:
            await self._retailer.start()

    async def _plant_loop(self) -> None:
        while True:
            await self.clock.sleep(TICK_S)
            self.steps += len(self.rig.advance(images=False))

    async def _publish_weather(self) -> None:
        if self.weather_quiet:
            return
        for topic, payload in self.rig.weather.state_messages().items():
            with contextlib.suppress(Exception):  # the bus may be down; the next period sends again
                await self.weather_client.publish(topic, as_payload(payload), qos=1, retain=True)

    async def _weather_loop(self) -> None:
        while True:
            await self.clock.sleep(self.rig.weather.period_s)
            await self._publish_weather()

    async def stop(self) -> None:
        tasks, self._tasks = self._tasks, []
        for t in tasks:
            t.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        if self._retailer is not None:
            await self._retailer.stop()
        await self.weather_client.close()

    # -- the agent's side -----------------------------------------------------------------------

    def agent_config(self, state_dir: Path) -> dict[str, Any]:
        """The real-protocol world's agent config (hil.sim.world.World.agent_config), unchanged; under
        a contract its ``market`` section and currency, and no retailer link."""
        doc = self.rig.agent_config(state_dir=state_dir, broker_name=BROKER_NAME, site_id=SITE_ID)
        doc["metering_interval"] = METERING.value
        contract = self.scenario.contract
        if self._retailer is not None:
            doc["retailer"] = {"broker": BROKER_NAME, "topic_prefix": TOPIC_PREFIX}
            doc["market"] = {"spot_spread_per_kwh": installer_spread_per_kwh(self._retailer.rules)}
        elif contract is not None:
            doc["market"] = dict(contract.market)
            doc["site"]["currency"] = contract.currency
        return merge(doc, self.scenario.agent)

    def write_agent_config(self, path: Path, state_dir: Path) -> Path:
        header = f"# Written by hems for scenario {self.scenario.name!r} (virtual-time run).\n"
        path.write_text(
            header + yaml.safe_dump(self.agent_config(state_dir), sort_keys=False), encoding="utf-8"
        )
        return path

    def make_devices(self, config: Config, clock: Clock) -> dict[str, FastDevice]:
        """One capability-level device per configured device, by role, with its configured limits."""
        for name, dev in config.devices.items():
            role: Role = dev.role
            self.devices[name] = FastDevice(
                name, role, self.rig, device_limits(dev), clock,
                stale_after_s=STALE_AFTER_POLLS * self.scenario.cycle_s,
            )  # fmt: skip
        return self.devices

    # -- faults ---------------------------------------------------------------------------------

    def start_faults(self) -> None:
        for fault in self.scenario.faults:
            self._tasks.append(asyncio.create_task(self._fault(fault), name=f"fault-{fault.kind}"))

    def _set(self, names: tuple[str, ...], state: FaultState | None) -> None:
        for name in names:
            if name in self.devices:
                self.devices[name].fault = state

    async def _fault(self, f: Fault) -> None:
        await self.clock.until(self.scenario.start + timedelta(seconds=f.at_s))
        self.faults_injected += 1
        self.fault_log.append(f"{self.clock.now().isoformat()} {f.kind} {f.device or f.tender or ''}".strip())
        _log.warning("fault: %s %s", f.kind, f.device or f.tender or "")
        if f.kind in ("modbus_gone", "modbus_garbage"):
            names = MODBUS_DEVICES[f.device or ""]
            self._set(names, "gone" if f.kind == "modbus_gone" else "garbage")
            await self.clock.sleep(f.duration_s)
            self._set(names, None)
        elif f.kind in ("mqtt_silent", "mqtt_drop"):
            if f.device == "weather":
                self.weather_quiet = True
                await self.clock.sleep(f.duration_s)
                self.weather_quiet = False
                await self._publish_weather()
                return
            names = (MQTT_DEVICES[f.device or ""],)
            self._set(names, "silent" if f.kind == "mqtt_silent" else "gone")
            await self.clock.sleep(f.duration_s)
            self._set(names, None)
        elif f.kind == "broker_restart":
            self.bus.down()
            await self.clock.sleep(f.duration_s or BROKER_DOWN_S)
            self.bus.up()
        elif f.kind == "retailer_silent" and self._retailer is not None:
            self._retailer.silence(f.duration_s)
        elif f.kind == "bad_tender" and f.tender is not None and self._retailer is not None:
            with contextlib.suppress(Exception):  # the bus may be down; the fault still counts
                await self._retailer.publish_bad(BadTender(f.tender))
        elif f.kind == "clock_jump":
            self.clock.jump(f.seconds)

    # -- results --------------------------------------------------------------------------------

    def results(self) -> dict[str, Any]:
        return world_results(
            self.recorder,
            self._retailer,
            faults_injected=self.faults_injected,
            fault_log=self.fault_log,
            broker="in-process bus",
            start=self.measure_from,
            end=self.end,
            tenders_before=self.followed_at,
        )
