"""The retailer simulator's desk, schedule and book on the in-process bus.

The same decisions as :class:`~hil.retailer.sim.RetailerSim` (its :class:`~hil.retailer.desk.Desk`,
:class:`~hil.retailer.schedule.Schedule` and :class:`~hil.retailer.book.RetailerBook`, and the
fault payloads of :mod:`hil.retailer.faults`), carried on a :class:`~hil.fast.bus.BusClient`
instead of a paho connection: every ``tick_s`` it publishes what has come due and reviews the
home's open tenders; each message from the home is handled when it arrives and acknowledged
after its replies are queued. Replies wait in order while the bus is down or the retailer is
silenced and go out afterwards, as the MQTT simulator's outbox does.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import Counter, deque
from datetime import datetime, timedelta

from agent.link.topics import Inbound
from agent.market.intervals import Interval, containing
from agent.market.records import Tender
from drivers.mqtt.client import Message
from drivers.mqtt.errors import MqttError
from hil.fast.bus import Bus, BusClient
from hil.fast.clock import VirtualClock
from hil.retailer import BadTender, FaultPayload, PricingRules, RetailerBook, WholesalePrices, bad_tender
from hil.retailer.desk import Desk, Reply
from hil.retailer.schedule import Schedule
from hil.retailer.settings import RetailerSettings

_log = logging.getLogger("hil.fast.retailer")

RETRY_S = 1.0  # simulated seconds between attempts while the bus is down


class MemoSchedule(Schedule):
    """The retailer's schedule with each ladder built once.

    ``Schedule.due`` rebuilds the ladders of the next day and a half on every call to find the
    few not yet published; the ladders are pure functions of their interval, so this keeps them
    (and forgets those whose gate has passed), and each hour's transport tenders likewise. The
    publications are the same.
    """

    def __init__(self, s: RetailerSettings, rules: PricingRules, wholesale: WholesalePrices) -> None:
        super().__init__(s, rules, wholesale)
        self._memo: dict[tuple[str, Interval, datetime, bool, int | None], list[Tender]] = {}
        self._transport_memo: dict[Interval, list[Tender]] = {}

    def _ladder(
        self, tag: str, interval: Interval, expires: datetime, *, actionable: bool, steps: int | None = None
    ) -> list[Tender]:
        key = (tag, interval, expires, actionable, steps)
        hit = self._memo.get(key)
        if hit is None:
            hit = self._memo[key] = super()._ladder(
                tag, interval, expires, actionable=actionable, steps=steps
            )
        return hit

    def _transport(self, hour: Interval) -> list[Tender]:
        hit = self._transport_memo.get(hour)
        if hit is None:
            hit = self._transport_memo[hour] = super()._transport(hour)
        return hit

    def forget_before(self, now: datetime) -> None:
        self._memo = {k: v for k, v in self._memo.items() if k[2] > now}
        self._transport_memo = {k: v for k, v in self._transport_memo.items() if k.end_utc > now}


def next_tick(now: datetime, s: RetailerSettings, tick_s: float) -> datetime:
    """When the schedule can next have something new, on the MQTT simulator's tick grid.

    Everything the schedule publishes comes due at a metering boundary ``b`` (a new hour, a new
    near interval, a block entering the day-ahead window: on ``b`` or on its first tick after
    ``b``) or at ``b − spot_lead`` (the spot price). Ticking at ``b − spot_lead``, ``b`` and
    ``b + tick_s`` publishes what the simulator ticking every ``tick_s`` from a boundary
    publishes, at the same instants, without the ticks in between.
    """
    b = containing(now, s.metering, s.tz)
    candidates = []
    for interval in (b, b.next()):
        start = interval.start_utc
        candidates += [start - s.spot_lead, start, start + timedelta(seconds=tick_s)]
    return min(t for t in candidates if t > now)


class FastRetailer:
    def __init__(
        self,
        settings: RetailerSettings,
        wholesale: WholesalePrices,
        clock: VirtualClock,
        rules: PricingRules,
        bus: Bus,
    ) -> None:
        self.settings = s = settings
        self.rules = rules
        self.clock = clock
        self.topics = s.topics
        self.book = RetailerBook(s.home)
        self.desk = Desk(s, rules, wholesale, self.book)
        self.schedule = MemoSchedule(s, rules, wholesale)
        self.client: BusClient = bus.client("retailer sim", persistent=True)
        self.sent: Counter[str] = Counter()
        self.received: Counter[str] = Counter()
        self.silent_until: datetime | None = None
        self._outbox: deque[Reply] = deque()
        self._wake = asyncio.Event()
        self._tasks: list[asyncio.Task[None]] = []

    async def start(self) -> None:
        await self.client.subscribe(f"{self.topics.outbound_base}/#", self._on_message, qos=1)
        await self.client.start()
        for name, coro in (("outbox", self._pump()), ("tick", self._ticker())):
            self._tasks.append(asyncio.create_task(coro, name=f"fast-retailer-{name}"))

    async def stop(self) -> None:
        tasks, self._tasks = self._tasks, []
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        await self.client.close()

    def silence(self, seconds: float) -> None:
        self.silent_until = self.clock.now() + timedelta(seconds=seconds)

    def is_silent(self, now: datetime) -> bool:
        return self.silent_until is not None and now < self.silent_until

    async def publish_bad(self, kind: BadTender) -> FaultPayload:
        base = self.schedule.sample_tender(self.clock.now())
        fault = bad_tender(kind, base, price_max_per_kwh=str(self.settings.price_max_per_kwh))
        await self.client.publish(self.topics.to_home(Inbound.TENDER), fault.payload, qos=1)
        self.sent[f"fault:{kind.value}"] += 1
        return fault

    def _on_message(self, msg: Message) -> None:
        kind = msg.topic.rsplit("/", 1)[-1]
        self.received[kind] += 1
        try:
            replies = self.desk.handle(kind, msg.topic, msg.payload, self.clock.now())
        except Exception:  # a bug in the desk must not stop the retailer; it shows in the log
            _log.exception("retailer sim: handling %s failed", msg.topic)
            replies = []
        self._queue(replies)
        self.client.ack(msg)

    def _queue(self, replies: list[Reply]) -> None:
        if replies:
            self._outbox.extend(replies)
            self._wake.set()

    async def _pump(self) -> None:
        while True:
            self._wake.clear()
            now = self.clock.now()
            if not self._outbox or self.is_silent(now):
                wait_s = None
                if self._outbox and self.silent_until is not None:
                    wait_s = (self.silent_until - now).total_seconds()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._wake.wait(), wait_s)
                continue
            reply = self._outbox[0]
            try:
                await self.client.publish(self.topics.to_home(reply.kind), reply.payload, qos=1)
            except MqttError as e:
                _log.debug("retailer sim: %s waits: %s", reply.message_id, e)
                await self.clock.sleep(RETRY_S)
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
                    self.schedule.forget_before(now)
                except Exception:
                    _log.exception("retailer sim: schedule failed")
            until = next_tick(now, self.settings, self.settings.tick_s)
            if self.silent_until is not None and now < self.silent_until < until:
                until = self.silent_until
            await self.clock.until(until)
