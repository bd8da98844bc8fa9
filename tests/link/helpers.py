"""Records and wire payloads for the link tests, around one clock and one home."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from agent.link.settings import LinkSettings
from agent.market import codec
from agent.market.intervals import Duration, Interval, containing
from agent.market.records import Delivery, Product, Side, SpotPrice, Tender, Transaction

BERLIN = ZoneInfo("Europe/Berlin")
HOME = "home-1"
RETAILER = "retailer"
START = datetime(2026, 6, 1, 8, 0, tzinfo=UTC)
_ids = itertools.count(1)


def settings(**overrides: Any) -> LinkSettings:
    fields: dict[str, Any] = {
        "tz": BERLIN,
        "currency": "EUR",
        "price_min_per_kwh": Decimal("-1.00"),
        "price_max_per_kwh": Decimal("5.00"),
        "home_party": HOME,
        "retailer_party": RETAILER,
        "max_tender_kw": Decimal(10),
        "shortest": Duration.PT15M,
        "topic_prefix": "tem/retailer",
        "heartbeat_s": 30.0,
    }
    fields.update(overrides)
    return LinkSettings(**fields)


def hour(now: datetime, ahead_h: int = 1) -> Interval:
    return containing(now + timedelta(hours=ahead_h), Duration.PT1H, BERLIN)


def tender(now: datetime, **overrides: Any) -> Tender:
    fields: dict[str, Any] = {
        "id": f"t-{next(_ids)}",
        "party": RETAILER,
        "counterparty": None,
        "side": Side.SELL,
        "product": Product.ENERGY,
        "interval": hour(now),
        "quantity_kw": Decimal("3"),
        "price_per_kwh": Decimal("0.25"),
        "currency": "EUR",
        "expires": now + timedelta(minutes=30),
        "actionable": True,
    }
    fields.update(overrides)
    return Tender(**fields)


def own_tender(now: datetime, **overrides: Any) -> Tender:
    return tender(now, **{"party": HOME, "side": Side.BUY, "price_per_kwh": Decimal("0.18"), **overrides})


def tender_json(t: Tender) -> dict[str, Any]:
    return codec.encode_tender(t)


def confirming(t: Tender, quantity_kw: Decimal, executed: datetime, tx_id: str | None = None) -> Transaction:
    """The retailer's transaction for the home's acceptance of ``t`` (or its acceptance of the home's)."""
    home_buys = (t.party == RETAILER) == (t.side is Side.SELL)
    return Transaction(
        id=tx_id or f"tx-{next(_ids)}",
        tender_id=t.id,
        buyer=HOME if home_buys else RETAILER,
        seller=RETAILER if home_buys else HOME,
        product=t.product,
        interval=t.interval,
        quantity_kw=quantity_kw,
        price_per_kwh=t.price_per_kwh,
        currency=t.currency,
        executed=executed,
    )


def spot(now: datetime, price: str = "0.30") -> tuple[SpotPrice, dict[str, Any]]:
    s = SpotPrice(containing(now, Duration.PT15M, BERLIN), Decimal(price), "EUR")
    return s, codec.encode_spot_price(s, f"spot-{next(_ids)}")


def delivery(now: datetime) -> Delivery:
    interval = containing(now - timedelta(minutes=15), Duration.PT15M, BERLIN)
    return Delivery(interval, HOME, Decimal("0.75"), Decimal("0.10"))
