"""Turning one inbound MQTT message into committed state, or into an error reply.

Every message is decoded strictly and checked against the home's view of the market (who may
send what to whom). A bad one changes nothing: it is counted, logged once per kind, and answered
with an :class:`~agent.link.messages.ErrorReport`. A good one is written to the ledger first and
only then handed to the book; :meth:`Receiver.process` returns only when the message is fully
dealt with, and the link acknowledges it to the broker after that, so a crash in between means
redelivery, never loss. A ledger that refuses writes is retried with backoff while the message
stays unacknowledged (the broker then holds everything behind it, so order is kept).
"""

from __future__ import annotations

import asyncio
import functools
import hashlib
import logging
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TypeVar

from agent.cancel import honour_cancellation
from agent.clock import Clock
from agent.ledger import Ledger, TenderStatus
from agent.ledger.errors import LedgerConflict, LedgerError, LedgerValueError
from agent.link import matching
from agent.link.book import TenderBook
from agent.link.counters import LinkCounters, OnceLog, field_label
from agent.link.errors import LinkError, LinkTimeout, OutboxConflict
from agent.link.messages import ErrorReport, decode_error_report
from agent.link.settings import LinkSettings
from agent.link.topics import Inbound, Topics
from agent.link.wire import report_id, wire_key
from agent.logsafe import clip
from agent.market import codec
from agent.market import fields as f
from agent.market.errors import CodecError
from agent.market.jsontext import load_object
from agent.market.records import Product, SpotPrice, Tender, Transaction
from drivers.mqtt.client import Message

_log = logging.getLogger("agent.link")
T = TypeVar("T")

# Enough to swallow a redelivered burst after a reconnect; the ledger's own idempotency covers
# anything older.
SEEN_IDS = 4096
# Ledger writes are milliseconds; a disk that stalls this long is treated as failing.
COMMIT_TIMEOUT_S = 10.0
RETRY_MIN_S = 0.5
RETRY_MAX_S = 30.0


@dataclass(frozen=True, slots=True)
class Decoded:
    kind: Inbound
    message_id: str
    record: Tender | Transaction | SpotPrice | ErrorReport


@dataclass(frozen=True, slots=True)
class Arrived:
    """The message being handled, for the error report that answers it."""

    label: str
    topic: str
    payload: bytes


Reply = Callable[[ErrorReport], Awaitable[None]]


class Receiver:
    def __init__(
        self,
        *,
        settings: LinkSettings,
        topics: Topics,
        ledger: Ledger,
        book: TenderBook,
        clock: Clock,
        counters: LinkCounters,
        reply: Reply,
        is_own_tender: Callable[[str], bool],
    ) -> None:
        self._s = settings
        self._topics = topics
        self._ledger = ledger
        self._book = book
        self._clock = clock
        self._counters = counters
        self._reply = reply
        self._is_own_tender = is_own_tender
        self._seen: OrderedDict[tuple[str, str], bytes] = OrderedDict()
        self._once = OnceLog(_log)
        self.degraded = False  # True while a commit keeps failing

    async def process(self, msg: Message) -> None:
        kind = self._topics.inbound_kind(msg.topic)
        label = kind.value if kind is not None else "unknown"
        self._counters.received[label] += 1
        if not msg.payload and msg.retain:
            return  # someone cleared a retained message: nothing to decode
        arrived = Arrived(label, msg.topic, msg.payload)
        digest = hashlib.sha256(msg.payload).digest()
        try:
            if kind is None:
                raise CodecError("topic", f"no such message kind under {self._topics.base}/to-home/")
            decoded = self._decode(kind, msg.payload)
        except CodecError as e:
            await self._reject(arrived, e)
            return
        key = (kind.value, decoded.message_id)
        if self._seen.get(key) == digest:
            self._counters.duplicates[kind.value] += 1
            return
        try:
            await self._durably(f"commit {kind.value} {decoded.message_id}", lambda: self._commit(decoded))
        except CodecError as e:
            await self._reject(arrived, e)
            return
        self._seen[key] = digest
        while len(self._seen) > SEEN_IDS:
            self._seen.popitem(last=False)
        self._counters.committed[kind.value] += 1

    async def answer_unhandled(self, msg: Message, error: Exception) -> None:
        """Answer a message whose handling failed unexpectedly, so that it can be acknowledged
        rather than redelivered (and fail) for ever."""
        kind = self._topics.inbound_kind(msg.topic)
        label = kind.value if kind is not None else "unknown"
        self._counters.unhandled += 1
        _log.error(
            "retailer link: handling a %s message on %s failed: %s: %s",
            label,
            clip(msg.topic),
            type(error).__name__,
            clip(error),
            exc_info=error,
        )
        reason = f"could not be handled ({type(error).__name__}); not used"
        await self._reject(Arrived(label, msg.topic, msg.payload), CodecError("message", reason))

    # -- decoding and checks ---------------------------------------------------------------

    def _decode(self, kind: Inbound, payload: bytes) -> Decoded:
        ctx = self._s.codec_context(self._clock.now())
        if kind is Inbound.ERROR:
            report = decode_error_report(payload)
            return Decoded(kind, report.id, report)
        if kind is Inbound.SPOT:
            spot = codec.decode_spot_price(payload, ctx)
            message_id = f.ident(load_object(payload), "id")
            if not ctx.within_caps(spot.price_per_kwh):
                # Settled all the same: the caps guard what the home trades, not what it owes.
                _log.warning(
                    "unusual spot price %s %s/kWh for %s (message %s), outside the caps [%s, %s]",
                    spot.price_per_kwh,
                    spot.currency,
                    spot.interval,
                    message_id,
                    ctx.price_min_per_kwh,
                    ctx.price_max_per_kwh,
                )
            return Decoded(kind, message_id, spot)
        if kind is Inbound.TRANSACTION:
            tx = codec.decode_transaction(payload, ctx)
            self._check_transaction(tx)
            return Decoded(kind, tx.id, tx)
        tender = codec.decode_tender(payload, ctx)
        self._check_tender(kind, tender)
        return Decoded(kind, tender.id, tender)

    def _check_tender(self, kind: Inbound, t: Tender) -> None:
        home, retailer = self._s.home_party, self._s.retailer_party
        wanted = Product.TRANSPORT if kind is Inbound.TRANSPORT else Product.ENERGY
        if t.product is not wanted:
            raise CodecError("product", f"{t.product.value} tenders are not sent on {kind.value}", t.id)
        if t.party == home:
            raise CodecError("party", f"a tender from the home itself ({home}) is not offered to it", t.id)
        # Transport tenders come from the distribution operator, relayed by the retailer.
        if wanted is Product.ENERGY and t.party != retailer:
            raise CodecError("party", f"{t.party!r} is not the retailer {retailer!r}", t.id)
        if wanted is Product.TRANSPORT and t.party not in (retailer, self._s.distribution_party):
            raise CodecError(
                "party", f"{t.party!r} is neither the retailer nor the distribution operator", t.id
            )
        if t.counterparty is not None and t.counterparty != home:
            raise CodecError("counterparty", f"{t.counterparty!r} is not this home ({home})", t.id)

    def _check_transaction(self, tx: Transaction) -> None:
        home, retailer = self._s.home_party, self._s.retailer_party
        if not tx.involves(home):
            raise CodecError("buyer", f"neither buyer nor seller is this home ({home})", tx.id)
        other = tx.seller if tx.buyer == home else tx.buyer
        field = "seller" if tx.buyer == home else "buyer"
        if tx.product is Product.ENERGY and other != retailer:
            raise CodecError(field, f"{other!r} is not the retailer {retailer!r}", tx.id)
        if tx.product is Product.TRANSPORT and other not in (retailer, self._s.distribution_party):
            raise CodecError(field, f"{other!r} is neither the retailer nor the distribution operator", tx.id)

    # -- committing ------------------------------------------------------------------------

    async def _commit(self, d: Decoded) -> None:
        """Store ``d`` and hand it to the book; a CodecError if the ledger contradicts it."""
        rec = d.record
        try:
            if isinstance(rec, Tender):
                await self._ledger_call(self._ledger.add_received_tender, rec)
                self._book.add_tender(rec)
            elif isinstance(rec, SpotPrice):
                await self._ledger_call(
                    functools.partial(self._ledger.add_spot_price, message_id=d.message_id), rec
                )
                self._book.set_spot(rec)
            elif isinstance(rec, Transaction):
                # Booked only when it matches what the home did (agent.link.matching), judged in
                # the same ledger write that books it.
                match = functools.partial(matching.check, self._s)
                book = functools.partial(self._ledger.add_transaction, match=match, party=self._s.home_party)
                await self._ledger_call(book, rec)
                if self._is_own_tender(rec.tender_id):
                    await self._note_executed(rec)
                self._book.add_transaction(rec)
            else:
                await self._note_error_report(rec)
        except LedgerConflict as e:
            where = wire_key(e.field)
            reason = f"{d.kind.value} {e.key} was received before with a different {where}; the first stands"
            raise CodecError(where, reason, d.message_id) from e
        except LedgerValueError as e:
            raise CodecError(wire_key(e.field), e.reason, d.message_id) from e

    async def _note_executed(self, tx: Transaction) -> None:
        note = f"{tx.quantity_kw} kW in transaction {tx.id}"
        try:
            await self._ledger_call(
                self._ledger.add_tender_status, TenderStatus(tx.tender_id, "executed", tx.executed, note)
            )
        except LedgerConflict:
            # Two partial executions stamped with the same instant: the first status row stands,
            # the transactions themselves are both stored.
            _log.debug("tender %s: executed status at %s already recorded", tx.tender_id, tx.executed)

    async def _note_error_report(self, report: ErrorReport) -> None:
        try:
            await self._record_error_report(report)
        finally:
            # Counted once the report is fully handled, so a reader that sees the count also
            # sees the rejection in the ledger.
            self._counters.errors_in += 1

    async def _record_error_report(self, report: ErrorReport) -> None:
        self._once.warn(
            f"report:{field_label(report.field)}",
            "retailer could not use message %s on %s: %s: %s",
            report.message_id,
            clip(report.topic),
            clip(report.field),
            clip(report.error, 500),
        )
        if report.message_id is not None and self._is_own_tender(report.message_id):
            status = TenderStatus(
                report.message_id, "rejected", self._clock.now(), f"{report.field}: {report.error}"
            )
            await self._ledger_call(self._ledger.add_tender_status, status)

    async def _ledger_call(self, fn: Callable[[T], object], arg: T) -> None:
        try:
            await asyncio.wait_for(asyncio.to_thread(fn, arg), COMMIT_TIMEOUT_S)
        except TimeoutError as e:
            raise LinkTimeout(f"ledger write took longer than {COMMIT_TIMEOUT_S:g} s") from e

    async def _durably(self, what: str, step: Callable[[], Awaitable[None]]) -> None:
        """Run ``step`` until it succeeds: storage failures are retried, never dropped."""
        delay_s = RETRY_MIN_S
        while True:
            honour_cancellation()
            try:
                await step()
            except (LedgerConflict, LedgerValueError, CodecError):
                raise
            except (LedgerError, LinkError) as e:
                self._counters.commit_failures += 1
                self.degraded = True
                self._once.warn("commit", "%s failed, message held unacknowledged: %s", what, e)
                await self._clock.sleep(delay_s)
                delay_s = min(RETRY_MAX_S, delay_s * 2)
                continue
            if self.degraded:
                self.degraded = False
                self._once.recovered("commit", "ledger writes work again")
            return

    # -- rejecting -------------------------------------------------------------------------

    async def _reject(self, arrived: Arrived, e: CodecError) -> None:
        label = field_label(e.field)
        self._counters.count_rejected(arrived.label, label)
        self._once.warn(
            f"reject:{arrived.label}:{label}",
            "refused %s message on %s: %s",
            arrived.label,
            clip(arrived.topic),
            clip(e, 500),
        )
        report = ErrorReport(
            id=report_id(arrived.topic, e.message_id, arrived.payload),
            message_id=e.message_id,
            topic=clip(arrived.topic, 300),
            field=e.field,
            error=e.reason,
        )
        await self._durably(f"error reply to {e.message_id}", lambda: self._send_report(report))

    async def _send_report(self, report: ErrorReport) -> None:
        try:
            await self._reply(report)
        except OutboxConflict:
            # The same message was answered before with another text (say, an expiry that came
            # due meanwhile): the first answer stands, as it does for any repeated id.
            _log.debug("error report %s already queued with other content", report.id)
