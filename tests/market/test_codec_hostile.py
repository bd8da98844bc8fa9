"""Hostile payloads against the codec: each becomes a CodecError naming the field, never an
OverflowError, ValueError or UnicodeEncodeError (which once killed the link's inbox for good),
and nothing unbounded gets through to Decimal arithmetic later."""

from __future__ import annotations

import contextlib
import json
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from agent.link.messages import ErrorReport, decode_error_report, encode_error_report
from agent.market.codec import decode_spot_price, decode_tender, decode_transaction
from agent.market.errors import CodecError
from agent.market.fields import key_path
from agent.market.jsontext import load_object
from tests.market.test_codec import CTX, tender, transaction


def _spot(**changes: Any) -> dict[str, Any]:
    base = {
        "id": "s-1",
        "interval": {"start": "2026-06-01T14:00:00+02:00", "duration": "PT15M"},
        "price": "0.30",
        "currency": "EUR",
    }
    return {**base, **changes}


def _raw(obj: dict[str, Any]) -> bytes:
    # json.dumps escapes a lone surrogate as "\udc80": exactly what a hostile sender writes.
    return json.dumps(obj).encode()


# The seven payloads that killed the inbox task (calendar edges and lone surrogates).
KILLERS = [
    pytest.param(
        decode_tender,
        tender(interval={"start": "9999-12-31T23:00:00+00:00", "duration": "PT1H"}),
        "interval.start",
        id="interval-at-the-end-of-the-calendar",
    ),
    pytest.param(
        decode_tender, tender(expires="9999-12-31T23:00:00-05:00"), "expires", id="expires-past-max"
    ),
    pytest.param(
        decode_tender,
        tender(interval={"start": "9999-01-01T00:00:00+01:00", "duration": "P1Y"}),
        "interval.start",
        id="a-year-from-9999",
    ),
    pytest.param(
        decode_spot_price,
        _spot(interval={"start": "0001-01-01T00:00:00+00:00", "duration": "PT15M"}),
        "interval.start",
        id="spot-at-year-one",
    ),
    pytest.param(
        decode_transaction,
        transaction(executed="0001-01-01T00:00:00+01:00"),
        "executed",
        id="executed-year-one",
    ),
    pytest.param(
        decode_tender,
        tender(product="transport", **{"from": "grid\udc80", "to": "home-1"}),
        "message",
        id="lone-surrogate-in-from",
    ),
]


@pytest.mark.parametrize(("decode", "obj", "field"), KILLERS)
def test_payloads_that_killed_the_inbox_are_codec_errors(
    decode: Any, obj: dict[str, Any], field: str
) -> None:
    with pytest.raises(CodecError) as err:
        decode(_raw(obj), CTX)
    assert err.value.field == field


def test_a_lone_surrogate_in_an_error_report_is_a_codec_error() -> None:
    raw = _raw({"id": "e-1", "message_id": None, "topic": "t", "field": "price", "error": "bad \udc80"})
    with pytest.raises(CodecError) as err:
        decode_error_report(raw)
    assert err.value.field == "message"


@pytest.mark.parametrize(
    ("quantity", "field"),
    [
        ("1e999999999", "quantity_kw"),
        ("9e999999", "quantity_kw"),
        ("100001", "quantity_kw"),
        ("1_000", "quantity_kw"),
        ("١٢٣", "quantity_kw"),  # Arabic-Indic digits: Decimal() takes them
        (" 1", "quantity_kw"),
        ("+1", "quantity_kw"),
        ("0.0000000000001", "quantity_kw"),  # 13 places
        ("Infinity", "quantity_kw"),
        ("sNaN", "quantity_kw"),
    ],
)
def test_quantities_outside_the_bounds_or_grammar_are_refused(quantity: str, field: str) -> None:
    with pytest.raises(CodecError) as err:
        decode_tender(_raw(tender(quantity_kw=quantity)), CTX)
    assert err.value.field == field


@pytest.mark.parametrize("quantity", ["100000", "0.000000000001", "2.5e1", "1E+2", 3, 2.5])
def test_quantities_inside_the_bounds_are_read_exactly(quantity: Any) -> None:
    t = decode_tender(_raw(tender(quantity_kw=quantity)), CTX)
    assert t.quantity_kw == Decimal(str(quantity))


def test_a_huge_transaction_quantity_is_refused_before_it_can_overflow() -> None:
    with pytest.raises(CodecError) as err:
        decode_transaction(_raw(transaction(quantity_kw="9e999999")), CTX)
    assert err.value.field == "quantity_kw"


@pytest.mark.parametrize(
    ("raw", "words"),
    [
        (b"\xef\xbb\xbf" + _raw(tender()), "byte-order mark"),
        (json.dumps(tender()).encode("utf-16"), "UTF-8"),
        (json.dumps(tender()).encode("utf-16-le"), "UTF-8"),
        (json.dumps(tender()).encode("utf-32"), "UTF-8"),
        (b'{"id": "t-1", "id": "t-2"}', "duplicate key 'id'"),
        (b'{"id": "t-1", "interval": {"start": "a", "start": "b"}}', "duplicate key 'start'"),
        (b'{"id": "t-1", "x": ["ok", "\\ud800"]}', "lone surrogate"),
        (b'{"\\udc80": 1}', "lone surrogate"),
        (b'{"id": "\xff"}', "not UTF-8"),
        (b"[" * 100_000, "larger than"),
        (b"[" * 60_000, "not valid JSON"),
    ],
)
def test_encodings_and_json_shapes_outside_the_contract_name_the_message(raw: bytes, words: str) -> None:
    with pytest.raises(CodecError) as err:
        load_object(raw)
    assert err.value.field == "message"
    assert words in err.value.reason


def test_an_unknown_key_is_named_escaped_and_bounded() -> None:
    key = 'a",kind="spot\n' + "x" * 60_000
    with pytest.raises(CodecError) as err:
        decode_tender(_raw(tender(**{key: 1})), CTX)
    assert len(err.value.field) < 120
    assert "\n" not in err.value.field and err.value.field.startswith('a",kind="spot\\x0a')


def test_spot_prices_beyond_the_caps_are_read_within_ten_times_them() -> None:
    # The caps are -0.50..2.00: a spot of 9.00 is settled (ERCOT reached 8.99 $/kWh in 2021);
    # 20.00 is the bound; beyond it a price is garbage.
    assert decode_spot_price(_raw(_spot(price="9.00")), CTX).price_per_kwh == Decimal("9.00")
    assert decode_spot_price(_raw(_spot(price="-5.00")), CTX).price_per_kwh == Decimal("-5.00")
    assert decode_spot_price(_raw(_spot(price="20.00")), CTX).price_per_kwh == Decimal("20.00")
    with pytest.raises(CodecError) as err:
        decode_spot_price(_raw(_spot(price="20.01")), CTX)
    assert err.value.field == "price"
    # What the home trades stays within the caps.
    with pytest.raises(CodecError) as err:
        decode_tender(_raw(tender(price="9.00")), CTX)
    assert err.value.field == "price"


def test_an_error_report_for_an_empty_key_round_trips() -> None:
    report = ErrorReport("err-1", "t-1", "tem/retailer/home-1/to-home/tender", "", "unknown field")
    assert decode_error_report(json.dumps(encode_error_report(report))) == report


JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3),
    max_leaves=8,
)
KEYS = st.sampled_from(sorted(tender())) | st.text(max_size=10)


@settings(max_examples=300, deadline=None)
@given(
    changes=st.dictionaries(KEYS, JSON_VALUES, max_size=4), drop=st.sets(st.sampled_from(sorted(tender())))
)
def test_any_change_to_a_tender_is_a_record_or_a_codec_error(changes: dict[str, Any], drop: set[str]) -> None:
    obj = {k: v for k, v in {**tender(), **changes}.items() if k not in drop}
    raw = json.dumps(obj, allow_nan=True).encode()
    try:
        t = decode_tender(raw, CTX)
    except CodecError as e:
        # A key path of the tender (present or missing), an odd key escaped, or the message.
        paths = {"message", "interval.start", "interval.duration", *tender()} | {key_path(k) for k in obj}
        assert e.field in paths
        return
    assert CTX.price_min_per_kwh <= t.price_per_kwh <= CTX.price_max_per_kwh
    assert 0 < t.quantity_kw <= 100_000


@settings(max_examples=300, deadline=None)
@given(raw=st.binary(max_size=200) | st.text(max_size=200).map(lambda s: s.encode("utf-8", "surrogatepass")))
def test_any_bytes_are_a_record_or_a_codec_error(raw: bytes) -> None:
    for decode in (decode_tender, decode_transaction, decode_spot_price):
        with contextlib.suppress(CodecError):
            decode(raw, CTX)
