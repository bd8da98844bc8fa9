"""The retailer simulator's own bill: the forward position of every delivered interval, worked out
in one pass, is the sum over the transactions whose interval contains it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from hypothesis import given, settings
from hypothesis import strategies as st

from agent.market.intervals import Duration, Interval, containing
from agent.market.records import Delivery, Product, SpotPrice, Transaction
from hil.retailer.book import RetailerBook

HOME = "home-1"
SHOP = "shop"
TZ = ZoneInfo("Europe/Berlin")
T0 = datetime(2026, 3, 28, 22, 0, tzinfo=UTC)  # a night across the spring DST change
Row = tuple[int, bool, bool, int, Product]  # first quarter, an hour block, the home buys, kW/100, product
QUARTERS = [containing(T0 + timedelta(minutes=15 * k), Duration.PT15M, TZ) for k in range(16)]

trades = st.lists(
    st.tuples(
        st.integers(0, 15),  # first quarter
        st.booleans(),  # an hour block (else the quarter alone)
        st.booleans(),  # the home buys
        st.integers(1, 500),  # kW, hundredths
        st.sampled_from([Product.ENERGY, Product.TRANSPORT]),
    ),
    max_size=30,
)


def _book(rows: list[Row]) -> RetailerBook:
    book = RetailerBook(HOME)
    for n, (k, hourly, home_buys, centi_kw, product) in enumerate(rows):
        interval = QUARTERS[k].parent(Duration.PT1H) if hourly else QUARTERS[k]
        buyer, seller = (HOME, SHOP) if home_buys else (SHOP, HOME)
        book.add_transaction(
            Transaction(
                f"tx-{n}", f"t-{n}", buyer, seller, product, interval,
                Decimal(centi_kw) / 100, Decimal("0.2"), "EUR", T0,
            )
        )  # fmt: skip
    return book


def _by_hand(book: RetailerBook, quarter: Interval) -> Decimal:
    total = Decimal(0)
    for tx in book.transactions.values():
        inside = tx.interval.start_utc <= quarter.start_utc and quarter.end_utc <= tx.interval.end_utc
        if tx.product is Product.ENERGY and inside:
            kwh = tx.quantity_kw * Decimal(int(quarter.span.total_seconds())) / 3600
            total += kwh if tx.buyer == HOME else -kwh
    return total


@settings(max_examples=60, deadline=None)
@given(trades)
def test_positions_in_one_pass_are_each_intervals_own_sum(rows: list[Row]) -> None:
    book = _book(rows)
    assert book.positions_kwh(QUARTERS) == {q: _by_hand(book, q) for q in QUARTERS}


def test_the_spot_part_of_the_bill_prices_each_deviation_from_its_position() -> None:
    book = _book([(4, True, True, 200, Product.ENERGY), (5, False, False, 100, Product.ENERGY)])
    for k, q in enumerate(QUARTERS[4:8]):
        book.deliveries[q] = Delivery(q, HOME, Decimal("1"), Decimal(0))  # 1 kWh imported each
        book.spot[q] = SpotPrice(q, Decimal("0.10") + Decimal(k) / 100, "EUR")
    bill = book.bill(QUARTERS[0].start_utc, QUARTERS[-1].end_utc)
    # bought 2 kW for the hour (0.5 kWh a quarter), sold 1 kW in the second quarter (0.25 kWh):
    # deviations 0.5, 0.75, 0.5, 0.5 kWh at 0.10, 0.11, 0.12, 0.13
    assert bill.spot == Decimal("0.05") + Decimal("0.0825") + Decimal("0.06") + Decimal("0.065")
    assert bill.intervals == tuple(QUARTERS[4:8])
