"""A whole agent for the web tests: the simulated home, a real Mosquitto, a scripted retailer.

The agent (``build`` + ``serve`` with the web task, exactly as ``hems run`` wires it) runs on its
own event loop in a thread, so the tests can be plain functions that drive a browser or an HTTP
client against it. The retailer publishes a day of hourly tenders priced from the real
day-ahead prices in scenarios/data, spot prices, and confirms a few trades, so every part of the page
has something true to show.
"""

from __future__ import annotations

import asyncio
import csv
import threading
import time
from collections.abc import Callable, Coroutine
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any, TypeVar

import yaml

from agent.clock import ScaledClock
from agent.config import load_config
from agent.link.topics import Topics
from agent.market import codec
from agent.market.intervals import Duration, containing
from agent.market.records import Product, Side, SpotPrice, Tender, Transaction
from agent.runtime.app import RunningAgent, build, serve
from agent.web import web_task
from tests.link.retailer import ScriptedRetailer
from tests.support.mosquitto import MosquittoBroker, free_port

T = TypeVar("T")
ROOT = Path(__file__).parents[2]
PRICES = ROOT / "scenarios" / "data" / "prices_de_2015.csv"
# A June morning: PV rising, the EV plugged in later, the tank cooling.
START = datetime(2026, 6, 15, 6, 0, tzinfo=UTC)
HOME, RETAILER = "home-1", "retailer"
PREFIX = "tem/retailer"
SPEED = 20.0  # a 10 s cycle every half second of wall time: live updates arrive quickly
CYCLE_S = 10.0
READY_TIMEOUT_S = 90.0  # the first plan compiles the QP (several seconds on a loaded CI box)


def config_doc(state_dir: Path, broker_port: int, web_port: int) -> dict[str, Any]:
    sim = {"type": "simulated"}
    return {
        "site": {"id": HOME, "timezone": "Europe/Berlin", "latitude": 52.5, "longitude": 13.4},
        "state_dir": str(state_dir),
        "metering_interval": "PT15M",
        "mqtt_brokers": {"local": {"host": "127.0.0.1", "port": broker_port, "keepalive_s": 10}},
        "retailer": {"broker": "local", "topic_prefix": PREFIX},
        "devices": {
            "grid": {"role": "meter", "driver": sim},
            "pv": {"role": "pv_inverter", "peak_kw": 6, "curtailable": True, "driver": sim},
            "battery": {
                "role": "battery", "capacity_kwh": 10, "charge_max_kw": 5, "discharge_max_kw": 5,
                "driver": sim,
            },
            "ev": {
                "role": "ev_charger", "max_kw": 7.4, "phases": 1, "voltage_v": 230, "battery_kwh": 50,
                "driver": sim,
            },
            "thermostat": {
                "role": "thermostat", "cop": 3.5, "electric_max_kw": 2,
                "house": {"r_k_per_kw": 8, "c_kwh_per_k": 5}, "driver": sim,
            },
            "water_heater": {"role": "water_heater", "tank_l": 150, "element_kw": 2, "driver": sim},
        },
        "web": {
            "port": web_port,
            "flat_tariff_per_kwh": "0.32",
            "home_assistant": {"broker": "local", "publish_every_s": 3600},
        },
    }  # fmt: skip


def day_ahead_eur_per_kwh() -> list[Decimal]:
    with PRICES.open() as f:
        # the shipped June week (2015-06-15..21)
        week = [r for r in csv.DictReader(f) if "2015-06-15" <= r["time"][:10] <= "2015-06-21"]
        return [Decimal(row["price_eur_per_mwh"]) / 1000 for row in week]


class WebHome:
    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.broker = MosquittoBroker(directory / "broker")
        self.web_port = free_port()
        self.base_url = f"http://127.0.0.1:{self.web_port}"
        self.loop = asyncio.new_event_loop()
        self.agent: RunningAgent | None = None
        self._stop: asyncio.Event | None = None
        self._thread = threading.Thread(target=self._run, name="agent", daemon=True)
        self._ready = threading.Event()
        self._error: BaseException | None = None
        self.retailer: ScriptedRetailer | None = None
        self.tenders: list[Tender] = []

    # -- lifecycle -------------------------------------------------------------------------

    def start(self) -> WebHome:
        self.broker.start()
        path = self.directory / "hems.yaml"
        doc = config_doc(self.directory / "state", self.broker.port, self.web_port)
        path.write_text(yaml.safe_dump(doc, allow_unicode=True))
        self.config = load_config(path)
        self.clock = ScaledClock(START, speed=SPEED)
        self.retailer = ScriptedRetailer(self.broker.host, self.broker.port, Topics(PREFIX, HOME))
        self._thread.start()
        if not self._ready.wait(READY_TIMEOUT_S) or self._error is not None:
            raise RuntimeError(f"the agent did not start: {self._error!r}")
        self.publish_market()
        published = self.read(lambda a: a.clock.now())
        # Every test may count on the whole market having arrived, not just the first of it.
        self.wait_for(self._market_arrived, "the retailer's tenders and trades", timeout_s=READY_TIMEOUT_S)
        self.wait_for(
            lambda a: a.state.timing.last_plan_at is not None and a.state.timing.last_plan_at > published,
            "a plan made on the retailer's tenders",
            timeout_s=READY_TIMEOUT_S,
        )
        return self

    def _market_arrived(self, agent: RunningAgent) -> bool:
        assert agent.link is not None
        offered = {o.tender.id for o in agent.link.book.snapshot(agent.clock.now()).offers}
        traded = {t.id for t in agent.ledger.transactions()}
        return offered >= {t.id for t in self.tenders} and traded >= {"tx-0", "tx-1"}

    def _run(self) -> None:
        asyncio.set_event_loop(self.loop)
        self.loop.run_until_complete(self._main())

    async def _main(self) -> None:
        try:
            self.agent = await build(self.config, self.clock, cycle_s=CYCLE_S)
            self._stop = asyncio.Event()
            serving = asyncio.create_task(serve(self.agent, self._stop, extra={"web": web_task}))
            # The market is published once: a tender sent before the link has subscribed is lost.
            assert self.agent.link is not None
            await self.agent.link.wait_connected(READY_TIMEOUT_S)
        except BaseException as e:
            self._error = e
            self._ready.set()
            raise
        self._ready.set()
        await serving

    def stop(self) -> None:
        if self._stop is not None:
            self.loop.call_soon_threadsafe(self._stop.set)
        self._thread.join(timeout=60)
        if self.retailer is not None:
            self.retailer.close()
        self.broker.stop()

    def __enter__(self) -> WebHome:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- helpers ---------------------------------------------------------------------------

    def call(self, fn: Callable[[], Coroutine[Any, Any, T]], timeout_s: float = 30.0) -> T:
        """Run a coroutine on the agent's loop (where its state may be read safely)."""
        return asyncio.run_coroutine_threadsafe(fn(), self.loop).result(timeout_s)

    def read(self, fn: Callable[[RunningAgent], T]) -> T:
        async def inner() -> T:
            assert self.agent is not None
            return fn(self.agent)

        return self.call(inner)

    def wait_for(self, predicate: Callable[[RunningAgent], bool], what: str, timeout_s: float = 60.0) -> None:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self.read(predicate):
                return
            time.sleep(0.1)
        raise AssertionError(f"timed out waiting for {what}")

    @property
    def token(self) -> str:
        return (self.directory / "state" / "web-token").read_text().strip()

    def publish_market(self) -> None:
        """A day of hourly retailer tenders (a sell and a buy ladder step per hour), spot prices
        for the coming hour, and two confirmed trades."""
        assert self.retailer is not None and self.agent is not None
        now = self.read(lambda a: a.clock.now())
        tz = self.config.zone
        prices = day_ahead_eur_per_kwh()
        first = containing(now, Duration.PT1H, tz)
        expires = now + timedelta(days=2)
        interval = first
        for i in range(24):
            wholesale = prices[(interval.start.hour + 24) % len(prices)]
            for side, price in (
                (Side.SELL, wholesale + Decimal("0.15")),
                (Side.BUY, wholesale - Decimal("0.01")),
            ):
                t = Tender(
                    id=f"r-{i}-{side.value}", party=RETAILER, counterparty=None, side=side,
                    product=Product.ENERGY, interval=interval, quantity_kw=Decimal(5),
                    price_per_kwh=price.quantize(Decimal("0.0001")), currency="EUR",
                    expires=expires, actionable=i < 12,
                )  # fmt: skip
                self.tenders.append(t)
                self.retailer.publish("tender", codec.encode_tender(t))
            interval = interval.next()
        quarter = containing(now, Duration.PT15M, tz)
        for k in range(8):
            spot = SpotPrice(quarter, Decimal("0.28") + Decimal(k) / 100, "EUR")
            self.retailer.publish("spot", codec.encode_spot_price(spot, f"spot-{k}"))
            quarter = quarter.next()
        accepted = self.tenders[:4:2]

        def accept(a: RunningAgent) -> None:
            # The home's acceptances as the link records them before sending: the retailer's
            # confirmations below are booked only against what the home accepted.
            for t in accepted:
                a.ledger.add_acceptance(f"acc-{t.id}", t.id, HOME, Decimal("1.5"), now)

        self.read(accept)
        for k, t in enumerate(self.tenders[:4:2]):  # the first two hours' sell tenders
            tx = Transaction(
                id=f"tx-{k}", tender_id=t.id, buyer=HOME, seller=RETAILER, product=Product.ENERGY,
                interval=t.interval, quantity_kw=Decimal("1.5"), price_per_kwh=t.price_per_kwh,
                currency="EUR", executed=now,
            )  # fmt: skip
            self.retailer.publish("transaction", codec.encode_transaction(tx))
