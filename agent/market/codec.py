"""Strict JSON codec for the market records.

Decoding either returns a whole, valid record or raises :class:`CodecError` naming the field; it
never returns a partial record and lets no other exception escape. Prices and quantities travel as
decimal strings (numbers are accepted when finite); NaN and infinity are refused wherever they
appear, including as bare JSON constants.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

from agent.market import fields as f
from agent.market.errors import CodecError, IntervalError
from agent.market.intervals import Duration, Interval, interval_from_wire
from agent.market.jsontext import load_object
from agent.market.records import Delivery, Position, Product, Side, SpotPrice, Tender, Transaction

# A published spot price is settled whatever its value within this many times the trading caps
# (ERCOT's day-ahead price reached 8.99 $/kWh in February 2021, above the default cap of 5).
SPOT_SANITY_FACTOR = 10

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class CodecContext:
    """What a message is checked against: the site's zone and currency, price caps, time."""

    tz: ZoneInfo
    currency: str
    price_min_per_kwh: Decimal
    price_max_per_kwh: Decimal
    now: datetime | None = None  # None: do not check expiry (replaying stored records)
    shortest: Duration = Duration.PT5M

    @property
    def spot_bound_per_kwh(self) -> Decimal:
        """Spot prices beyond ±this are refused as garbage; between the caps and it, unusual."""
        return SPOT_SANITY_FACTOR * max(abs(self.price_min_per_kwh), abs(self.price_max_per_kwh))

    def within_caps(self, price_per_kwh: Decimal) -> bool:
        return self.price_min_per_kwh <= price_per_kwh <= self.price_max_per_kwh


def _interval(obj: Mapping[str, Any], ctx: CodecContext) -> Interval:
    try:
        interval = interval_from_wire(obj.get("interval"), ctx.tz)
    except IntervalError as e:
        raise CodecError(e.field, e.reason) from None
    if interval.duration.rank > ctx.shortest.rank:
        raise CodecError(
            "interval.duration", f"{interval.duration.value} is shorter than {ctx.shortest.value}"
        )
    return interval


def _price(obj: Mapping[str, Any], ctx: CodecContext) -> Decimal:
    price = f.decimal(obj, "price")
    if not ctx.within_caps(price):
        raise CodecError(
            "price",
            f"{price} is outside the configured caps [{ctx.price_min_per_kwh}, {ctx.price_max_per_kwh}]",
        )
    return price


def _currency(obj: Mapping[str, Any], ctx: CodecContext) -> str:
    currency = f.string(obj, "currency")
    if currency != ctx.currency:
        raise CodecError("currency", f"{currency!r} does not match the site currency {ctx.currency!r}")
    return currency


def _nodes(obj: Mapping[str, Any], product: Product) -> tuple[str | None, str | None]:
    if product is Product.TRANSPORT:
        return f.string(obj, "from"), f.string(obj, "to")
    for key in ("from", "to"):
        if key in obj:
            raise CodecError(key, "only a transport product names nodes")
    return None, None


def decode_object(
    raw: str | bytes | Mapping[str, Any],
    allowed: frozenset[str],
    build: Callable[[dict[str, Any]], T],
) -> T:
    """Load ``raw``, refuse unknown fields, and build the record, every error naming its field.

    The message's ``id`` (when it has one) goes with the error so the sender can match it; only an
    id that is itself valid is echoed back, a hostile one is not repeated.
    """
    obj = load_object(raw)
    try:
        message_id: str | None = f.ident(obj, "id") if "id" in allowed else None
    except CodecError:
        message_id = None
    try:
        f.only(obj, allowed)
        return build(obj)
    except CodecError as e:
        raise CodecError(e.field, e.reason, message_id) from None
    except (ArithmeticError, ValueError, UnicodeError) as e:
        # Every field reader refuses what it cannot take; this is the net under them, so that
        # nothing but a CodecError ever leaves the codec (a crash here stopped the link once).
        raise CodecError("message", f"cannot be decoded: {type(e).__name__}", message_id) from None


_TENDER_FIELDS = frozenset(
    {
        "id",
        "party",
        "counterparty",
        "side",
        "product",
        "interval",
        "quantity_kw",
        "price",
        "currency",
        "expires",
        "actionable",
        "from",
        "to",
    }
)


def decode_tender(raw: str | bytes | Mapping[str, Any], ctx: CodecContext) -> Tender:
    def build(obj: dict[str, Any]) -> Tender:
        product = f.enum(obj, "product", Product)
        from_node, to_node = _nodes(obj, product)
        expires = f.instant(obj, "expires")
        if ctx.now is not None and expires <= ctx.now:
            raise CodecError("expires", f"tender expired at {expires.isoformat()}")
        return Tender(
            id=f.ident(obj, "id"),
            party=f.ident(obj, "party"),
            counterparty=f.ident(obj, "counterparty") if obj.get("counterparty") is not None else None,
            side=f.enum(obj, "side", Side),
            product=product,
            interval=_interval(obj, ctx),
            quantity_kw=f.positive(obj, "quantity_kw"),
            price_per_kwh=_price(obj, ctx),
            currency=_currency(obj, ctx),
            expires=expires,
            actionable=f.boolean(obj, "actionable"),
            from_node=from_node,
            to_node=to_node,
        )

    return decode_object(raw, _TENDER_FIELDS, build)


_TRANSACTION_FIELDS = frozenset(
    {
        "id",
        "tender_id",
        "buyer",
        "seller",
        "product",
        "interval",
        "quantity_kw",
        "price",
        "currency",
        "executed",
        "from",
        "to",
    }
)


def decode_transaction(raw: str | bytes | Mapping[str, Any], ctx: CodecContext) -> Transaction:
    def build(obj: dict[str, Any]) -> Transaction:
        product = f.enum(obj, "product", Product)
        from_node, to_node = _nodes(obj, product)
        buyer, seller = f.ident(obj, "buyer"), f.ident(obj, "seller")
        if buyer == seller:
            raise CodecError("seller", "buyer and seller must differ")
        return Transaction(
            id=f.ident(obj, "id"),
            tender_id=f.ident(obj, "tender_id"),
            buyer=buyer,
            seller=seller,
            product=product,
            interval=_interval(obj, ctx),
            quantity_kw=f.positive(obj, "quantity_kw"),
            price_per_kwh=_price(obj, ctx),
            currency=_currency(obj, ctx),
            executed=f.instant(obj, "executed"),
            from_node=from_node,
            to_node=to_node,
        )

    return decode_object(raw, _TRANSACTION_FIELDS, build)


def decode_spot_price(raw: str | bytes | Mapping[str, Any], ctx: CodecContext) -> SpotPrice:
    def build(obj: dict[str, Any]) -> SpotPrice:
        f.ident(obj, "id")
        # Caps guard what the home trades; a published spot price is settled whatever its value,
        # only refused beyond a sanity bound an order of magnitude wider (the link logs it).
        interval = _interval(obj, ctx)
        price = f.decimal(obj, "price", ctx.spot_bound_per_kwh)
        return SpotPrice(interval=interval, price_per_kwh=price, currency=_currency(obj, ctx))

    return decode_object(raw, frozenset({"id", "interval", "price", "currency"}), build)


def decode_delivery(raw: str | bytes | Mapping[str, Any], ctx: CodecContext) -> Delivery:
    def build(obj: dict[str, Any]) -> Delivery:
        f.ident(obj, "id")
        return Delivery(
            interval=_interval(obj, ctx),
            party=f.ident(obj, "party"),
            import_kwh=f.non_negative(obj, "import_kwh"),
            export_kwh=f.non_negative(obj, "export_kwh"),
        )

    return decode_object(raw, frozenset({"id", "interval", "party", "import_kwh", "export_kwh"}), build)


def decode_position(raw: str | bytes | Mapping[str, Any], ctx: CodecContext) -> Position:
    def build(obj: dict[str, Any]) -> Position:
        f.ident(obj, "id")
        return Position(
            interval=_interval(obj, ctx),
            party=f.ident(obj, "party"),
            net_kw=f.decimal(obj, "net_kw", f.MAX_QUANTITY_KW),
        )

    return decode_object(raw, frozenset({"id", "interval", "party", "net_kw"}), build)


# --- encoding -------------------------------------------------------------------------------


def _dec(value: Decimal) -> str:
    return format(value, "f")


def _with_nodes(out: dict[str, Any], from_node: str | None, to_node: str | None) -> dict[str, Any]:
    if from_node is not None:
        out["from"] = from_node
    if to_node is not None:
        out["to"] = to_node
    return out


def encode_tender(t: Tender) -> dict[str, Any]:
    out: dict[str, Any] = {
        "id": t.id,
        "party": t.party,
        "counterparty": t.counterparty,
        "side": t.side.value,
        "product": t.product.value,
        "interval": t.interval.to_wire(),
        "quantity_kw": _dec(t.quantity_kw),
        "price": _dec(t.price_per_kwh),
        "currency": t.currency,
        "expires": t.expires.isoformat(),
        "actionable": t.actionable,
    }
    return _with_nodes(out, t.from_node, t.to_node)


def encode_transaction(t: Transaction) -> dict[str, Any]:
    out: dict[str, Any] = {
        "id": t.id,
        "tender_id": t.tender_id,
        "buyer": t.buyer,
        "seller": t.seller,
        "product": t.product.value,
        "interval": t.interval.to_wire(),
        "quantity_kw": _dec(t.quantity_kw),
        "price": _dec(t.price_per_kwh),
        "currency": t.currency,
        "executed": t.executed.isoformat(),
    }
    return _with_nodes(out, t.from_node, t.to_node)


def encode_spot_price(s: SpotPrice, message_id: str) -> dict[str, Any]:
    return {
        "id": message_id,
        "interval": s.interval.to_wire(),
        "price": _dec(s.price_per_kwh),
        "currency": s.currency,
    }


def encode_delivery(d: Delivery, message_id: str) -> dict[str, Any]:
    return {
        "id": message_id,
        "interval": d.interval.to_wire(),
        "party": d.party,
        "import_kwh": _dec(d.import_kwh),
        "export_kwh": _dec(d.export_kwh),
    }


def encode_position(p: Position, message_id: str) -> dict[str, Any]:
    return {"id": message_id, "interval": p.interval.to_wire(), "party": p.party, "net_kw": _dec(p.net_kw)}


def dumps(obj: Mapping[str, Any]) -> str:
    """Compact JSON text; refuses NaN so nothing we send would fail our own decoder."""
    return json.dumps(obj, separators=(",", ":"), allow_nan=False)
