"""The settlement loop: meter counters into the ledger, closed intervals settled, deliveries sent.

Each closed metering interval is settled on its own: one that must wait (no spot price yet, a
missing reading) is kept aside and tried again on every pass, and never holds back the intervals
after it, so a late price for one interval delays that interval's settlement and delivery only.

Readings are stored at least every ``keep_every_s`` and always close to each metering boundary,
because settlement takes the reading nearest each bound. An interval whose bound has no reading
(the meter was away) waits until the meter is back; then the counters are interpolated across
the gap, stored as *estimated* readings, and the intervals inside the gap settle with the flag
"estimated": the gap's total energy is still the metered one, only its split is estimated.

Under a tariff (``contract``) there is no retailer spot price: each closed interval is billed by
the household's contract instead (agent/tariff/contract_book.py), waiting the same way while its
price is not yet firm.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from decimal import Decimal

from agent.clock import Clock
from agent.dispatch import Snapshot
from agent.errors import HemsError
from agent.ledger import Ledger, SettlementDeferred
from agent.ledger.contract import ContractSettlement
from agent.market.intervals import Duration, Interval, containing
from agent.market.records import Delivery
from agent.market.settlement import DEFAULT_READING_TOLERANCE, MeterReading, Settlement
from agent.tariff.contract_book import ContractBook

log = logging.getLogger(__name__)

SendDelivery = Callable[[Delivery], Awaitable[object]]
Settled = Settlement | ContractSettlement

# Disk timeouts: SQLite with synchronous=FULL on an SD card can stall for a second or two.
LEDGER_TIMEOUT_S = 10.0
# Intervals waiting for a price or a reading are kept this many (a day of 5-minute intervals)
# and then given up, with a warning: the retailer bills them from its own records.
MAX_WAITING = 288
# Waiting intervals are tried again this often (a new closed interval is tried at once): a
# retailer that never sends a price must not cost a ledger write per interval every cycle.
RETRY_WAITING_S = 60.0
NOT_TRIED = "not tried yet"
# How far back a restart looks for closed intervals that were never settled.
LOOKBACK = timedelta(days=2)
# Counters are kept to a micro-watt-hour (far below any meter's resolution): a float's repr or an
# interpolation would carry 17 to 28 digits into the delivery report, beyond what the wire takes.
READING_RESOLUTION_KWH = Decimal("0.000000001")


def _kwh(value: Decimal) -> Decimal:
    return value.quantize(READING_RESOLUTION_KWH)


class Settler:
    def __init__(
        self,
        ledger: Ledger,
        *,
        meter: str,
        party: str,
        metering: Duration,
        clock: Clock,
        send_delivery: SendDelivery | None = None,
        keep_every_s: float = 60.0,
        tolerance: timedelta = DEFAULT_READING_TOLERANCE,
        contract: ContractBook | None = None,
    ) -> None:
        self._ledger = ledger
        self._meter = meter
        self._party = party
        self._metering = metering
        self._clock = clock
        self._send = send_delivery
        self._keep_every_s = keep_every_s
        self._tolerance = tolerance
        self._contract = contract
        self._last_kept: datetime | None = None
        self._next: Interval | None = None  # the first closed interval not yet tried
        self.waiting: dict[Interval, str] = {}  # deferred intervals and why, retried every minute
        self._retry_at_s = float("-inf")
        self.settled: list[Settled] = []  # this run's, newest last (the web shows them)
        self.estimated_readings = 0

    @property
    def deferred_reason(self) -> str | None:
        """Why the oldest waiting interval waits (None: nothing waits)."""
        if not self.waiting:
            return None
        return self.waiting[min(self.waiting)]

    # --- readings ------------------------------------------------------------------------

    def _near_boundary(self, ts: datetime) -> bool:
        interval = containing(ts, self._metering, self._ledger.tz)
        margin = self._tolerance / 2
        return ts - interval.start_utc <= margin or interval.end_utc - ts <= margin

    async def record(self, snapshot: Snapshot) -> MeterReading | None:
        """Store the snapshot's meter counters when due; returns what was stored."""
        if not (
            snapshot.fresh(self._meter, "meter.import_kwh")
            and snapshot.fresh(self._meter, "meter.export_kwh")
        ):
            return None
        imp = snapshot.get(self._meter, "meter.import_kwh")
        exp = snapshot.get(self._meter, "meter.export_kwh")
        ts = snapshot.taken_at - timedelta(seconds=max(imp.age_s, exp.age_s))
        due = self._last_kept is None or (ts - self._last_kept).total_seconds() >= self._keep_every_s
        if not (due or self._near_boundary(ts)) or (self._last_kept is not None and ts <= self._last_kept):
            return None
        reading = MeterReading(
            self._meter, ts, _kwh(Decimal(repr(float(imp.value)))), _kwh(Decimal(repr(float(exp.value))))
        )
        await asyncio.wait_for(asyncio.to_thread(self._ledger.add_reading, reading), LEDGER_TIMEOUT_S)
        self._last_kept = ts
        return reading

    # --- settling ------------------------------------------------------------------------

    def _first_open(self, now: datetime) -> Interval | None:
        """The first interval never tried; on the first call also the unsettled ones before it."""
        if self._next is None:
            readings = self._ledger.readings(self._meter, now - LOOKBACK, now + timedelta(seconds=1))
            if not readings:
                return None
            # The first interval whose start the meter has seen. (Starting at the interval
            # holding "now" waited forever when the agent started more than the tolerance into
            # it: no reading could ever bound its start.)
            first = containing(readings[0].ts, self._metering, self._ledger.tz)
            if readings[0].ts - first.start_utc > self._tolerance:
                first = first.next()
            done = self._settled_since(first, now)
            interval = first
            while interval.end_utc + self._tolerance <= now and done:
                if interval not in done:
                    self.waiting[interval] = "not settled before the restart"
                interval = interval.next()
            latest = max(done, default=None)
            self._next = latest.next() if latest is not None and latest.next() > interval else interval
        return self._next

    def _settled_since(self, first: Interval, now: datetime) -> set[Interval]:
        if self._contract is not None:
            return self._contract.settled_intervals(first.start_utc, now)
        return {s.interval for s in self._ledger.settlements(first.start_utc, now, self._party)}

    async def settle_due(self) -> list[Settled]:
        """Settle every closed interval that can be; those that must wait are retried next time."""
        out: list[Settled] = []
        now = self._clock.now()
        fresh = await asyncio.to_thread(self._first_open, now)
        # Every closed interval is waiting until it is settled and reported, so that nothing is
        # lost when a step below fails.
        while fresh is not None and fresh.end_utc + self._tolerance <= now:
            self.waiting[fresh] = NOT_TRIED
            fresh = fresh.next()
        if fresh is not None:
            self._next = fresh
        retry = self._clock.monotonic_s() >= self._retry_at_s
        if retry:
            self._retry_at_s = self._clock.monotonic_s() + RETRY_WAITING_S
        for interval in sorted(self.waiting):
            if not retry and self.waiting[interval] != NOT_TRIED:
                continue
            try:
                result = await self._settle(interval)
            except SettlementDeferred as e:
                if self.waiting.get(interval) != e.missing:
                    log.info("settlement waits: %s", e)
                self.waiting[interval] = e.missing
                continue
            if self._send is not None:
                try:
                    await self._send(result.delivery)
                except HemsError as e:
                    # Settled and stored; the report goes out on a later pass (the ledger
                    # returns the stored settlement, never a new one).
                    reason = f"delivery report not sent: {e}"
                    if self.waiting.get(interval) != reason:
                        log.warning("settlement of %s: %s", interval, reason)
                    self.waiting[interval] = reason
                    continue
            self.waiting.pop(interval, None)
            out.append(result)
            self.settled = [*self.settled[-287:], result]
        while len(self.waiting) > MAX_WAITING:
            oldest = min(self.waiting)
            log.warning("settlement of %s given up: %s", oldest, self.waiting.pop(oldest))
        return out

    async def _settle(self, interval: Interval) -> Settled:
        if self._contract is not None:
            try:
                return await self._contract.settle(interval)
            except SettlementDeferred:
                if not await asyncio.to_thread(self._estimate_gap, interval):
                    raise
            return await self._contract.settle(interval)
        call = asyncio.to_thread(
            self._ledger.settle, interval, self._party, self._meter, tolerance=self._tolerance
        )
        try:
            result, _ = await asyncio.wait_for(call, LEDGER_TIMEOUT_S)
        except SettlementDeferred:
            if not await asyncio.to_thread(self._estimate_gap, interval):
                raise
            call = asyncio.to_thread(
                self._ledger.settle, interval, self._party, self._meter, tolerance=self._tolerance
            )
            result, _ = await asyncio.wait_for(call, LEDGER_TIMEOUT_S)
        return result

    def _estimate_gap(self, interval: Interval) -> bool:
        """Interpolate missing bound readings once the meter has reported after the gap."""
        added = False
        for bound in (interval.start_utc, interval.end_utc):
            near = self._ledger.readings(self._meter, bound - self._tolerance, bound + self._tolerance)
            if near:
                continue
            before = self._ledger.readings(self._meter, bound - timedelta(days=2), bound)
            after = self._ledger.readings(self._meter, bound, self._clock.now() + timedelta(seconds=1))
            if not before or not after:
                return False
            a, b = before[-1], after[0]
            share = Decimal((bound - a.ts).total_seconds()) / Decimal((b.ts - a.ts).total_seconds())
            if b.import_kwh < a.import_kwh or b.export_kwh < a.export_kwh:
                return False  # a reset inside the gap: nothing sensible to interpolate
            estimate = MeterReading(
                self._meter,
                bound,
                _kwh(a.import_kwh + (b.import_kwh - a.import_kwh) * share),
                _kwh(a.export_kwh + (b.export_kwh - a.export_kwh) * share),
                estimated=True,
            )
            self._ledger.add_reading(estimate)
            self.estimated_readings += 1
            added = True
        return added
