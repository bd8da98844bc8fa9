"""Positions: nested blocks count in every metering interval they contain, across DST."""

from __future__ import annotations

import tempfile
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from agent.ledger import Ledger, LedgerValueError
from agent.market.intervals import Duration, Interval, containing, horizon
from agent.market.records import Product, Transaction
from tests.ledger.helpers import BERLIN, HOME, RETAILER, at, block, tx

D = Decimal
FIVE = Duration.PT5M


def test_nested_blocks_across_spring_forward(ledger: Ledger) -> None:
    # 2026-03-29: Berlin jumps from 02:00 CET to 03:00 CEST; the day is 23 h long.
    ledger.add_transactions(
        [
            tx("day", block("2026-03-29T12:00+02:00", Duration.P1D), "0.5"),
            tx("h1", block("2026-03-29T01:00+01:00", Duration.PT1H), "1"),
            tx("h3", block("2026-03-29T03:00+02:00", Duration.PT1H), "2"),
            tx("q", block("2026-03-29T03:15+02:00", Duration.PT15M), "1", buyer=RETAILER, seller=HOME),
            tx("f", block("2026-03-29T03:20+02:00", FIVE), "0.25"),
            # Not the home's, and not energy: neither counts in the position.
            tx("x", block("2026-03-29T03:00+02:00", Duration.PT1H), "7", buyer="neighbour"),
            tx("tr", block("2026-03-29T03:00+02:00", Duration.PT1H), "9", product=Product.TRANSPORT),
        ]
    )
    slots = horizon(block("2026-03-29T01:00+01:00", FIVE), 36)  # 01:00 CET .. 04:00 CEST
    assert slots[12].start == at("2026-03-29T03:00+02:00")  # the missing hour is skipped
    got = ledger.positions(slots, HOME)
    expected = [D("1.5")] * 12 + [D("2.5")] * 3 + [D("1.5"), D("1.75"), D("1.5")] + [D("2.5")] * 6
    expected += [D("0.5")] * 12
    assert got == expected
    assert ledger.position(slots[16], HOME) == D("1.75")
    assert ledger.position(slots[16], "neighbour") == D(7)


def test_repeated_hour_of_fall_back_is_kept_apart(ledger: Ledger) -> None:
    # 2026-10-25: 02:00-03:00 happens twice (CEST, then CET). A block in the second must not
    # count in the first; a bug comparing wall-clock times would mix them up.
    first = block("2026-10-25T02:15+02:00", Duration.PT15M)
    second = block("2026-10-25T02:15+01:00", Duration.PT15M)
    ledger.add_transactions([tx("a", first, "1"), tx("b", second, "3")])
    fives = [block("2026-10-25T02:20+02:00", FIVE), block("2026-10-25T02:20+01:00", FIVE)]
    assert ledger.positions(fives, HOME) == [D(1), D(3)]
    day = block("2026-10-25T12:00+01:00", Duration.P1D)
    assert day.span == timedelta(hours=25)
    assert sum(ledger.positions(day.children(FIVE), HOME)) == D(3 * 1 + 3 * 3)


def test_blocks_starting_long_before_the_horizon_still_count(ledger: Ledger) -> None:
    # A year block starts months before a December horizon; the bounded index scan must reach it.
    ledger.add_transaction(tx("y", block("2026-06-01T00:00+02:00", Duration.P1Y), "0.2"))
    slot = block("2026-12-31T23:55+01:00", FIVE)
    assert ledger.position(slot, HOME) == D("0.2")
    assert ledger.position(slot.next(), HOME) == D(0)


def test_horizon_must_be_ordered(ledger: Ledger) -> None:
    slot = block("2026-03-29T10:00+02:00", FIVE)
    with pytest.raises(LedgerValueError):
        ledger.positions([slot.next(), slot], HOME)
    assert ledger.positions([], HOME) == []


DAYS = ["2026-03-29T12:00+02:00", "2026-10-25T12:00+01:00", "2026-07-14T12:00+02:00"]
DURATIONS = [Duration.P1D, Duration.PT1H, Duration.PT15M, Duration.PT5M]


@st.composite
def transactions(draw: st.DrawFn) -> tuple[Interval, list[Transaction]]:
    day = block(draw(st.sampled_from(DAYS)), Duration.P1D)
    out: list[Transaction] = []
    for i in range(draw(st.integers(0, 25))):
        duration = draw(st.sampled_from(DURATIONS))
        offset_s = draw(st.integers(0, int(day.span.total_seconds()) - 1))
        interval = containing(day.start_utc + timedelta(seconds=offset_s), duration, BERLIN)
        qty = D(draw(st.integers(1, 50_000))) / 1000
        buyer, seller = draw(st.sampled_from([(HOME, RETAILER), (RETAILER, HOME), ("n1", "n2")]))
        product = draw(st.sampled_from([Product.ENERGY, Product.ENERGY, Product.TRANSPORT]))
        out.append(tx(f"t{i}", interval, str(qty), buyer=buyer, seller=seller, product=product))
    return day, out


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(case=transactions())
def test_position_equals_brute_force_sum(case: tuple[Interval, list[Transaction]]) -> None:
    day, txs = case
    with tempfile.TemporaryDirectory() as tmp, Ledger.open(Path(tmp), BERLIN) as book:
        book.add_transactions(txs)
        slots = day.children(FIVE)
        got = book.positions(slots, HOME)
    for slot, kw in zip(slots, got, strict=True):
        expected = sum(
            (
                t.signed_kw(HOME)
                for t in txs
                if t.product is Product.ENERGY and t.interval.contains_interval(slot)
            ),
            D(0),
        )
        assert kw == expected, slot
