"""The retailer's trading desk: what it answers to each message from the home.

Pure decisions on the :class:`~hil.retailer.book.RetailerBook`; the simulator carries the
replies over MQTT. Rules (also in ``hil/README.md``):

* **acceptance** of a retailer tender: refused with an error report naming ``tender_id`` when the
  tender is unknown, indicative or expired (by the simulator's clock), ``party`` when another
  party signs it, ``quantity_kw`` when nothing is left open. Otherwise filled for
  ``min(asked, still open)`` — partial fills allowed, never more than offered — and confirmed
  with a transaction at the tender's price. A repeated acceptance id gets the same transaction.
* **home tender** (decoded strictly; a bad one gets an error report naming the field): if its
  interval has not begun, a home *sell* is bought when its price is at or below the retailer's
  marginal cost and a home *buy* is sold when its price is at or above the retailer's best sell
  price (:mod:`hil.retailer.pricing`) — whole quantity, at the home's price, confirmed with a
  transaction.
  Otherwise it stays open (no reply) until it expires or is cancelled.
* **cancellation**: an open home tender is withdrawn; an executed one stays executed; an unknown
  one gets an error report naming ``tender_id``.
* **error report** from the home: kept (its ``field`` may be empty: the key it names was ``""``).
* every refusal is an error report whose id follows from the refused message (its id and a
  digest of the payload), so a redelivered message is answered by the same report.
* **delivery**: recorded once per interval (a different repeat: error naming ``import_kwh``);
  the network charge follows at once as transport transactions (import kWh at the import adder,
  export kWh at the export adder; the home buys the transport from the DSO).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from agent.link.messages import (
    ErrorReport,
    decode_acceptance,
    decode_cancellation,
    decode_error_report,
    encode_error_report,
)
from agent.link.topics import Inbound, Outbound
from agent.market import codec
from agent.market.errors import CodecError
from agent.market.fields import MAX_IDENT_CHARS
from agent.market.intervals import Duration, Interval, intervals_between
from agent.market.jsontext import load_object
from agent.market.records import Delivery, Product, Side, Transaction
from hil.retailer.book import HomeTenderState, RetailerBook
from hil.retailer.pricing import PricingRules, WholesalePrices
from hil.retailer.settings import RetailerSettings

_SECONDS_PER_HOUR = Decimal(3600)


@dataclass(frozen=True, slots=True)
class Reply:
    kind: Inbound
    message_id: str
    payload: str


def stable_id(prefix: str, *parts: str) -> str:
    text = "-".join((prefix, *parts))
    if len(text) <= MAX_IDENT_CHARS:
        return text
    return f"{prefix}-{hashlib.sha256(text.encode()).hexdigest()[:40]}"


def interval_key(interval: Interval) -> str:
    return f"{interval.start_utc:%Y%m%dT%H%MZ}-{interval.duration.value}"


class Desk:
    def __init__(
        self, s: RetailerSettings, rules: PricingRules, wholesale: WholesalePrices, book: RetailerBook
    ):
        self.s = s
        self.rules = rules
        self.wholesale = wholesale
        self.book = book

    def handle(self, kind: str, topic: str, payload: bytes, now: datetime) -> list[Reply]:
        """Replies to one message from the home (empty for heartbeats, status, duplicates)."""
        try:
            if kind == Outbound.ACCEPT.value:
                return self._acceptance(payload, now)
            if kind == Outbound.TENDER.value:
                return self._home_tender(payload, now)
            if kind == Outbound.CANCEL.value:
                return self._cancellation(payload)
            if kind == Outbound.DELIVERY.value:
                return self._delivery(payload)
            if kind == Outbound.ERROR.value:
                self.book.errors_received.append(decode_error_report(payload))
            elif kind == Outbound.HEARTBEAT.value:
                self.book.heartbeats += 1
            return []
        except CodecError as e:
            return [self.error(e.message_id, topic, e.field, e.reason, payload)]

    def error(self, message_id: str | None, topic: str, field: str, text: str, payload: bytes) -> Reply:
        # The id follows from the message it answers, so a redelivered message gets the very same
        # report (a duplicate to the home), never a second one.
        digest = hashlib.sha256(topic.encode() + b"\0" + payload).hexdigest()[:16]
        report = ErrorReport(stable_id("rerr", message_id or "none", digest), message_id, topic, field, text)
        self.book.errors_sent.append(report)
        return Reply(Inbound.ERROR, report.id, codec.dumps(encode_error_report(report)))

    def confirm(self, tx: Transaction) -> Reply:
        self.book.add_transaction(tx)
        return self.resend(tx)

    @staticmethod
    def resend(tx: Transaction) -> Reply:
        return Reply(Inbound.TRANSACTION, tx.id, codec.dumps(codec.encode_transaction(tx)))

    def _parties(self, retailer_side: Side) -> tuple[str, str]:
        """(buyer, seller) of a trade in which the retailer is on ``retailer_side``."""
        if retailer_side is Side.SELL:
            return self.s.home, self.s.party
        return self.s.party, self.s.home

    # -- the home accepts a retailer tender -----------------------------------------------

    def _acceptance(self, payload: bytes, now: datetime) -> list[Reply]:
        a = decode_acceptance(payload)
        done = self.book.by_acceptance.get(a.id)
        if done is not None:
            return [self.resend(self.book.transactions[done])]
        if a.party != self.s.home:
            raise CodecError("party", f"{a.party!r} is not the home {self.s.home!r}", a.id)
        t = self.book.offered.get(a.tender_id)
        if t is None or t.product is not Product.ENERGY:
            raise CodecError("tender_id", f"{a.tender_id!r} is not an energy tender on offer", a.id)
        if not t.actionable:
            raise CodecError("tender_id", f"{a.tender_id!r} is indicative", a.id)
        if t.is_expired(now):
            raise CodecError("tender_id", f"{a.tender_id!r} expired at {t.expires.isoformat()}", a.id)
        fill = min(a.quantity_kw, self.book.open_kw(t.id))
        if fill <= 0:
            raise CodecError("quantity_kw", f"nothing left open on {t.id}", a.id)
        buyer, seller = self._parties(t.side)
        tx = Transaction(
            id=stable_id("rtx", a.id),
            tender_id=t.id,
            buyer=buyer,
            seller=seller,
            product=Product.ENERGY,
            interval=t.interval,
            quantity_kw=fill,
            price_per_kwh=t.price_per_kwh,
            currency=t.currency,
            executed=now,
        )
        self.book.by_acceptance[a.id] = tx.id
        return [self.confirm(tx)]

    # -- the home's own tenders ------------------------------------------------------------

    def _home_tender(self, payload: bytes, now: datetime) -> list[Reply]:
        t = codec.decode_tender(payload, self.s.codec_context(now))
        if t.party != self.s.home:
            raise CodecError("party", f"{t.party!r} is not the home {self.s.home!r}", t.id)
        if t.counterparty not in (None, self.s.party):
            raise CodecError("counterparty", f"{t.counterparty!r} is not {self.s.party!r}", t.id)
        if t.product is not Product.ENERGY:
            raise CodecError("product", "the retailer trades energy only", t.id)
        known = self.book.home_tenders.get(t.id)
        if known is not None:
            if known != t:
                raise CodecError("id", f"{t.id!r} was posted before with other content", t.id)
            return []
        if t.interval.start_utc <= now:
            raise CodecError("interval.start", "the interval has begun", t.id)
        self.book.home_tenders[t.id] = t
        self.book.home_state[t.id] = HomeTenderState.OPEN
        return self.review(t.id, now)

    def wholesale_over(self, interval: Interval) -> Decimal:
        if interval.span.total_seconds() <= 3600:
            return self.wholesale.at(interval.start_utc)
        parts = intervals_between(interval.start_utc, interval.end_utc, Duration.PT1H, self.s.tz)
        return sum((self.wholesale.at(p.start_utc) for p in parts), Decimal(0)) / len(parts)

    def review(self, tender_id: str, now: datetime) -> list[Reply]:
        """Execute an open home tender if the rules take it now."""
        t = self.book.home_tenders[tender_id]
        if self.book.home_state[tender_id] is not HomeTenderState.OPEN or t.is_expired(now):
            return []
        w = self.wholesale_over(t.interval)
        if t.side is Side.SELL:
            take = self.rules.buys_home_offer(w, t.price_per_kwh)
        else:
            take = self.rules.sells_home_bid(w, t.price_per_kwh)
        if not take:
            return []
        # The retailer takes the opposite side of the home's tender.
        buyer, seller = self._parties(t.side.opposite)
        tx = Transaction(
            id=stable_id("rtx", t.id),
            tender_id=t.id,
            buyer=buyer,
            seller=seller,
            product=Product.ENERGY,
            interval=t.interval,
            quantity_kw=t.quantity_kw,
            price_per_kwh=t.price_per_kwh,
            currency=t.currency,
            executed=now,
        )
        self.book.home_state[tender_id] = HomeTenderState.EXECUTED
        return [self.confirm(tx)]

    def _cancellation(self, payload: bytes) -> list[Reply]:
        c = decode_cancellation(payload)
        state = self.book.home_state.get(c.tender_id)
        if state is None or c.party != self.s.home:
            raise CodecError("tender_id", f"{c.tender_id!r} is not a tender the home posted", c.id)
        if state is HomeTenderState.OPEN:
            self.book.home_state[c.tender_id] = HomeTenderState.WITHDRAWN
        return []

    # -- deliveries and the network charge -------------------------------------------------

    def _delivery(self, payload: bytes) -> list[Reply]:
        obj = load_object(payload)
        d = codec.decode_delivery(obj, self.s.codec_context(None))
        message_id = str(obj["id"])
        if d.party != self.s.home:
            raise CodecError("party", f"{d.party!r} is not the home {self.s.home!r}", message_id)
        known = self.book.deliveries.get(d.interval)
        if known is not None:
            if known != d:
                raise CodecError(
                    "import_kwh", "this interval was delivered before with other energy", message_id
                )
            return []
        self.book.deliveries[d.interval] = d
        return [self.confirm(tx) for tx in self.transport_charges(d)]

    def transport_charges(self, d: Delivery) -> list[Transaction]:
        seconds = Decimal(int(d.interval.span.total_seconds()))
        hour = d.interval.start_utc.replace(minute=0, second=0, microsecond=0)
        out = []
        for direction, kwh, price, src, dst in (
            ("imp", d.import_kwh, self.rules.import_adder_per_kwh, self.s.grid_node, self.s.home),
            ("exp", d.export_kwh, self.rules.export_adder_per_kwh, self.s.home, self.s.grid_node),
        ):
            if kwh <= 0:
                continue
            out.append(
                Transaction(
                    id=stable_id("rtr", direction, interval_key(d.interval)),
                    tender_id=stable_id("r-trn", f"{hour:%Y%m%dT%H%MZ}-PT1H", direction),
                    buyer=self.s.home,
                    seller=self.s.dso_party,
                    product=Product.TRANSPORT,
                    interval=d.interval,
                    quantity_kw=kwh * _SECONDS_PER_HOUR / seconds,  # exact for 5, 15, 60 min
                    price_per_kwh=price,
                    currency=self.s.currency,
                    executed=d.interval.end_utc,
                    from_node=src,
                    to_node=dst,
                )
            )
        return out
