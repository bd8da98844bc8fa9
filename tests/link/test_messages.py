"""The link's own message decoders: strict, typed errors naming the field, and nothing else
escapes (fuzzed with hypothesis); what we encode, we decode to the same record."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from agent.link import messages as m
from agent.market.errors import CodecError

SENT = datetime(2026, 6, 1, 8, 0, tzinfo=UTC)

ACCEPTANCE = m.Acceptance("a-1", "t-1", "home-1", Decimal("2.5"), SENT)
CANCELLATION = m.Cancellation("c-1", "t-9", "home-1", SENT)
REPORT = m.ErrorReport("e-1", None, "tem/retailer/home-1/to-home/tender", "price", "outside the caps")
HEARTBEAT = m.Heartbeat("home-1", m.LinkState.DEGRADED, SENT, "0.1.0", 3, 7)

CASES: list[tuple[Any, Callable[[Any], dict[str, Any]], Callable[[Any], Any]]] = [
    (ACCEPTANCE, m.encode_acceptance, m.decode_acceptance),
    (CANCELLATION, m.encode_cancellation, m.decode_cancellation),
    (REPORT, m.encode_error_report, m.decode_error_report),
    (HEARTBEAT, m.encode_heartbeat, m.decode_heartbeat),
]
DECODERS = [decode for _, _, decode in CASES]

json_scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=40),
    st.sampled_from(["", " ", "1e999999", "-0", "NaN", "2026-06-01T08:00:00", "2026-06-01T08:00:00+02:00"]),
)
json_values = st.recursive(
    json_scalars,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3),
    max_leaves=8,
)


@pytest.mark.parametrize(("record", "encode", "decode"), CASES)
def test_round_trip(
    record: Any, encode: Callable[[Any], dict[str, Any]], decode: Callable[[Any], Any]
) -> None:
    assert decode(json.dumps(encode(record))) == record


@pytest.mark.parametrize(
    ("decode", "obj", "field"),
    [
        (m.decode_acceptance, {**m.encode_acceptance(ACCEPTANCE), "quantity_kw": "0"}, "quantity_kw"),
        (m.decode_acceptance, {**m.encode_acceptance(ACCEPTANCE), "sent": "2026-06-01T08:00:00"}, "sent"),
        (m.decode_acceptance, {**m.encode_acceptance(ACCEPTANCE), "extra": 1}, "extra"),
        (
            m.decode_cancellation,
            {k: v for k, v in m.encode_cancellation(CANCELLATION).items() if k != "tender_id"},
            "tender_id",
        ),
        (m.decode_error_report, {**m.encode_error_report(REPORT), "error": "x" * 501}, "error"),
        (m.decode_heartbeat, {**m.encode_heartbeat(HEARTBEAT), "state": "sleepy"}, "state"),
        (m.decode_heartbeat, {**m.encode_heartbeat(HEARTBEAT), "outbox_pending": 1.5}, "outbox_pending"),
    ],
)
def test_bad_field_is_named(decode: Callable[[Any], Any], obj: dict[str, Any], field: str) -> None:
    with pytest.raises(CodecError) as e:
        decode(json.dumps(obj))
    assert e.value.field == field


def test_error_names_the_message_id_when_valid() -> None:
    obj = {**m.encode_acceptance(ACCEPTANCE), "quantity_kw": "-1"}
    with pytest.raises(CodecError) as e:
        m.decode_acceptance(obj)
    assert e.value.message_id == "a-1"


@settings(max_examples=200, deadline=None)
@given(
    index=st.integers(min_value=0, max_value=len(CASES) - 1),
    key=st.text(max_size=12),
    value=json_values,
    drop=st.booleans(),
)
def test_mutated_messages_decode_or_raise_codec_error(index: int, key: str, value: Any, drop: bool) -> None:
    # Guards against a decoder that lets a KeyError/TypeError/InvalidOperation escape, or that
    # accepts a broken value: whatever it returns must be a whole record that encodes again.
    record, encode, decode = CASES[index]
    obj = encode(record)
    keys = sorted(obj)
    target = keys[sum(map(ord, key)) % len(keys)] if key.startswith("@") else key
    if drop and target in obj:
        del obj[target]
    else:
        obj[target] = value
    try:
        text = json.dumps(obj)
    except (TypeError, ValueError):
        return
    try:
        out = decode(text)
    except CodecError as e:
        assert isinstance(e.field, str) and str(e)  # an unknown key "" is named as ""
        return
    assert decode(json.dumps(encode(out))) == out


@settings(max_examples=200, deadline=None)
@given(
    index=st.integers(min_value=0, max_value=len(DECODERS) - 1),
    raw=st.binary(max_size=200) | st.text(max_size=200),
)
def test_arbitrary_bytes_only_raise_codec_error(index: int, raw: bytes | str) -> None:
    try:
        DECODERS[index](raw)
    except CodecError as e:
        assert e.field


@settings(max_examples=100, deadline=None)
@given(
    q=st.decimals(min_value=Decimal("0.001"), max_value=Decimal(1000), places=3),
    minutes=st.integers(-720, 720),
)
def test_acceptance_round_trip_over_values(q: Decimal, minutes: int) -> None:
    a = m.Acceptance("a-2", "t-2", "home-1", q, SENT + timedelta(minutes=minutes))
    assert m.decode_acceptance(json.dumps(m.encode_acceptance(a))) == a
