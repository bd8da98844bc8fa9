"""The strict JSON codec: every bad field is a CodecError naming it; nothing else escapes."""

from __future__ import annotations

import contextlib
import json
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from agent.market.codec import (
    CodecContext,
    decode_delivery,
    decode_position,
    decode_spot_price,
    decode_tender,
    decode_transaction,
    dumps,
    encode_delivery,
    encode_position,
    encode_spot_price,
    encode_tender,
    encode_transaction,
)
from agent.market.errors import CodecError
from agent.market.records import Product, Side

BERLIN = ZoneInfo("Europe/Berlin")
NOW = datetime(2026, 6, 1, 10, 0, tzinfo=UTC)
CTX = CodecContext(
    tz=BERLIN, currency="EUR", price_min_per_kwh=Decimal("-0.50"), price_max_per_kwh=Decimal("2.00"), now=NOW
)


def tender(**changes: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "id": "t-1",
        "party": "retailer",
        "counterparty": "home-1",
        "side": "sell",
        "product": "energy",
        "interval": {"start": "2026-06-01T14:00:00+02:00", "duration": "PT1H"},
        "quantity_kw": "2.5",
        "price": "0.2310",
        "currency": "EUR",
        "expires": "2026-06-01T13:00:00+02:00",
        "actionable": True,
    }
    base.update(changes)
    return {k: v for k, v in base.items() if v is not ...}


def transaction(**changes: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "id": "x-1",
        "tender_id": "t-1",
        "buyer": "home-1",
        "seller": "retailer",
        "product": "energy",
        "interval": {"start": "2026-06-01T14:00:00+02:00", "duration": "PT1H"},
        "quantity_kw": "2.5",
        "price": "0.2310",
        "currency": "EUR",
        "executed": "2026-06-01T12:01:00+02:00",
    }
    base.update(changes)
    return base


def test_tender_decodes_and_round_trips() -> None:
    t = decode_tender(json.dumps(tender()), CTX)
    assert t.side is Side.SELL and t.product is Product.ENERGY
    assert t.quantity_kw == Decimal("2.5") and t.price_per_kwh == Decimal("0.2310")
    assert t.energy_kwh == Decimal("2.5")
    assert t.interval.start.isoformat() == "2026-06-01T14:00:00+02:00"
    assert decode_tender(dumps(encode_tender(t)), CTX) == t


def test_transaction_round_trip_and_money() -> None:
    x = decode_transaction(transaction(), CTX)
    assert x.signed_kw("home-1") == Decimal("2.5")
    assert x.signed_kw("retailer") == Decimal("-2.5")
    assert x.amount_owed("home-1") == Decimal("0.57750")
    assert decode_transaction(dumps(encode_transaction(x)), CTX) == x


def test_transport_tender_needs_nodes() -> None:
    t = decode_tender(tender(product="transport", **{"from": "grid", "to": "home-1"}), CTX)
    assert (t.from_node, t.to_node) == ("grid", "home-1")
    with pytest.raises(CodecError) as err:
        decode_tender(tender(product="transport"), CTX)
    assert err.value.field == "from"
    with pytest.raises(CodecError) as err:
        decode_tender(tender(**{"to": "home-1"}), CTX)
    assert err.value.field == "to"


def test_position_round_trip_allows_a_net_sale() -> None:
    position = decode_position(
        {
            "id": "p-1",
            "interval": {"start": "2026-06-01T14:05:00+02:00", "duration": "PT5M"},
            "party": "home-1",
            "net_kw": "-1.5",
        },
        CTX,
    )
    assert position.energy_kwh == Decimal("-0.125")
    assert decode_position(encode_position(position, "p-1"), CTX) == position
    with pytest.raises(CodecError) as err:
        decode_position(dict(encode_position(position, "p-1"), net_kw="nan"), CTX)
    assert err.value.field == "net_kw"


def test_spot_price_and_delivery_round_trip() -> None:
    spot = decode_spot_price(
        {
            "id": "s-1",
            "interval": {"start": "2026-06-01T14:05:00+02:00", "duration": "PT5M"},
            "price": "0.1",
            "currency": "EUR",
        },
        CTX,
    )
    assert decode_spot_price(encode_spot_price(spot, "s-1"), CTX) == spot
    delivery = decode_delivery(
        {
            "id": "d-1",
            "interval": {"start": "2026-06-01T14:05:00+02:00", "duration": "PT5M"},
            "party": "home-1",
            "import_kwh": "0.125",
            "export_kwh": 0,
        },
        CTX,
    )
    assert delivery.net_kwh == Decimal("0.125")
    assert decode_delivery(encode_delivery(delivery, "d-1"), CTX) == delivery


BAD_TENDERS = [
    # (the change, the field the error must name, words in the message)
    ({"colour": "red"}, "colour", "unknown field"),
    ({"quantity_kw": "0"}, "quantity_kw", "> 0"),
    ({"quantity_kw": "-1"}, "quantity_kw", "> 0"),
    ({"quantity_kw": "NaN"}, "quantity_kw", "finite"),
    ({"quantity_kw": "Infinity"}, "quantity_kw", "finite"),
    ({"quantity_kw": True}, "quantity_kw", "decimal string or number"),
    ({"quantity_kw": "1" * 100}, "quantity_kw", "longer than"),
    ({"price": "0.2.3"}, "price", "not a decimal"),
    ({"price": "9.99"}, "price", "outside the configured caps"),
    ({"price": "-3"}, "price", "outside the configured caps"),
    ({"price": ...}, "price", "missing"),
    ({"side": "hold"}, "side", "not one of"),
    ({"side": 1}, "side", "must be a string"),
    ({"currency": "USD"}, "currency", "does not match"),
    ({"expires": "2026-06-01T11:00:00+02:00"}, "expires", "expired"),
    ({"expires": "2026-06-01T13:00:00"}, "expires", "no UTC offset"),
    ({"actionable": "yes"}, "actionable", "true or false"),
    ({"id": ""}, "id", "empty"),
    ({"id": "a b"}, "id", "without spaces"),
    ({"id": "x" * 200}, "id", "longer than"),
    (
        {"interval": {"start": "2026-06-01T14:07:00+02:00", "duration": "PT5M"}},
        "interval.start",
        "not aligned",
    ),
    (
        {"interval": {"start": "2026-06-01T14:00:00+02:00", "duration": "PT2H"}},
        "interval.duration",
        "unknown",
    ),
    (
        {"interval": {"start": "2026-06-01T14:00:00+02:00", "duration": "PT4S"}},
        "interval.duration",
        "shorter",
    ),
    ({"interval": "2026-06-01T14:00:00+02:00/PT1H"}, "interval", "must be an object"),
]


@pytest.mark.parametrize(("change", "field", "words"), BAD_TENDERS)
def test_bad_tender_names_the_field(change: dict[str, Any], field: str, words: str) -> None:
    with pytest.raises(CodecError) as err:
        decode_tender(json.dumps(tender(**change)), CTX)
    assert err.value.field == field
    assert words in str(err.value)
    assert err.value.message_id in ("t-1", None)


@pytest.mark.parametrize(
    "raw",
    ['{"id": NaN}', '{"quantity_kw": Infinity}', "[1, 2]", "not json", '"text"', b"\xff\xfe", "{" * 100000],
)
def test_malformed_messages(raw: str | bytes) -> None:
    with pytest.raises(CodecError) as err:
        decode_tender(raw, CTX)
    assert err.value.field == "message"


def test_transaction_buyer_and_seller_must_differ() -> None:
    with pytest.raises(CodecError) as err:
        decode_transaction(transaction(seller="home-1"), CTX)
    assert err.value.field == "seller"


def test_expiry_is_not_checked_when_replaying() -> None:
    replay = CodecContext(
        tz=BERLIN, currency="EUR", price_min_per_kwh=Decimal(-1), price_max_per_kwh=Decimal(1)
    )
    assert decode_tender(tender(expires="2020-01-01T00:00:00Z"), replay).id == "t-1"


def test_dumps_refuses_nan() -> None:
    with pytest.raises(ValueError, match="not JSON compliant"):
        dumps({"x": float("nan")})


# --- fuzzing: only CodecError may escape ----------------------------------------------------

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=30),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4)
    ),
    max_leaves=12,
)


@settings(max_examples=400, deadline=None)
@given(key=st.sampled_from([*sorted(tender().keys()), "extra"]), value=json_values)
def test_fuzz_one_field(key: str, value: Any) -> None:
    message = tender(**{key: value})
    try:
        decoded = decode_tender(json.dumps(message), CTX)
    except CodecError as e:
        assert e.field
        return
    # Whatever got through is a whole, valid tender.
    assert decoded.quantity_kw > 0
    assert CTX.price_min_per_kwh <= decoded.price_per_kwh <= CTX.price_max_per_kwh


@settings(max_examples=300, deadline=None)
@given(message=st.dictionaries(st.sampled_from([*tender().keys(), "x"]), json_values, max_size=12))
def test_fuzz_whole_object(message: dict[str, Any]) -> None:
    for decode in (decode_tender, decode_transaction, decode_spot_price, decode_delivery, decode_position):
        with contextlib.suppress(CodecError):
            decode(json.dumps(message), CTX)


@settings(max_examples=300, deadline=None)
@given(raw=st.binary(max_size=200) | st.text(max_size=200))
def test_fuzz_raw_bytes(raw: bytes | str) -> None:
    with pytest.raises(CodecError):
        decode_tender(raw, CTX)
