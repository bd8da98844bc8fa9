"""What the retailer publishes when: ladders, indicative prices, transport tenders, spot prices.

On every call of :meth:`Schedule.due` (each tick of the clock) it returns what has come due and
not been published yet, and records it in the retailer's book:

* **hourly blocks**: for each hour starting within ``actionable_h`` whose gate (start −
  ``block_gate``) is still ahead, an actionable ladder of ``ladder_steps`` sell and buy tenders of
  ``step_kw`` each, expiring at the gate; for the ``indicative_h`` hours after that, one
  indicative sell and buy tender each (the step-0 prices);
* **near tenders**: for each metering interval starting within ``near_window`` whose gate
  (start − ``near_gate``) is ahead, an actionable ladder of ``near_steps`` a side over that
  interval alone;
* **transport**: for the current hour and every hour with a block, the DSO's import
  (grid → home) and export (home → grid) adders, expiring when the hour ends;
* **spot**: the spot price of every metering interval from the first tick on, once its start
  is within ``spot_lead`` (late ones after a silence are sent too: settlement needs them).

Ids are deterministic (``r-blk-20260615T1000Z-PT1H-s0``), so a republished tender is a duplicate.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal

from agent.link.topics import Inbound
from agent.market import codec
from agent.market.intervals import Duration, Interval, containing
from agent.market.records import Product, Side, SpotPrice, Tender
from hil.retailer.book import RetailerBook
from hil.retailer.desk import Reply, interval_key
from hil.retailer.pricing import PricingRules, WholesalePrices
from hil.retailer.settings import RetailerSettings


class Schedule:
    def __init__(self, s: RetailerSettings, rules: PricingRules, wholesale: WholesalePrices) -> None:
        self.s = s
        self.rules = rules
        self.wholesale = wholesale
        self._published: set[str] = set()
        self._next_spot: Interval | None = None

    def due(self, now: datetime, book: RetailerBook) -> list[Reply]:
        out: list[Tender] = []
        first_hour = containing(now, Duration.PT1H, self.s.tz)
        hour = first_hour
        last_actionable = now + timedelta(hours=self.s.actionable_h)
        last_indicative = last_actionable + timedelta(hours=self.s.indicative_h)
        out += self._transport(hour)
        while hour.start_utc < last_indicative:
            if hour.start_utc - self.s.block_gate > now:
                if hour.start_utc < last_actionable:
                    out += self._ladder("blk", hour, hour.start_utc - self.s.block_gate, actionable=True)
                    out += self._transport(hour)
                else:
                    out += self._ladder("ind", hour, hour.start_utc - self.s.block_gate, actionable=False)
            hour = hour.next()
        near = containing(now, self.s.metering, self.s.tz)
        while near.start_utc < now + self.s.near_window:
            if near.start_utc - self.s.near_gate > now:
                gate = near.start_utc - self.s.near_gate
                out += self._ladder("near", near, gate, actionable=True, steps=self.s.near_steps)
            near = near.next()
        replies = []
        for t in out:
            if t.id in self._published:
                continue
            self._published.add(t.id)
            book.offered[t.id] = t
            kind = Inbound.TRANSPORT if t.product is Product.TRANSPORT else Inbound.TENDER
            replies.append(Reply(kind, t.id, codec.dumps(codec.encode_tender(t))))
        return replies + self._spot(now, book)

    def standing_offers(self, now: datetime, book: RetailerBook) -> list[Reply]:
        """The transport tenders still open, again (same ids and payloads: duplicates to a home
        that has them). They are the standing terms the network charges are matched against; a
        home that subscribed after they first went out has no session at the broker that kept
        them. (Ladders are time-limited offers: a home that missed them simply did not see them.)"""
        out = []
        for t in sorted(book.offered.values(), key=lambda t: (t.interval.start_utc, t.id)):
            if t.product is Product.TRANSPORT and t.id in self._published and not t.is_expired(now):
                out.append(Reply(Inbound.TRANSPORT, t.id, codec.dumps(codec.encode_tender(t))))
        return out

    def _ladder(
        self, tag: str, interval: Interval, expires: datetime, *, actionable: bool, steps: int | None = None
    ) -> list[Tender]:
        w = self.wholesale.at(interval.start_utc)
        if steps is None:
            steps = self.rules.ladder_steps if actionable else 1
        out = []
        for k in range(steps):
            for side, price in (
                (Side.SELL, self.rules.sell_price(w, k)),
                (Side.BUY, self.rules.buy_price(w, k)),
            ):
                out.append(
                    self._tender(
                        f"r-{tag}-{interval_key(interval)}-{side.value[0]}{k}",
                        side,
                        interval=interval,
                        price=price,
                        expires=expires,
                        actionable=actionable,
                    )
                )
        return out

    def _tender(
        self,
        tender_id: str,
        side: Side,
        *,
        interval: Interval,
        price: Decimal,
        expires: datetime,
        actionable: bool,
        product: Product = Product.ENERGY,
        party: str | None = None,
        nodes: tuple[str | None, str | None] = (None, None),
    ) -> Tender:

        return Tender(
            id=tender_id,
            party=party or self.s.party,
            counterparty=self.s.home,
            side=side,
            product=product,
            interval=interval,
            quantity_kw=self.rules.step_kw,
            price_per_kwh=price,
            currency=self.s.currency,
            expires=expires,
            actionable=actionable,
            from_node=nodes[0],
            to_node=nodes[1],
        )

    def _transport(self, hour: Interval) -> list[Tender]:
        key = f"{hour.start_utc:%Y%m%dT%H%MZ}-PT1H"
        return [
            self._tender(
                f"r-trn-{key}-{direction}",
                Side.SELL,
                interval=hour,
                price=price,
                expires=hour.end_utc,
                actionable=True,
                product=Product.TRANSPORT,
                party=self.s.dso_party,
                nodes=nodes,
            )
            for direction, price, nodes in (
                ("imp", self.rules.import_adder_per_kwh, (self.s.grid_node, self.s.home)),
                ("exp", self.rules.export_adder_per_kwh, (self.s.home, self.s.grid_node)),
            )
        ]

    def _spot(self, now: datetime, book: RetailerBook) -> list[Reply]:
        if self._next_spot is None:
            self._next_spot = containing(now, self.s.metering, self.s.tz)
        out = []
        while self._next_spot.start_utc - self.s.spot_lead <= now:
            interval = self._next_spot
            spot = SpotPrice(
                interval, self.rules.spot_price(self.wholesale.spot_at(interval.start_utc)), self.s.currency
            )
            book.spot[interval] = spot
            message_id = f"spot-{interval_key(interval)}"
            out.append(
                Reply(Inbound.SPOT, message_id, codec.dumps(codec.encode_spot_price(spot, message_id)))
            )
            self._next_spot = interval.next()
        return out

    def sample_tender(self, now: datetime) -> Tender:
        """A valid actionable tender over the next hour (the base of a fault payload)."""
        hour = containing(now, Duration.PT1H, self.s.tz).next()
        w = self.wholesale.at(hour.start_utc)
        return self._tender(
            f"r-fault-{interval_key(hour)}",
            Side.SELL,
            interval=hour,
            price=self.rules.sell_price(w, 0),
            expires=hour.start_utc,
            actionable=True,
        )
