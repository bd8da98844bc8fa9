"""Which plan intervals a tender covers: the bisection over the horizon agrees with the plain
scan of every interval, for any horizon and tender, across daylight-saving changes."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from hypothesis import given, settings
from hypothesis import strategies as st

from agent.market.intervals import Duration, Interval, containing
from agent.market.records import Product, Side, Tender
from agent.planning.market import covered

BERLIN = ZoneInfo("Europe/Berlin")
# The last Sunday of March 2026: a day of 23 hours in Berlin.
SPRING = datetime(2026, 3, 28, 20, 0, tzinfo=UTC)


def _tender(interval: Interval) -> Tender:
    return Tender(
        id="t",
        party="retailer",
        counterparty=None,
        side=Side.SELL,
        product=Product.ENERGY,
        interval=interval,
        quantity_kw=Decimal(1),
        price_per_kwh=Decimal("0.2"),
        currency="EUR",
        expires=interval.start_utc,
        actionable=True,
    )


def _scan(t: Tender, horizon: tuple[Interval, ...]) -> list[int]:
    return [i for i, iv in enumerate(horizon) if t.interval.contains_interval(iv)]


@settings(max_examples=60, deadline=None)
@given(
    step=st.sampled_from([Duration.PT5M, Duration.PT15M, Duration.PT1H]),
    start_min=st.integers(0, 12 * 60),
    length=st.integers(0, 120),
    outer=st.sampled_from([Duration.PT5M, Duration.PT15M, Duration.PT1H, Duration.P1D]),
    outer_min=st.integers(-120, 40 * 60),
)
def test_covered_agrees_with_a_scan_of_the_horizon(
    step: Duration, start_min: int, length: int, outer: Duration, outer_min: int
) -> None:
    first = containing(SPRING + timedelta(minutes=start_min), step, BERLIN)
    intervals = [first]
    for _ in range(length - 1):
        intervals.append(intervals[-1].next())
    horizon = tuple(intervals[:length])
    t = _tender(containing(SPRING + timedelta(minutes=outer_min), outer, BERLIN))
    assert covered(t, horizon) == _scan(t, horizon)
    assert covered(t, list(horizon)) == _scan(t, horizon)  # a list is indexed afresh each time


def test_a_horizon_out_of_order_is_scanned() -> None:
    a = containing(SPRING, Duration.PT15M, BERLIN)  # 21:00 local, the hour's first quarter
    later = containing(SPRING + timedelta(hours=1), Duration.PT15M, BERLIN)  # the next hour
    horizon = (a.next(), later, a)
    t = _tender(containing(SPRING, Duration.PT1H, BERLIN))
    assert covered(t, horizon) == [0, 2]
