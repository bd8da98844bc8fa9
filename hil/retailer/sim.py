"""The retailer simulator: publishes tenders and spot prices, answers the home, over MQTT.

::

    sim = RetailerSim(settings, wholesale, clock)      # rules: PricingRules() by default
    await sim.start()          # connects, subscribes to the home's from-home topics
    ...                        # the agent trades with it; sim.book holds the retailer's records
    await sim.flush(10.0)      # everything queued is acknowledged by the broker
    await sim.stop()

Every ``tick_s`` of the injected clock it publishes what has come due (see
:mod:`hil.retailer.schedule`); messages from the home are handled one at a time by the
:class:`~hil.retailer.desk.Desk` and acknowledged (persistent session, manual acks) only after
the reply is queued. Outbound messages wait in order until the broker acknowledges them, so a
broker restart delays confirmations but loses none. Fault hooks: :meth:`silence` (publish
nothing for a while; what comes due meanwhile is sent afterwards) and :meth:`publish_bad`.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import Counter, deque
from datetime import datetime, timedelta

from agent.clock import Clock
from agent.link.topics import Inbound
from agent.market.records import Tender
from drivers.mqtt.client import Message, MqttClient
from drivers.mqtt.errors import MqttError
from drivers.mqtt.settings import BrokerSettings
from hil.retailer.book import RetailerBook
from hil.retailer.desk import Desk, Reply
from hil.retailer.faults import BadTender, FaultPayload, bad_tender
from hil.retailer.pricing import PricingRules, WholesalePrices
from hil.retailer.schedule import Schedule
from hil.retailer.settings import RetailerSettings

_log = logging.getLogger("hil.retailer")

SESSION_EXPIRY_S = 24 * 3600
RETRY_S = 0.5  # wall-clock pause after a failed publish (paho reconnects on its own)


class RetailerSim:
    def __init__(
        self,
        settings: RetailerSettings,
        wholesale: WholesalePrices,
        clock: Clock,
        rules: PricingRules | None = None,
    ) -> None:
        self.settings = s = settings
        self.rules = rules or PricingRules()
        self.clock = clock
        self.topics = s.topics
        self.book = RetailerBook(s.home)
        self.desk = Desk(s, self.rules, wholesale, self.book)
        self.schedule = Schedule(s, self.rules, wholesale)
        broker = BrokerSettings(
            host=s.host, port=s.port, client_id=s.client_id, prefix=f"{s.prefix}/_retailer/{s.home}"
        )
        self.client = MqttClient(broker, name="retailer sim", session_expiry_s=SESSION_EXPIRY_S)
        self.sent: Counter[str] = Counter()
        self.received: Counter[str] = Counter()
        self.silent_until: datetime | None = None
        self._home_seen = False  # the home's heartbeat arrived since it was last offline
        self._outbox: deque[Reply] = deque()
        self._inbox: asyncio.Queue[tuple[Message, int]] = asyncio.Queue()
        self._wake = asyncio.Event()
        self._tasks: list[asyncio.Task[None]] = []

    # -- lifecycle -------------------------------------------------------------------------

    async def start(self, connect_timeout_s: float = 10.0) -> None:
        await self.client.subscribe(f"{self.topics.outbound_base}/#", self._on_message, qos=1)
        await self.client.start()
        await self.client.wait_connected(connect_timeout_s)
        for name, coro in (("inbox", self._inbox_loop()), ("outbox", self._pump()), ("tick", self._ticker())):
            self._tasks.append(asyncio.create_task(coro, name=f"retailer-sim-{name}"))

    async def stop(self) -> None:
        tasks, self._tasks = self._tasks, []
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        await self.client.close()

    @property
    def pending(self) -> int:
        return len(self._outbox)

    async def flush(self, timeout_s: float) -> None:
        """Wait until every queued message is acknowledged by the broker."""
        async with asyncio.timeout(timeout_s):
            while self._outbox or not self._inbox.empty():
                self._wake.set()
                await asyncio.sleep(0.05)

    # -- fault hooks -----------------------------------------------------------------------

    def silence(self, seconds: float) -> None:
        """Publish nothing for ``seconds`` of the clock (inbound messages are still handled)."""
        self.silent_until = self.clock.now() + timedelta(seconds=seconds)

    def is_silent(self, now: datetime) -> bool:
        return self.silent_until is not None and now < self.silent_until

    async def publish_bad(self, kind: BadTender, base: Tender | None = None) -> FaultPayload:
        """Publish a malformed or malicious tender now (past any silence); returns what was sent."""
        base = base or self.schedule.sample_tender(self.clock.now())
        fault = bad_tender(kind, base, price_max_per_kwh=str(self.settings.price_max_per_kwh))
        await self.client.publish(self.topics.to_home(Inbound.TENDER), fault.payload, qos=1, timeout_s=10.0)
        self.sent[f"fault:{kind.value}"] += 1
        return fault

    # -- inbound ---------------------------------------------------------------------------

    def _on_message(self, msg: Message) -> None:
        self._inbox.put_nowait((msg, self.client.connects))

    async def _inbox_loop(self) -> None:
        while True:
            msg, generation = await self._inbox.get()
            kind = msg.topic.rsplit("/", 1)[-1]
            self.received[kind] += 1
            try:
                replies = self.desk.handle(kind, msg.topic, msg.payload, self.clock.now())
                replies += self._greet(kind, msg.payload)
            except Exception:  # a bug in the desk must not stop the retailer; it shows in the log
                _log.exception("retailer sim: handling %s failed", msg.topic)
                replies = []
            self._queue(replies)
            if self.client.connects == generation:
                self.client.ack(msg)

    def _greet(self, kind: str, payload: bytes) -> list[Reply]:
        """The standing transport tenders again when the home shows up: it may have subscribed
        after they went out, and its network charges are matched against them."""
        if kind == "status" and payload == b"offline":
            self._home_seen = False
        if kind != "heartbeat" or self._home_seen:
            return []
        self._home_seen = True
        return self.schedule.standing_offers(self.clock.now(), self.book)

    # -- outbound --------------------------------------------------------------------------

    def _queue(self, replies: list[Reply]) -> None:
        if replies:
            self._outbox.extend(replies)
            self._wake.set()

    async def _pump(self) -> None:
        while True:
            self._wake.clear()
            if not self._outbox or self.is_silent(self.clock.now()):
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._wake.wait(), 0.2)
                continue
            reply = self._outbox[0]
            try:
                await self.client.publish(
                    self.topics.to_home(reply.kind), reply.payload, qos=1, timeout_s=5.0
                )
            except MqttError as e:
                _log.debug("retailer sim: %s waits: %s", reply.message_id, e)
                await asyncio.sleep(RETRY_S)
                continue
            self._outbox.popleft()
            self.sent[reply.kind.value] += 1

    async def _ticker(self) -> None:
        while True:
            now = self.clock.now()
            if not self.is_silent(now):
                try:
                    self._queue(self.schedule.due(now, self.book))
                    for tender_id in [k for k, v in self.book.home_state.items() if v.value == "open"]:
                        self._queue(self.desk.review(tender_id, now))
                except Exception:
                    _log.exception("retailer sim: schedule failed")
            await self.clock.sleep(self.settings.tick_s)
