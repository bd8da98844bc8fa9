"""The settlement loop: meter counters into the ledger, closed intervals settled, deliveries sent.

Readings are stored at least every ``keep_every_s`` and always close to each metering boundary,
because settlement takes the reading nearest each bound. An interval whose bound has no reading
(the meter was away) waits until the meter is back; then the counters are interpolated across
the gap, stored as *estimated* readings, and the intervals inside the gap settle with the flag
"estimated": the gap's total energy is still the metered one, only its split is estimated.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from decimal import Decimal

from agent.clock import Clock
from agent.dispatch import Snapshot
from agent.ledger import Ledger, SettlementDeferred
from agent.market.intervals import Duration, Interval, containing
from agent.market.records import Delivery
from agent.market.settlement import DEFAULT_READING_TOLERANCE, MeterReading, Settlement

log = logging.getLogger(__name__)

SendDelivery = Callable[[Delivery], Awaitable[object]]

# Disk timeouts: SQLite with synchronous=FULL on an SD card can stall for a second or two.
LEDGER_TIMEOUT_S = 10.0


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
    ) -> None:
        self._ledger = ledger
        self._meter = meter
        self._party = party
        self._metering = metering
        self._clock = clock
        self._send = send_delivery
        self._keep_every_s = keep_every_s
        self._tolerance = tolerance
        self._last_kept: datetime | None = None
        self._next: Interval | None = None
        self.settled: list[Settlement] = []  # this run's, newest last (the web shows them)
        self.deferred_reason: str | None = None
        self.estimated_readings = 0

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
            self._meter, ts, Decimal(repr(float(imp.value))), Decimal(repr(float(exp.value)))
        )
        await asyncio.wait_for(asyncio.to_thread(self._ledger.add_reading, reading), LEDGER_TIMEOUT_S)
        self._last_kept = ts
        return reading

    # --- settling ------------------------------------------------------------------------

    def _first_open(self, now: datetime) -> Interval | None:
        if self._next is None:
            done = self._ledger.settlements(now - timedelta(days=7), now, self._party)
            if done:
                self._next = done[-1].interval.next()
            else:
                # A fresh ledger: the first interval is the first whose start the meter has seen.
                # (Starting at the interval holding "now" waited forever when the agent started
                # more than the tolerance into it: no reading could ever bound its start.)
                readings = self._ledger.readings(
                    self._meter, now - timedelta(days=7), now + timedelta(seconds=1)
                )
                if not readings:
                    return None
                first = containing(readings[0].ts, self._metering, self._ledger.tz)
                self._next = first if readings[0].ts - first.start_utc <= self._tolerance else first.next()
        return self._next

    async def settle_due(self) -> list[Settlement]:
        """Settle every closed interval in order; stops at the first that must still wait."""
        out: list[Settlement] = []
        now = self._clock.now()
        interval = await asyncio.to_thread(self._first_open, now)
        while interval is not None and interval.end_utc + self._tolerance <= now:
            try:
                result = await self._settle(interval)
            except SettlementDeferred as e:
                if self.deferred_reason != str(e):
                    log.info("settlement waits: %s", e)
                self.deferred_reason = str(e)
                break
            self.deferred_reason = None
            out.append(result)
            self.settled = [*self.settled[-287:], result]
            if self._send is not None:
                await self._send(result.delivery)
            interval = interval.next()
            self._next = interval
        return out

    async def _settle(self, interval: Interval) -> Settlement:
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
                a.import_kwh + (b.import_kwh - a.import_kwh) * share,
                a.export_kwh + (b.export_kwh - a.export_kwh) * share,
                estimated=True,
            )
            self._ledger.add_reading(estimate)
            self.estimated_readings += 1
            added = True
        return added
