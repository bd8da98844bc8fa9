"""Honest and hostile retailer messages for the fuzz test, as hypothesis strategies.

Each message is ``(kind, payload bytes)`` for ``<P>/to-home/<kind>``. The categories of the
published fuzz corpus: types, JSON and encodings, sizes and nesting, missing and unknown fields,
ids, NaN/Inf, quantities, price caps and legal negative prices, intervals at the calendar's edges
and across DST, expiry, replays, transactions, spot, error reports, transport, party, currency,
topics. Ids come from a small pool, so repeats with the same or other content happen often.
"""

from __future__ import annotations

import json
from datetime import timedelta
from decimal import Decimal
from typing import Any

from hypothesis import strategies as st

from agent.market.intervals import Duration, containing
from tests.link import helpers as h

Message = tuple[str, bytes]

ACCEPTED_ID = "t-accepted"  # a retailer tender the home accepted 2 kW of (3 kW at 0.25)
POSTED_ID = "h-posted"  # a tender the home posted (buys 2 kW at 0.18)

_HOURS = [containing(h.START + timedelta(hours=k), Duration.PT1H, h.BERLIN) for k in range(1, 30)]
_QUARTERS = [containing(h.START + timedelta(minutes=15 * k), Duration.PT15M, h.BERLIN) for k in range(-8, 24)]


def _decimal(lo: int, hi: int, places: int) -> st.SearchStrategy[str]:
    """Decimal strings ``lo/10^places .. hi/10^places`` (cheaper to draw than st.decimals)."""
    return st.integers(lo, hi).map(lambda n: str(Decimal(n).scaleb(-places)))


_honest_ids = st.builds("{}-{}".format, st.sampled_from("abcd"), st.integers(0, 2000))
ids = st.one_of(
    _honest_ids,
    _honest_ids,
    _honest_ids,
    _honest_ids,
    _honest_ids,
    _honest_ids,
    st.sampled_from(["", " ", "x y", "a" * 129, "grid\udc80", "\u202eevil", "\x1b[31mred", "id\nforged"]),
    st.text(max_size=12),
    st.integers(),
    st.none(),
)
parties = st.sampled_from(["retailer", "dso", h.HOME, "home-2", "", "retailer\udc80", "Retailer", None, 7])
numbers = st.one_of(
    _decimal(-20_000, 60_000, 4),  # around the caps (-1..5), legal negative prices among them
    _decimal(0, 12_000, 3),
    st.sampled_from(
        [
            "1e999999999",
            "9e999999",
            "1_000",
            "١٢٣",
            " 1",
            "+1",
            "NaN",
            "Infinity",
            "-Infinity",
            "-0",
            "0",
            "0.0000000000001",
            "100001",
            "5.00",
            "5.0001",
            "-1.00",
            "-1.0001",
            "50",
            "50.01",
            "-50.01",
            "1" * 50,
        ]
    ),
    st.integers(min_value=-(10**7), max_value=10**7),
    st.floats(allow_nan=True, allow_infinity=True),
    st.booleans(),
    st.none(),
    st.lists(st.integers(), max_size=2),
)
honest_instants = st.integers(-7200, 2 * 86400).map(lambda s: (h.START + timedelta(seconds=s)).isoformat())
edge_instants = st.sampled_from(
    [
        "9999-12-31T23:00:00+00:00",
        "9999-12-31T23:00:00-05:00",
        "9999-01-01T00:00:00+01:00",
        "0001-01-01T00:00:00+01:00",
        "0001-01-01T00:00:00+00:00",
        "1970-01-01T00:00:00+00:00",
        "2026-03-29T02:30:00+02:00",  # a local time the spring change skips
        "2026-03-29T03:00:00+02:00",
        "2026-10-25T02:00:00+02:00",  # the autumn hour, first and second time
        "2026-10-25T02:00:00+01:00",
        "2026-06-01T10:00:00",  # no offset
        "２０２６-06-01T10:00:00+00:00",
        "2026-06-01T10:00:00+24:00",
        "not a date",
        "",
    ]
)
instants = st.one_of(honest_instants, edge_instants, st.integers(), st.none())
durations = st.sampled_from(["PT1H", "PT15M", "PT5M", "PT1M", "PT4S", "P1D", "P1M", "P1Y", "PT2H", "", "1h"])
honest_intervals = st.sampled_from([i.to_wire() for i in _HOURS])
intervals: st.SearchStrategy[Any] = st.one_of(
    honest_intervals,
    st.sampled_from([i.to_wire() for i in _QUARTERS]),
    st.fixed_dictionaries({"start": instants, "duration": durations}),
    st.fixed_dictionaries({"start": instants, "duration": durations, "end": instants}),
    st.sampled_from([None, [], "PT1H", {"start": "2026-06-01T10:00:00+00:00"}]),
)
currencies = st.sampled_from(["EUR", "EUR", "USD", "eur", "", None, 978])
odd_values = st.one_of(
    numbers,
    instants,
    parties,
    st.text(max_size=30),
    st.dictionaries(st.text(max_size=3), st.integers(), max_size=2),
)
odd_keys = st.one_of(
    st.sampled_from(["colour", "", "price ", "PRICE", 'a",kind="spot', "k\n\x1b[2J", "\udc80"]),
    st.text(max_size=20),
    st.integers(min_value=1000, max_value=60_000).map(lambda n: "k" * n),
)


def _honest_tender(kind: str) -> st.SearchStrategy[dict[str, Any]]:
    transport = kind == "transport"
    base: dict[str, st.SearchStrategy[Any]] = {
        "id": ids,
        "party": st.sampled_from(["dso", "retailer"] if transport else ["retailer"]),
        "counterparty": st.sampled_from([None, h.HOME]),
        "side": st.sampled_from(["sell", "buy"]),
        "product": st.just(kind if transport else "energy"),
        "interval": honest_intervals,
        "quantity_kw": _decimal(10, 1000, 2),
        "price": _decimal(-10_000, 50_000, 4),
        "currency": st.just("EUR"),
        "expires": st.sampled_from([(h.START + timedelta(hours=k)).isoformat() for k in (-1, 1, 3, 30)]),
        "actionable": st.booleans(),
    }
    if transport:
        base["from"] = st.sampled_from(["grid", h.HOME])
        base["to"] = st.sampled_from([h.HOME, "grid"])
    return st.fixed_dictionaries(base)


def _transaction() -> st.SearchStrategy[dict[str, Any]]:
    # Mostly the shape of a genuine confirmation of the accepted or the posted tender, so that
    # some are booked and the rest test each rule: quantity, price, interval, parties.
    return st.fixed_dictionaries(
        {
            "id": _honest_ids,
            "tender_id": st.sampled_from([ACCEPTED_ID, ACCEPTED_ID, POSTED_ID, POSTED_ID, "a-1", "t-1"]),
            "buyer": st.sampled_from([h.HOME, h.HOME, h.HOME, "retailer", "home-2"]),
            "seller": st.sampled_from(["retailer", "retailer", "retailer", h.HOME, "dso"]),
            "product": st.sampled_from(["energy", "energy", "energy", "transport"]),
            "interval": st.sampled_from([_HOURS[0].to_wire(), _HOURS[0].to_wire(), _HOURS[1].to_wire()]),
            "quantity_kw": st.sampled_from(["0.25", "0.5", "1", "2", "2.5"]),
            "price": st.sampled_from(["0.25", "0.18", "0.26"]),
            "currency": st.just("EUR"),
            "executed": honest_instants,
        }
    )


def _spot() -> st.SearchStrategy[dict[str, Any]]:
    return st.fixed_dictionaries(
        {
            "id": ids,
            "interval": st.sampled_from([i.to_wire() for i in _QUARTERS]),
            "price": numbers,
            "currency": st.just("EUR"),
        }
    )


def _error_report() -> st.SearchStrategy[dict[str, Any]]:
    texts = st.one_of(
        st.text(max_size=40), st.sampled_from(["bad \udc80", "line\nforged", "\x1b[2J", "x" * 600, ""])
    )
    return st.fixed_dictionaries(
        {
            "id": ids,
            "message_id": st.one_of(ids, st.just(POSTED_ID)),
            "topic": texts,
            "field": texts,
            "error": texts,
        }
    )


RECORDS: dict[str, st.SearchStrategy[dict[str, Any]]] = {
    "tender": _honest_tender("tender"),
    "transport": _honest_tender("transport"),
    "transaction": _transaction(),
    "spot": _spot(),
    "error": _error_report(),
}
FIELD_VALUES: dict[str, st.SearchStrategy[Any]] = {
    "id": ids,
    "party": parties,
    "counterparty": parties,
    "buyer": parties,
    "seller": parties,
    "side": st.sampled_from(["buy", "sell", "BUY", "", None, 1]),
    "product": st.sampled_from(["energy", "transport", "gas", None]),
    "interval": intervals,
    "quantity_kw": numbers,
    "price": numbers,
    "currency": currencies,
    "expires": instants,
    "executed": instants,
    "actionable": st.sampled_from([True, False, "true", 1, None]),
    "from": parties,
    "to": parties,
}


@st.composite
def _record_message(draw: st.DrawFn) -> Message:
    kind = draw(st.sampled_from(sorted(RECORDS)))
    obj = dict(draw(RECORDS[kind]))
    changes = draw(st.sampled_from([0, 0, 0, 1, 1, 2]))  # half the records change or lose fields
    for key in draw(st.lists(st.sampled_from(sorted(obj)), min_size=changes, max_size=changes)):
        if draw(st.booleans()):
            obj.pop(key, None)
        else:
            obj[key] = draw(FIELD_VALUES.get(key, odd_values))
    if draw(st.integers(0, 9)) == 0:
        obj[draw(odd_keys)] = draw(odd_values)
    topic = kind if draw(st.integers(0, 19)) else draw(st.sampled_from(sorted(RECORDS)))  # on the wrong topic
    text = json.dumps(obj, allow_nan=True)
    encoding = draw(st.sampled_from(["utf-8"] * 12 + ["utf-16", "utf-32", "utf-8-sig"]))
    return topic, text.encode(encoding, "surrogatepass")


def _nested(depth: int) -> bytes:
    return ('{"id": "n-1", "interval": ' + "[" * depth + "]" * depth + "}").encode()


raw_messages: st.SearchStrategy[Message] = st.tuples(
    st.sampled_from(["tender", "spot", "transaction", "transport", "error"]),
    st.one_of(
        st.binary(max_size=64),
        st.sampled_from(
            [
                b"",
                b"null",
                b"[]",
                b"7",
                b'"text"',
                b"{",
                b'{"id": NaN}',
                b'{"price": Infinity}',
                b'{"id": "d-1", "id": "d-2"}',
                b'\xef\xbb\xbf{"id": "b-1"}',
                b'{"id": "\xed\xb2\x80"}',
                b'{"id": "x-1", "price": 1e999999999}',
                b"x" * 70_000,
            ]
        ),
        st.integers(min_value=10, max_value=3000).map(_nested),
    ),
)
odd_topics: st.SearchStrategy[Message] = st.tuples(
    st.one_of(
        st.sampled_from(["offers", "tenders", "tender/x", "TENDER", "", "spot/", 'a",kind="spot']),
        st.integers(1, 300).map(lambda n: "t" * n),
    ),
    st.just(b'{"id": "o-1"}'),
)
_records = _record_message()
messages: st.SearchStrategy[Message] = st.one_of(
    _records, _records, _records, _records, _records, _records, raw_messages, odd_topics
)
