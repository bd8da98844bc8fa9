"""The tender book: what the retailer currently offers, in memory, for the control cycle.

The link writes into it (after the ledger has the record); the cycle reads a frozen
:class:`BookSnapshot` and waits for :meth:`TenderBook.wait_changed`. Tenders leave the book when
they expire (by the injected clock, in :meth:`TenderBook.prune`). Quantities still open to the
home are the tender's quantity less what the home has accepted (sent, confirmed or not) and
what was executed, so two cycles never accept the same kilowatts twice.

Sides are the issuer's view (as on the wire): a retailer ``sell`` tender offers energy to the home.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from agent.market.intervals import Interval
from agent.market.records import Product, Side, SpotPrice, Tender, Transaction

# Spot prices are kept this long after their interval ends: settlement of a late interval reads
# them from the ledger, the book only serves the cycle's look at recent and coming prices.
SPOT_KEEP = timedelta(hours=2)
_NEVER = datetime.max.replace(tzinfo=UTC)


@dataclass(frozen=True, slots=True)
class Offer:
    tender: Tender
    available_kw: Decimal  # still open to the home: quantity less accepted and executed


@dataclass(frozen=True, slots=True)
class BookSnapshot:
    """One consistent view of the book, taken at ``taken`` (version ``version``)."""

    version: int
    taken: datetime
    offers: tuple[Offer, ...]  # retailer energy tenders, actionable and indicative, by interval
    transport: tuple[Offer, ...]
    spot: tuple[SpotPrice, ...]  # by interval start
    own: tuple[Offer, ...]  # tenders the home posted and has not withdrawn; available = unexecuted

    def actionable(self, side: Side | None = None, interval: Interval | None = None) -> list[Offer]:
        return [o for o in self.offers if o.tender.actionable and _match(o, side, interval)]

    def indicative(self, side: Side | None = None, interval: Interval | None = None) -> list[Offer]:
        return [o for o in self.offers if not o.tender.actionable and _match(o, side, interval)]

    def by_interval(self, actionable: bool = True) -> dict[Interval, list[Offer]]:
        out: dict[Interval, list[Offer]] = {}
        for o in self.offers:
            if o.tender.actionable is actionable:
                out.setdefault(o.tender.interval, []).append(o)
        return out

    def spot_for(self, interval: Interval) -> list[SpotPrice]:
        """The spot price of exactly ``interval`` (a list of at most one)."""
        return [s for s in self.spot if s.interval == interval]


def _match(o: Offer, side: Side | None, interval: Interval | None) -> bool:
    return (side is None or o.tender.side is side) and (interval is None or o.tender.interval == interval)


class TenderBook:
    def __init__(self, home_party: str) -> None:
        self.home_party = home_party
        self._received: dict[str, Tender] = {}
        self._own: dict[str, Tender] = {}
        self._spot: dict[Interval, SpotPrice] = {}
        self._accepted_kw: dict[str, dict[str, Decimal]] = {}  # tender id -> acceptance id -> kW
        self._executed_kw: dict[str, dict[str, Decimal]] = {}  # tender id -> transaction id -> kW
        self._version = 0
        self._changed = asyncio.Event()
        # The last snapshot and when its first live tender expires (the plan and the trading
        # step of one cycle read the same book: one sort and one sum per tender, not two).
        self._snapshot: tuple[BookSnapshot, datetime] | None = None
        # No prune can drop anything before this instant (the first expiry, or the first spot
        # price to age out): the link prunes every minute, the book changes a few times an hour.
        self._prune_due = _NEVER

    # -- change notification ---------------------------------------------------------------

    @property
    def version(self) -> int:
        """Grows by one with every change; compare with a snapshot's version."""
        return self._version

    def _bump(self) -> None:
        self._version += 1
        self._changed.set()
        self._changed = asyncio.Event()

    async def wait_changed(self, since: int, timeout_s: float) -> bool:
        """True once the version is past ``since``; False when ``timeout_s`` passes first."""
        try:
            async with asyncio.timeout(timeout_s):
                while self._version <= since:
                    await self._changed.wait()
        except TimeoutError:
            return False
        return True

    # -- writes (the link) -----------------------------------------------------------------

    def add_tender(self, t: Tender) -> None:
        if t.party == self.home_party:
            self._own[t.id] = t
        else:
            self._received[t.id] = t
        self._prune_due = min(self._prune_due, t.expires)
        self._bump()

    def withdraw(self, tender_id: str) -> bool:
        """The home cancelled its tender; True if it was in the book."""
        if self._own.pop(tender_id, None) is None:
            return False
        self._bump()
        return True

    def set_spot(self, s: SpotPrice) -> None:
        self._spot[s.interval] = s
        self._prune_due = min(self._prune_due, s.interval.end_utc + SPOT_KEEP)
        self._bump()

    def reserve(self, tender_id: str, acceptance_id: str, quantity_kw: Decimal) -> None:
        self._accepted_kw.setdefault(tender_id, {})[acceptance_id] = quantity_kw
        self._bump()

    def add_transaction(self, tx: Transaction) -> None:
        # Recorded even when the tender is unknown yet: messages may arrive out of order.
        self._executed_kw.setdefault(tx.tender_id, {})[tx.id] = tx.quantity_kw
        self._bump()

    def prune(self, now: datetime) -> list[Tender]:
        """Drop expired tenders (returned, the home's own among them) and old spot prices."""
        if now < self._prune_due:
            return []
        gone = [t for t in (*self._received.values(), *self._own.values()) if t.is_expired(now)]
        for t in gone:
            self._received.pop(t.id, None)
            self._own.pop(t.id, None)
            self._accepted_kw.pop(t.id, None)
            self._executed_kw.pop(t.id, None)
        old = [i for i in self._spot if i.end_utc + SPOT_KEEP <= now]
        for i in old:
            del self._spot[i]
        self._prune_due = min(
            (
                *(t.expires for t in self._received.values()),
                *(t.expires for t in self._own.values()),
                *(i.end_utc + SPOT_KEEP for i in self._spot),
            ),
            default=_NEVER,
        )
        if gone or old:
            self._bump()
        return gone

    # -- reads -----------------------------------------------------------------------------

    def tender(self, tender_id: str) -> Tender | None:
        """The tender with this id if the book holds it (None: not offered, or expired)."""
        return self._received.get(tender_id) or self._own.get(tender_id)

    def received(self) -> tuple[Tender, ...]:
        """The retailer's tenders in the book, as they came (expired ones too, until pruned)."""
        return tuple(self._received.values())

    def available_kw(self, tender_id: str) -> Decimal:
        t = self.tender(tender_id)
        return Decimal(0) if t is None else self._available_kw(t)

    def _available_kw(self, t: Tender) -> Decimal:
        executed_by = self._executed_kw.get(t.id)
        accepted_by = None if t.party == self.home_party else self._accepted_kw.get(t.id)
        if not executed_by and not accepted_by:
            # Most tenders in the book were never taken: the whole quantity (read per plan).
            return max(Decimal(0), t.quantity_kw)
        executed = sum(executed_by.values(), Decimal(0)) if executed_by else Decimal(0)
        if t.party == self.home_party:
            return max(Decimal(0), t.quantity_kw - executed)
        accepted = sum(accepted_by.values(), Decimal(0)) if accepted_by else Decimal(0)
        return max(Decimal(0), t.quantity_kw - max(accepted, executed))

    def snapshot(self, now: datetime) -> BookSnapshot:
        kept = self._snapshot
        if kept is not None and kept[0].version == self._version and kept[0].taken <= now < kept[1]:
            # Nothing changed and nothing expired since: the same view, taken now.
            return replace(kept[0], taken=now)
        view = self._take(now)
        # The view holds exactly the tenders live now: the first of them to expire ends it.
        live = (*view.offers, *view.transport, *view.own)
        self._snapshot = (view, min((o.tender.expires for o in live), default=_NEVER))
        return view

    def _take(self, now: datetime) -> BookSnapshot:
        def offers(tenders: list[Tender]) -> tuple[Offer, ...]:
            live = [t for t in tenders if not t.is_expired(now)]
            live.sort(
                key=lambda t: (t.interval.start_utc, t.interval.span, t.side.value, t.price_per_kwh, t.id)
            )
            return tuple(Offer(t, self._available_kw(t)) for t in live)

        received = list(self._received.values())
        return BookSnapshot(
            version=self._version,
            taken=now,
            offers=offers([t for t in received if t.product is Product.ENERGY]),
            transport=offers([t for t in received if t.product is Product.TRANSPORT]),
            spot=tuple(sorted(self._spot.values(), key=lambda s: (s.interval.start_utc, s.interval.span))),
            own=offers(list(self._own.values())),
        )
