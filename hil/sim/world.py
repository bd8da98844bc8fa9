"""The world around the agent: broker, rig (plant + emulated devices), retailer, faults, recorder.

::

    world = World(scenario, clock, directory)
    await world.start()                      # broker, rig servers and devices, retailer
    doc = world.agent_config(state_dir)      # the agent's config: the rig's devices + the retailer
    ...                                      # clock released; the agent runs against it
    world.start_faults()
    await world.stop()
    world.results()                          # what the plant did, the retailer's records, faults

Used by ``hems simulate`` (in its own process, see :mod:`hil.sim.worker`), ``hems demo`` and
``hems hil`` (rig alone, on the LAN).
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
from collections import Counter
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, Protocol, cast
from zoneinfo import ZoneInfo

from agent.market import codec
from agent.market.intervals import Duration
from hil.retailer import (
    BadTender,
    HomeTenderState,
    PricingRules,
    RetailerBook,
    RetailerSettings,
    RetailerSim,
)
from hil.rig import ModbusName, MqttName, Rig
from hil.rig_settings import LOOPBACK, RigSettings
from hil.sim.broker import make_broker
from hil.sim.clock import HeldClock
from hil.sim.recorder import Recorder
from hil.sim.scenario import Fault, Scenario, merge
from hil.sim.tariff import scenario_tariff

_log = logging.getLogger("hil.sim")

BROKER_NAME = "rig"
TOPIC_PREFIX = "tem/retailer"
SITE_ID = "hil-home"
METERING = Duration.PT15M
BROKER_DOWN_S = 1.0  # wall seconds a restarted broker stays down
# Staleness limit of every device value when the clock runs thousands of times real time: one
# poll round late by a tenth of a wall second is minutes of simulated time.
FAST_STALE_AFTER_S = 600.0


def rig_settings(
    scenario: Scenario, broker_host: str, broker_port: int, *, bind: str = LOOPBACK
) -> RigSettings:
    # Accelerated: the plant steps and the devices publish per simulated half-minute, so that the
    # rig's own work stays a small part of the CPU at thousands of times real time.
    fast = scenario.speed > 100
    return RigSettings(
        bind_host=bind,
        broker_host=broker_host,
        broker_port=broker_port,
        tick_s=30.0 if fast else 5.0,
        max_step_s=30.0 if fast else 10.0,
        publish_every_s=60.0 if fast else 10.0,
    )


# Of the gap between the retailer's best forward quotes (see World.agent_config).
INSTALLER_SPREAD_SHARE = 0.75


def installer_spread_per_kwh(rules: PricingRules) -> float:
    """The ``market.spot_spread_per_kwh`` the rig's agent config carries for the retailer's ``rules``."""
    return round(INSTALLER_SPREAD_SHARE * float(2 * rules.half_spread_per_kwh), 6)


class World:
    def __init__(
        self,
        scenario: Scenario,
        clock: HeldClock,
        directory: Path,
        *,
        bind: str = LOOPBACK,
        broker: str = "auto",
        retailer: bool = True,
        days: int = 14,
        advertise: str | None = None,
        gpio: bool = False,
    ) -> None:
        self.scenario = scenario
        self.clock = clock
        self.directory = directory
        directory.mkdir(parents=True, exist_ok=True)
        self.broker = make_broker(
            directory / "broker", host=bind if bind != "0.0.0.0" else LOOPBACK, prefer=broker
        )
        self.bind = bind
        self.with_retailer = retailer
        self.end = scenario.start + timedelta(days=scenario.days)
        self.rig: Rig | None = None
        self.retailer: RetailerSim | None = None
        self.recorder: Recorder | None = None
        self.faults_injected = 0
        self.fault_log: list[str] = []
        self._days = days
        self._advertise = advertise
        self._gpio = gpio
        self._tasks: list[asyncio.Task[None]] = []

    async def start(self) -> None:
        await self.broker.start()
        host = LOOPBACK if self.broker.host in ("0.0.0.0", "") else self.broker.host
        sc = self.scenario
        settings = rig_settings(sc, host, self.broker.port, bind=self.bind)
        settings = dataclasses.replace(
            settings, advertise_host=self._advertise, water_heater_link="gpio" if self._gpio else "mqtt"
        )
        self.rig = rig = Rig(sc.home, clock=self.clock, settings=settings, start=sc.start, days=self._days)
        self.recorder = Recorder(
            rig.plant, sc.home, start=sc.start, end=self.end, bin_s=METERING.nominal.total_seconds()
        )
        rig.on_step.append(self.recorder)
        await rig.start()
        if self.with_retailer:
            tariff = scenario_tariff(sc)
            rs = RetailerSettings(
                host=host,
                port=self.broker.port,
                home=SITE_ID,
                tz=ZoneInfo(sc.home.timezone),
                prefix=TOPIC_PREFIX,
                metering=METERING,
            )
            self.retailer = RetailerSim(rs, tariff.wholesale, self.clock, tariff.rules)
            await self.retailer.start()

    def agent_config(self, state_dir: Path) -> dict[str, Any]:
        assert self.rig is not None
        doc = self.rig.agent_config(state_dir=state_dir, broker_name=BROKER_NAME, site_id=SITE_ID)
        doc["metering_interval"] = METERING.value
        if self._advertise:
            doc["mqtt_brokers"][BROKER_NAME]["host"] = self._advertise
        if self.with_retailer:
            doc["retailer"] = {"broker": BROKER_NAME, "topic_prefix": TOPIC_PREFIX}
            # The retailer publishes its tariff (hil/retailer/pricing.py): spot settles at the mid
            # of its forward ladder, whose best quotes are a spread apart. An installer who reads
            # that sets the agent's spread a little under it, so that a quote no better than spot
            # is left to spot. The default (0.02) had the plan pay up to 0.008/kWh over spot for
            # forward energy; the gap itself made every quote a tie with spot, and the plan
            # bought at the ask and sold back at the bid each time a forecast moved (some
            # 0.3 EUR a week in either scenario). A scenario may set its own (demo.yaml does).
            assert self.retailer is not None
            doc["market"] = {"spot_spread_per_kwh": installer_spread_per_kwh(self.retailer.rules)}
        if self.scenario.speed > 100:
            # Ages are simulated seconds: a few ms of wall-clock jitter at thousands of times real
            # time are minutes, so pushed values may be older than a real home would allow.
            for dev in doc["devices"].values():
                if dev["driver"]["type"] in ("mqtt", "modbus_tcp"):
                    dev["driver"]["stale_after_s"] = FAST_STALE_AFTER_S
        return merge(doc, self.scenario.agent)

    def write_agent_config(self, path: Path, state_dir: Path) -> Path:
        import yaml

        header = f"# Written by hems for scenario {self.scenario.name!r}: the rig's devices and retailer.\n"
        path.write_text(
            header + yaml.safe_dump(self.agent_config(state_dir), sort_keys=False), encoding="utf-8"
        )
        return path

    # -- faults ---------------------------------------------------------------------------------

    def start_faults(self) -> None:
        for fault in self.scenario.faults:
            self._tasks.append(asyncio.create_task(self._fault(fault), name=f"fault-{fault.kind}"))

    async def _fault(self, f: Fault) -> None:
        await self.clock.until(self.scenario.start + timedelta(seconds=f.at_s))
        rig, retailer = self.rig, self.retailer
        assert rig is not None
        self.faults_injected += 1
        self.fault_log.append(f"{self.clock.now().isoformat()} {f.kind} {f.device or f.tender or ''}".strip())
        _log.warning("fault: %s %s", f.kind, f.device or f.tender or "")
        mb, mq = cast(ModbusName, f.device), cast(MqttName, f.device)
        if f.kind == "modbus_gone":
            await rig.modbus_gone(mb)
            await self.clock.sleep(f.duration_s)
            await rig.modbus_back(mb)
        elif f.kind == "modbus_garbage":
            rig.modbus_garbage(mb, True)
            await self.clock.sleep(f.duration_s)
            rig.modbus_garbage(mb, False)
        elif f.kind == "mqtt_silent":
            rig.mqtt_silent(mq, True)
            await self.clock.sleep(f.duration_s)
            rig.mqtt_silent(mq, False)
        elif f.kind == "mqtt_drop":
            await rig.mqtt_drop(mq)
            await self.clock.sleep(f.duration_s)
            await rig.mqtt_back(mq)
        elif f.kind == "broker_restart":
            await self.broker.stop()
            await asyncio.sleep(BROKER_DOWN_S)
            await self.broker.start()
        elif f.kind == "retailer_silent" and retailer is not None:
            retailer.silence(f.duration_s)
        elif f.kind == "bad_tender" and retailer is not None and f.tender is not None:
            with contextlib.suppress(Exception):  # the broker may be down; the fault still counts
                await retailer.publish_bad(BadTender(f.tender))
        elif f.kind == "clock_jump":
            self.clock.jump(f.seconds)

    async def stop(self) -> None:
        tasks, self._tasks = self._tasks, []
        for t in tasks:
            t.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        if self.retailer is not None:
            with contextlib.suppress(Exception):
                await self.retailer.flush(5.0)
            await self.retailer.stop()
        if self.rig is not None:
            await self.rig.stop()
        await self.broker.stop()

    # -- results --------------------------------------------------------------------------------

    def results(self) -> dict[str, Any]:
        assert self.recorder is not None
        return world_results(
            self.recorder,
            self.retailer,
            faults_injected=self.faults_injected,
            fault_log=self.fault_log,
            broker=self.broker.kind,
            start=self.scenario.start,
            end=self.end,
        )


class RetailerRecords(Protocol):
    """What the results read of a retailer simulator (on MQTT or on the in-process bus)."""

    book: RetailerBook
    sent: Counter[str]
    received: Counter[str]


def world_results(
    rec: Recorder,
    retailer: RetailerRecords | None,
    *,
    faults_injected: int,
    fault_log: list[str],
    broker: str,
    start: datetime,
    end: datetime,
    tenders_before: datetime | None = None,
) -> dict[str, Any]:
    """What the plant did, the faults, and the retailer's records: the same document in both modes.
    ``tenders_before``: count only the home's tenders for intervals before it (a part of a split
    run that another part follows)."""
    rec.finish()
    out: dict[str, Any] = {
        "bins": [b.to_json() for b in rec.bins],
        "comfort_violation_c_h": rec.comfort_c_h,
        "tank_violation_c_h": rec.tank_c_h,
        "ev_shortfall_kwh": rec.ev_shortfall_kwh(),
        "energy_balance_error_kwh": rec.energy_balance_error_kwh,
        "limit_violations": rec.limit_violations,
        "start_state": rec.start_state,  # the stores where the record begins
        "faults_injected": faults_injected,
        "fault_log": fault_log,
        "broker": broker,
    }
    if retailer is not None:
        book = retailer.book
        # The home's tenders for intervals from the start (a part of a split run counts none
        # of its warm-up's: the part before it does), and before ``tenders_before``.
        before = tenders_before
        ours = [
            i
            for i, t in book.home_tenders.items()
            if t.interval.start_utc >= start and (before is None or t.interval.start_utc < before)
        ]
        out["retailer"] = {
            "transactions": [codec.encode_transaction(t) for t in book.transactions.values()],
            "home_tenders": len(ours),
            "home_tenders_executed": sum(
                1 for i in ours if book.home_state.get(i) is HomeTenderState.EXECUTED
            ),
            "errors_received": len(book.errors_received),
            "errors_sent": len(book.errors_sent),
            "deliveries": len(book.deliveries),
            "sent": dict(retailer.sent),
            "received": dict(retailer.received),
            "bill": str(book.bill(start, end).total),
        }
    return out
