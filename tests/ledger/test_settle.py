"""Settling through the ledger: inputs gathered, result stored exactly once, deferral writes nothing."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta
from decimal import Decimal

import pytest

from agent.clock import ManualClock
from agent.ledger import Ledger, SettlementDeferred, Stored
from agent.market.intervals import Duration
from agent.market.settlement import MissingReadingError
from tests.ledger.helpers import HOME, at, block, reading, spot, tx

D = Decimal
SLOT = block("2026-03-29T10:00+02:00", Duration.PT5M)
METER = "grid-meter"


def move_to(clock: ManualClock, instant: datetime) -> None:
    clock.advance((instant - clock.now()).total_seconds())


@pytest.fixture
def book(ledger: Ledger, clock: ManualClock) -> Ledger:
    ledger.add_transaction(tx("h", block("2026-03-29T10:00+02:00", Duration.PT1H), "1.2"))
    ledger.add_spot_price(spot(SLOT, "0.40"))
    ledger.add_readings(
        [
            reading(at("2026-03-29T09:59:58+02:00"), "1000.000", "50.000"),
            reading(at("2026-03-29T10:02:30+02:00"), "1000.200", "50.000"),
            reading(at("2026-03-29T10:05:01+02:00"), "1000.350", "50.050"),
        ]
    )
    move_to(clock, at("2026-03-29T10:05:10+02:00"))
    return ledger


def test_settles_once_with_hand_computed_figures(book: Ledger, clock: ManualClock) -> None:
    s, stored = book.settle(SLOT, HOME, METER)
    assert stored is Stored.ADDED
    # 1.2 kW x 5 min = 0.1 kWh bought; metered 0.35 - 0.05 = 0.3 kWh; 0.2 kWh at 0.40 = 0.08 owed.
    assert (s.position_kw, s.scheduled_kwh, s.net_kwh) == (D("1.2"), D("0.1"), D("0.3"))
    assert (s.deviation_kwh, s.amount, s.currency) == (D("0.2"), D("0.08"), "EUR")
    assert book.settlements() == [s]  # stored exactly, read back equal
    # A late reading nearer the end arrives: the settlement stays what it was.
    book.add_reading(reading(at("2026-03-29T10:05:00+02:00"), "1000.340", "50.050"))
    clock.advance(600)
    again, stored = book.settle(SLOT, HOME, METER)
    assert stored is Stored.ALREADY
    assert again == s
    assert len(book.settlements()) == 1


def test_open_interval_is_deferred(book: Ledger) -> None:
    with pytest.raises(SettlementDeferred, match="open until"):
        book.settle(SLOT.next(), HOME, METER)
    assert book.settlements() == []


def test_missing_spot_price_is_deferred(ledger: Ledger, clock: ManualClock) -> None:
    ledger.add_readings(
        [reading(at("2026-03-29T10:00+02:00"), "1"), reading(at("2026-03-29T10:05+02:00"), "1.4")]
    )
    move_to(clock, at("2026-03-29T10:06+02:00"))
    with pytest.raises(SettlementDeferred, match="spot price") as e:
        ledger.settle(SLOT, HOME, METER)
    assert e.value.missing == "no spot price for the interval"
    assert ledger.settlements() == []
    ledger.add_spot_price(spot(SLOT, "0.1"))
    assert ledger.settle(SLOT, HOME, METER)[0].amount == D("0.04")


def test_missing_reading_defers_then_settles_when_it_arrives(ledger: Ledger, clock: ManualClock) -> None:
    ledger.add_spot_price(spot(SLOT, "0.40"))
    ledger.add_reading(reading(at("2026-03-29T10:05+02:00"), "5.5"))
    move_to(clock, at("2026-03-29T10:30+02:00"))
    with pytest.raises(SettlementDeferred) as e:
        ledger.settle(SLOT, HOME, METER)
    assert isinstance(e.value.__cause__, MissingReadingError)
    assert e.value.__cause__.bound == "start"
    assert ledger.settlements() == []
    ledger.add_reading(reading(at("2026-03-29T10:00:20+02:00"), "5.0"))
    s, stored = ledger.settle(SLOT, HOME, METER)
    assert stored is Stored.ADDED
    # No position: all 0.5 kWh is a deviation bought at spot.
    assert (s.position_kw, s.deviation_kwh, s.amount) == (D(0), D("0.5"), D("0.200"))


def test_waits_for_a_reading_nearer_the_end(ledger: Ledger, clock: ManualClock) -> None:
    ledger.add_spot_price(spot(SLOT, "0.40"))
    ledger.add_readings(
        [reading(at("2026-03-29T10:00+02:00"), "1"), reading(at("2026-03-29T10:04:40+02:00"), "1.4")]
    )
    move_to(clock, at("2026-03-29T10:05:10+02:00"))
    with pytest.raises(SettlementDeferred, match="may still arrive"):
        ledger.settle(SLOT, HOME, METER)
    ledger.add_reading(reading(at("2026-03-29T10:05:02+02:00"), "1.5"))
    s, _ = ledger.settle(SLOT, HOME, METER)
    assert s.import_kwh == D("0.5")
    assert s.end_reading_ts == at("2026-03-29T10:05:02+02:00")


def test_rollover_flag_is_stored(ledger: Ledger, clock: ManualClock) -> None:
    ledger.add_spot_price(spot(SLOT, "-0.05"))
    ledger.add_readings(
        [reading(at("2026-03-29T10:00+02:00"), "99999.9"), reading(at("2026-03-29T10:05+02:00"), "0.1")]
    )
    move_to(clock, SLOT.end + timedelta(minutes=1))
    s, _ = ledger.settle(SLOT, HOME, METER, modulus_kwh=D(100000))
    assert s.import_kwh == D("0.2")
    assert s.amount == D("-0.010")  # negative spot price: using more earns money
    (back,) = ledger.settlements(party=HOME)
    assert back.flags == ("import:rollover",)
    assert back == s


def test_estimated_reading_is_stored_and_flags_the_settlement(book: Ledger, clock: ManualClock) -> None:
    # The interval after SLOT had its meter away; an interpolated reading at its end lets it settle.
    after = SLOT.next()
    book.add_spot_price(spot(after, "0.40"))
    book.add_reading(replace(reading(after.end_utc, "1000.500", "50.050"), estimated=True))
    move_to(clock, after.end_utc + timedelta(minutes=2))
    s, _ = book.settle(after, HOME, METER)
    assert "estimated" in s.flags
    assert s.net_kwh == D("0.15")
    stored = book.readings(METER, after.end_utc - timedelta(seconds=1), after.end_utc + timedelta(seconds=1))
    assert [r.estimated for r in stored] == [True]
    first, _ = book.settle(SLOT, HOME, METER)
    assert "estimated" not in first.flags
