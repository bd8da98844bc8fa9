"""The bill for a period: forward energy, spot deviations, transport, and their total."""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal
from fractions import Fraction

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from agent.clock import ManualClock
from agent.ledger import Ledger
from agent.market.intervals import Duration, containing
from agent.market.records import Product, Transaction
from agent.market.settlement import BillingError, LineKind, Settlement, make_bill
from tests.ledger.helpers import BERLIN, HOME, RETAILER, at, block, reading, spot, tx

D = Decimal
SLOT = block("2026-03-29T10:00+02:00", Duration.PT5M)
START, END = at("2026-03-29T10:00+02:00"), at("2026-03-29T11:00+02:00")


def test_bill_components_hand_computed(ledger: Ledger, clock: ManualClock) -> None:
    hour = block("2026-03-29T10:00+02:00", Duration.PT1H)
    ledger.add_transactions(
        [
            tx("fwd", hour, "1.2", "0.30"),  # bought 1.2 kWh: 0.36
            tx("day", block("2026-03-29T10:00+02:00", Duration.P1D), "0.5", "0.25"),  # 1 h of 23: 0.125
            tx(
                "sold",
                block("2026-03-29T10:30+02:00", Duration.PT15M),
                "2",
                "0.20",
                buyer=RETAILER,
                seller=HOME,
            ),
            tx("dso", hour, "1.2", "0.05", seller="dso", product=Product.TRANSPORT),  # 0.06
            tx("late", hour.next(), "9", "1"),  # outside the period
            tx("other", hour, "9", "1", buyer="neighbour"),  # not the home's
        ]
    )
    ledger.add_spot_price(spot(SLOT, "0.40"))
    ledger.add_readings(
        [
            reading(at("2026-03-29T10:00+02:00"), "1000", "50"),
            reading(at("2026-03-29T10:05+02:00"), "1000.35", "50.05"),
        ]
    )
    clock.advance((SLOT.end - clock.now()).total_seconds() + 120)
    settled, _ = ledger.settle(SLOT, HOME, "grid-meter")
    bill = ledger.bill(HOME, START, END)
    # Forward energy bought: 0.36 + 0.125; sold: 2 kW x 0.25 h x 0.20 = 0.10.
    assert bill.forward_cost == D("0.485")
    assert bill.forward_revenue == D("0.1")
    assert bill.forward == D("0.385")
    # Spot: metered 0.3 kWh vs position (1.2 + 0.5) kW x 5 min = 0.141666.. kWh, at 0.40.
    assert settled.position_kw == D("1.7")
    assert bill.spot == settled.amount
    assert abs(bill.spot - (D("0.3") - D("1.7") / 12) * D("0.4")) < D("1e-20")
    assert bill.transport == D("0.06")
    assert bill.total == bill.forward + bill.spot + bill.transport
    assert bill.currency == "EUR"
    assert {line.ref for line in bill.lines if line.kind is not LineKind.SPOT} == {
        "fwd",
        "day",
        "sold",
        "dso",
    }
    day_line = next(line for line in bill.lines if line.ref == "day")
    assert day_line.energy_kwh == D("0.5")  # only the hour inside the period


def test_mixed_currencies_are_refused_naming_the_items(ledger: Ledger) -> None:
    hour = block("2026-03-29T10:00+02:00", Duration.PT1H)
    ledger.add_transactions([tx("a", hour, "1"), tx("b", hour, "1", currency="CHF")])
    with pytest.raises(BillingError, match="transaction b") as e:
        ledger.bill(HOME, START, END)
    assert e.value.field == "currency"


def test_empty_period_is_refused() -> None:
    with pytest.raises(BillingError) as e:
        make_bill(HOME, END, START, [], [])
    assert e.value.field == "period"


def test_empty_bill_is_zero() -> None:
    bill = make_bill(HOME, START, END, [], [])
    assert (bill.total, bill.currency, bill.lines) == (D(0), None, ())


DURATIONS = [Duration.P1D, Duration.PT1H, Duration.PT15M, Duration.PT5M]
DAY = block("2026-10-25T12:00+01:00", Duration.P1D)  # 25 h
money = st.integers(-50_000, 50_000).map(lambda n: D(n) / 10_000)


@st.composite
def book(draw: st.DrawFn) -> tuple[list[Transaction], list[Settlement]]:
    txs: list[Transaction] = []
    sts: list[Settlement] = []
    day_s = int(DAY.span.total_seconds())
    for i in range(draw(st.integers(0, 15))):
        offset = draw(st.integers(0, day_s - 1))
        interval = containing(
            DAY.start_utc + timedelta(seconds=offset), draw(st.sampled_from(DURATIONS)), BERLIN
        )
        buyer, seller = draw(st.sampled_from([(HOME, RETAILER), (RETAILER, HOME), ("n1", "n2")]))
        product = draw(st.sampled_from(list(Product)))
        qty = D(draw(st.integers(1, 99_999))) / 1000
        txs.append(
            tx(f"t{i}", interval, str(qty), str(draw(money)), buyer=buyer, seller=seller, product=product)
        )
    for slot in draw(st.sets(st.integers(0, day_s // 300 - 1), max_size=10)):
        interval = containing(DAY.start_utc + timedelta(seconds=300 * slot), Duration.PT5M, BERLIN)
        deviation, price = draw(money), draw(money)
        sts.append(
            Settlement(
                interval=interval,
                party=draw(st.sampled_from([HOME, "n1"])),
                source="m",
                position_kw=D(0),
                scheduled_kwh=D(0),
                import_kwh=deviation,
                export_kwh=D(0),
                deviation_kwh=deviation,
                spot_price_per_kwh=price,
                amount=deviation * price,
                currency="EUR",
                flags=(),
                start_reading_ts=interval.start,
                end_reading_ts=interval.end,
            )
        )
    return txs, sts


def exact_total(txs: list[Transaction], sts: list[Settlement], start: datetime, end: datetime) -> Fraction:
    total = Fraction(0)
    for t in txs:
        lo, hi = max(t.interval.start_utc, start), min(t.interval.end_utc, end)
        seconds = max(0, int((hi - lo).total_seconds()))
        total += Fraction(t.signed_kw(HOME)) * Fraction(t.price_per_kwh) * seconds / 3600
    for s in sts:
        if s.party == HOME and start <= s.interval.start_utc < end:
            total += Fraction(s.amount)
    return total


@settings(max_examples=150, deadline=None)
@given(case=book(), cut_s=st.integers(1, 25 * 3600 - 1))
def test_bill_is_the_sum_of_its_parts_and_periods_add_up(
    case: tuple[list[Transaction], list[Settlement]], cut_s: int
) -> None:
    txs, sts = case
    start, end = DAY.start_utc, DAY.end_utc
    cut = start + timedelta(seconds=cut_s)
    whole = make_bill(HOME, start, end, txs, sts)
    tolerance = Fraction(1, 10**18)
    assert abs(Fraction(whole.total) - exact_total(txs, sts, start, end)) < tolerance
    # Energy over 5 min is a twelfth of an hour: amounts carry 28 significant digits, so sums
    # taken in another order may differ in the last one; far below any currency's smallest unit.
    assert abs(whole.total - sum((line.amount for line in whole.lines), D(0))) < D("1e-20")
    assert whole.forward + whole.spot + whole.transport == whole.total
    left, right = make_bill(HOME, start, cut, txs, sts), make_bill(HOME, cut, end, txs, sts)
    assert abs(Fraction(left.total + right.total) - Fraction(whole.total)) < tolerance
