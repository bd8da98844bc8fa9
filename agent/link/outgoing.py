"""Building and checking what the home sends, before it is queued.

Each outgoing message goes through our own strict decoder before it is queued, so the home never
sends what it would itself refuse; the protocol's rules about who may send what (quantities within
the tender and the config's limit, the home's own party) are checked here too. Failures are
:class:`~agent.link.errors.LinkRefused` naming the field.
"""

from __future__ import annotations

import hashlib
import uuid
from datetime import datetime
from decimal import Decimal

from agent.link.book import TenderBook
from agent.link.errors import LinkRefused
from agent.link.messages import (
    Acceptance,
    Cancellation,
    decode_acceptance,
    decode_cancellation,
    encode_acceptance,
    encode_cancellation,
)
from agent.link.settings import LinkSettings
from agent.market import codec
from agent.market.errors import CodecError
from agent.market.fields import MAX_IDENT_CHARS
from agent.market.records import Delivery, Tender


def derived_id(prefix: str, *parts: str) -> str:
    """A message id that is the same every time for the same thing (so a repeat is a duplicate)."""
    text = "-".join((prefix, *parts))
    if len(text) <= MAX_IDENT_CHARS and text.isprintable() and not any(c.isspace() for c in text):
        return text
    return f"{prefix}-{hashlib.sha256(text.encode()).hexdigest()[:40]}"


def _refuse(e: CodecError) -> LinkRefused:
    return LinkRefused(e.field, e.reason)


def acceptance(
    s: LinkSettings,
    book: TenderBook,
    tender_id: str,
    quantity_kw: Decimal,
    now: datetime,
    *,
    message_id: str | None = None,
) -> Acceptance:
    tender = book.tender(tender_id)
    if tender is None:
        raise LinkRefused("tender_id", f"{tender_id!r} is not in the book (never offered, or expired)")
    if tender.party == s.home_party:
        raise LinkRefused("tender_id", f"{tender_id!r} is the home's own tender")
    if not tender.actionable:
        raise LinkRefused("tender_id", f"{tender_id!r} is indicative, not actionable")
    if tender.is_expired(now):
        raise LinkRefused("tender_id", f"{tender_id!r} expired at {tender.expires.isoformat()}")
    if quantity_kw <= 0:
        raise LinkRefused("quantity_kw", f"must be > 0, got {quantity_kw}")
    if quantity_kw > s.max_tender_kw:
        raise LinkRefused("quantity_kw", f"{quantity_kw} exceeds market.max_tender_kw {s.max_tender_kw}")
    available = book.available_kw(tender_id)
    if quantity_kw > available:
        raise LinkRefused(
            "quantity_kw", f"{quantity_kw} exceeds the {available} kW still open on {tender_id}"
        )
    a = Acceptance(
        id=message_id or f"acc-{uuid.uuid4().hex}",
        tender_id=tender_id,
        party=s.home_party,
        quantity_kw=quantity_kw,
        sent=now,
    )
    try:
        decode_acceptance(encode_acceptance(a))
    except CodecError as e:
        raise _refuse(e) from e
    return a


def check_own_tender(s: LinkSettings, t: Tender, now: datetime) -> None:
    if t.party != s.home_party:
        raise LinkRefused("party", f"{t.party!r} is not this home ({s.home_party})")
    if t.counterparty is not None and t.counterparty != s.retailer_party:
        raise LinkRefused("counterparty", f"{t.counterparty!r} is not the retailer {s.retailer_party!r}")
    if t.quantity_kw > s.max_tender_kw:
        raise LinkRefused("quantity_kw", f"{t.quantity_kw} exceeds market.max_tender_kw {s.max_tender_kw}")
    try:
        codec.decode_tender(codec.encode_tender(t), s.codec_context(now))
    except CodecError as e:
        raise _refuse(e) from e


def cancellation(s: LinkSettings, book: TenderBook, tender_id: str, now: datetime) -> Cancellation:
    tender = book.tender(tender_id)
    if tender is None or tender.party != s.home_party:
        raise LinkRefused("tender_id", f"{tender_id!r} is not an open tender the home posted")
    c = Cancellation(id=derived_id("cancel", tender_id), tender_id=tender_id, party=s.home_party, sent=now)
    try:
        decode_cancellation(encode_cancellation(c))
    except CodecError as e:
        raise _refuse(e) from e
    return c


def delivery_id(d: Delivery) -> str:
    start = d.interval.start_utc.strftime("%Y%m%dT%H%M%SZ")
    return derived_id("delivery", d.party, start, d.interval.duration.value)


def check_delivery(s: LinkSettings, d: Delivery) -> str:
    """The delivery's message id (one per party and interval); refuses another party's."""
    if d.party != s.home_party:
        raise LinkRefused("party", f"{d.party!r} is not this home ({s.home_party})")
    message_id = delivery_id(d)
    try:
        codec.decode_delivery(codec.encode_delivery(d, message_id), s.codec_context(None))
    except CodecError as e:
        raise _refuse(e) from e
    return message_id
