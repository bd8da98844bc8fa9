"""Builders shared by the ledger tests."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

from agent.market.intervals import Duration, Interval, containing
from agent.market.records import Product, SpotPrice, Transaction
from agent.market.settlement import MeterReading

BERLIN = ZoneInfo("Europe/Berlin")
HOME = "home-1"
RETAILER = "retailer"
EXECUTED = datetime(2026, 3, 1, tzinfo=UTC)


def at(text: str) -> datetime:
    """An instant written in Berlin local time with its offset, e.g. '2026-03-29T01:55+01:00'."""
    return datetime.fromisoformat(text)


def block(start: str, duration: Duration) -> Interval:
    return containing(at(start), duration, BERLIN)


def tx(
    tid: str,
    interval: Interval,
    qty: str,
    price: str = "0.30",
    *,
    buyer: str = HOME,
    seller: str = RETAILER,
    product: Product = Product.ENERGY,
    currency: str = "EUR",
) -> Transaction:
    return Transaction(
        id=tid,
        tender_id=f"tender-{tid}",
        buyer=buyer,
        seller=seller,
        product=product,
        interval=interval,
        quantity_kw=Decimal(qty),
        price_per_kwh=Decimal(price),
        currency=currency,
        executed=EXECUTED,
        from_node="grid" if product is Product.TRANSPORT else None,
        to_node="home" if product is Product.TRANSPORT else None,
    )


def reading(ts: datetime, imp: str, exp: str = "0", source: str = "grid-meter") -> MeterReading:
    return MeterReading(source=source, ts=ts, import_kwh=Decimal(imp), export_kwh=Decimal(exp))


def spot(interval: Interval, price: str, currency: str = "EUR") -> SpotPrice:
    return SpotPrice(interval=interval, price_per_kwh=Decimal(price), currency=currency)
