"""The retailer's own records: what it offered, what it confirmed, what the home delivered.

Kept apart from the agent's ledger on purpose, so that a test can bill the home from the
retailer's side and compare: :meth:`RetailerBook.bill` prices every confirmed transaction for the
part of its interval inside the period, and every delivered metering interval's deviation from
the position (metered net import minus the net forward energy) at that interval's spot price.
"""

from __future__ import annotations

import bisect
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from enum import StrEnum

from agent.link.messages import ErrorReport
from agent.market.intervals import Interval
from agent.market.records import Delivery, Product, SpotPrice, Tender, Transaction

_SECONDS_PER_HOUR = Decimal(3600)


class HomeTenderState(StrEnum):
    OPEN = "open"  # valid, not (yet) at a price the retailer takes
    EXECUTED = "executed"
    WITHDRAWN = "withdrawn"


@dataclass(frozen=True, slots=True)
class RetailerBill:
    """What the home owes for ``[start, end)`` by the retailer's records (+: the home pays)."""

    forward: Decimal
    spot: Decimal
    transport: Decimal
    intervals: tuple[Interval, ...]  # the delivered metering intervals billed at spot

    @property
    def total(self) -> Decimal:
        return self.forward + self.spot + self.transport


@dataclass
class RetailerBook:
    home: str
    offered: dict[str, Tender] = field(default_factory=dict)
    filled_kw: dict[str, Decimal] = field(default_factory=dict)
    by_acceptance: dict[str, str] = field(default_factory=dict)  # acceptance id -> transaction id
    transactions: dict[str, Transaction] = field(default_factory=dict)
    home_tenders: dict[str, Tender] = field(default_factory=dict)
    home_state: dict[str, HomeTenderState] = field(default_factory=dict)
    deliveries: dict[Interval, Delivery] = field(default_factory=dict)
    spot: dict[Interval, SpotPrice] = field(default_factory=dict)
    errors_sent: list[ErrorReport] = field(default_factory=list)
    errors_received: list[ErrorReport] = field(default_factory=list)
    heartbeats: int = 0

    def open_kw(self, tender_id: str) -> Decimal:
        t = self.offered.get(tender_id)
        if t is None:
            return Decimal(0)
        return t.quantity_kw - self.filled_kw.get(tender_id, Decimal(0))

    def add_transaction(self, tx: Transaction) -> None:
        self.transactions[tx.id] = tx
        if tx.tender_id in self.offered:
            self.filled_kw[tx.tender_id] = self.filled_kw.get(tx.tender_id, Decimal(0)) + tx.quantity_kw

    def position_kwh(self, interval: Interval) -> Decimal:
        """Net forward energy bought by the home over ``interval`` (energy transactions only)."""
        return self.positions_kwh([interval])[interval]

    def positions_kwh(self, intervals: Iterable[Interval]) -> dict[Interval, Decimal]:
        """:meth:`position_kwh` of each of ``intervals``, in one pass over the transactions (a
        year's bill asks for 35,000 intervals against 40,000 transactions: one pass each was
        most of a simulated year's time)."""
        wanted = sorted(set(intervals), key=lambda iv: (iv.start_utc, iv.end_utc))
        starts = [iv.start_utc for iv in wanted]
        out = dict.fromkeys(wanted, Decimal(0))
        for tx in self.transactions.values():
            if tx.product is not Product.ENERGY:
                continue
            sign = 1 if tx.buyer == self.home else -1
            i = bisect.bisect_left(starts, tx.interval.start_utc)
            while i < len(wanted) and wanted[i].start_utc < tx.interval.end_utc:
                interval = wanted[i]
                if tx.interval.contains_interval(interval):
                    seconds = Decimal(int(interval.span.total_seconds()))
                    out[interval] += sign * tx.quantity_kw * seconds / _SECONDS_PER_HOUR
                i += 1
        return out

    def bill(self, start: datetime, end: datetime) -> RetailerBill:
        forward = transport = Decimal(0)
        for tx in self.transactions.values():
            lo, hi = max(tx.interval.start_utc, start), min(tx.interval.end_utc, end)
            seconds = int((hi - lo).total_seconds())
            if seconds <= 0:
                continue
            sign = 1 if tx.buyer == self.home else -1
            amount = sign * tx.quantity_kw * tx.price_per_kwh * Decimal(seconds) / _SECONDS_PER_HOUR
            if tx.product is Product.TRANSPORT:
                transport += amount
            else:
                forward += amount
        spot = Decimal(0)
        billed: list[Interval] = []
        delivered = sorted(self.deliveries.items(), key=lambda kv: kv[0].start_utc)
        priced = [(iv, d) for iv, d in delivered if start <= iv.start_utc < end and iv in self.spot]
        positions = self.positions_kwh(iv for iv, _ in priced)
        for interval, d in priced:
            spot += (d.net_kwh - positions[interval]) * self.spot[interval].price_per_kwh
            billed.append(interval)
        return RetailerBill(forward, spot, transport, tuple(billed))
