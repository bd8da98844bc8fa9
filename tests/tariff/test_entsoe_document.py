"""Reading ENTSO-E A44 day-ahead documents: whole days, DST days, A03 gaps, and every bad shape."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from agent.market.intervals import Duration
from agent.tariff.entsoe import parse_reply
from agent.tariff.entsoe_zones import zone_code
from agent.tariff.errors import PriceFormatError, PriceServiceError, PricesNotPublished
from tests.tariff.price_servers import EntsoePeriod, acknowledgement_xml, publication_xml

DE_LU = "10Y1001A1001A82H"


def doc(*periods: EntsoePeriod, currency: str = "EUR") -> bytes:
    return publication_xml(list(periods), DE_LU, currency).encode()


def test_hourly_day_with_negative_prices_in_eur_per_kwh() -> None:
    amounts = [f"{80 - 10 * h}.50" for h in range(24)]  # 80.50 down to -150.50 EUR/MWh
    prices = parse_reply(
        doc(EntsoePeriod(datetime(2026, 6, 14, 22, tzinfo=UTC), "PT60M", amounts, "A01")), "EUR"
    )
    assert len(prices) == 24
    assert prices[0].start == datetime(2026, 6, 14, 22, tzinfo=UTC)
    assert prices[0].duration is Duration.PT1H
    assert prices[0].price_per_kwh == Decimal("0.0805")  # 80.50 EUR/MWh
    assert prices[23].start == datetime(2026, 6, 15, 21, tzinfo=UTC)
    assert prices[23].price_per_kwh == Decimal("-0.1505")  # -150.50 EUR/MWh
    assert {p.state for p in prices} == {"firm"}
    assert {p.currency for p in prices} == {"EUR"}


def test_quarter_hour_day_has_96_prices() -> None:
    amounts = [f"{q}.25" for q in range(96)]
    prices = parse_reply(
        doc(EntsoePeriod(datetime(2026, 6, 14, 22, tzinfo=UTC), "PT15M", amounts, "A01")), "EUR"
    )
    assert len(prices) == 96
    assert prices[1].start == datetime(2026, 6, 14, 22, 15, tzinfo=UTC)
    assert prices[1].duration is Duration.PT15M
    assert prices[95].price_per_kwh == Decimal("0.09525")  # 95.25 EUR/MWh


@pytest.mark.parametrize(
    ("start", "resolution", "count"),
    [
        (datetime(2026, 3, 28, 23, tzinfo=UTC), "PT60M", 23),  # Berlin springs forward on 29 March
        (datetime(2026, 3, 28, 23, tzinfo=UTC), "PT15M", 92),
        (datetime(2026, 10, 24, 22, tzinfo=UTC), "PT60M", 25),  # and falls back on 25 October
        (datetime(2026, 10, 24, 22, tzinfo=UTC), "PT15M", 100),
    ],
)
def test_dst_days_have_23_or_25_hours(start: datetime, resolution: str, count: int) -> None:
    amounts = [str(i) for i in range(count)]
    prices = parse_reply(doc(EntsoePeriod(start, resolution, amounts, "A01")), "EUR")
    assert len(prices) == count
    assert prices[-1].price_per_kwh == Decimal(count - 1) / 1000


def test_a03_missing_positions_repeat_the_previous_price_to_the_end() -> None:
    # Positions 2, 3 and 24 are left out: each repeats the price before it.
    amounts = ["50", "50", "50", "42.1"] + [str(60 + h) for h in range(4, 22)] + ["-3", "-3"]
    document = doc(EntsoePeriod(datetime(2026, 6, 14, 22, tzinfo=UTC), "PT60M", amounts, "A03"))
    assert document.count(b"<Point>") == 21  # the server really left three out
    prices = parse_reply(document, "EUR")
    assert [p.price_per_kwh for p in prices[:5]] == [Decimal("0.05")] * 3 + [
        Decimal("0.0421"),
        Decimal("0.064"),
    ]
    assert [p.price_per_kwh for p in prices[-3:]] == [Decimal("0.081"), Decimal("-0.003"), Decimal("-0.003")]


def test_two_days_in_one_document_follow_each_other() -> None:
    day1 = EntsoePeriod(datetime(2026, 6, 13, 22, tzinfo=UTC), "PT60M", ["10"] * 24)
    day2 = EntsoePeriod(datetime(2026, 6, 14, 22, tzinfo=UTC), "PT60M", ["20"] * 24)
    prices = parse_reply(doc(day2, day1), "EUR")
    assert [p.start for p in prices] == [day1.start + timedelta(hours=h) for h in range(48)]
    assert prices[24].price_per_kwh == Decimal("0.02")


def test_no_matching_data_is_prices_not_published() -> None:
    with pytest.raises(PricesNotPublished, match="No matching data found"):
        parse_reply(acknowledgement_xml().encode(), "EUR")


def test_other_acknowledgement_is_a_refusal_that_retrying_cannot_fix() -> None:
    with pytest.raises(PriceServiceError, match=r"refused \(reason 401\): Not authorized") as info:
        parse_reply(acknowledgement_xml("401", "Not authorized").encode(), "EUR")
    assert info.value.retryable is False
    assert not isinstance(info.value, PricesNotPublished)


def _bad(document: str) -> PriceFormatError:
    with pytest.raises(PriceFormatError) as info:
        parse_reply(document.encode(), "EUR")
    return info.value


def _day(amounts: list[str] | None = None, curve: str = "A01") -> EntsoePeriod:
    return EntsoePeriod(datetime(2026, 6, 14, 22, tzinfo=UTC), "PT60M", amounts or ["1"] * 24, curve)


def test_malformed_replies_name_the_field() -> None:
    good = publication_xml([_day()], DE_LU)
    assert _bad(
        good.replace("<price.amount>1</price.amount>", "<price.amount>n/a</price.amount>", 1)
    ).field == ("TimeSeries[1].Period[1].Point[1].price.amount")
    assert _bad(good.replace("<position>24</position>", "<position>25</position>")).field == (
        "TimeSeries[1].Period[1].Point[24].position"
    )
    assert _bad(good.replace("PT60M", "PT30M")).field == "TimeSeries[1].Period[1].resolution"
    assert _bad(good.replace("<curveType>A01", "<curveType>A09")).field == "TimeSeries[1].curveType"
    assert _bad(good.replace("MWH", "KWH")).field == "TimeSeries[1].price_Measure_Unit.name"
    assert _bad(
        good.replace(
            "<end>2026-06-15T22:00Z</end></timeInterval><res",
            "<end>2026-06-15T22:30Z</end></timeInterval><res",
        )
    ).field == ("TimeSeries[1].Period[1].timeInterval")
    no_start = good.replace(
        "<Period><timeInterval><start>2026-06-14T22:00Z</start>", "<Period><timeInterval>"
    )
    assert _bad(no_start).field == "TimeSeries[1].Period[1].timeInterval.start"
    bad_start = good.replace(
        "<Period><timeInterval><start>2026-06-14T22:00Z", "<Period><timeInterval><start>14.06.2026"
    )
    assert _bad(bad_start).field == "TimeSeries[1].Period[1].timeInterval.start"
    assert _bad("<html><body>Service down</body></html>").field == "document"
    assert _bad("not xml at all").field == "document"


def test_a01_curve_may_not_leave_a_position_out() -> None:
    good = publication_xml([_day()], DE_LU)
    broken = good.replace("<Point><position>7</position><price.amount>1</price.amount></Point>", "")
    error = _bad(broken)
    assert error.field == "TimeSeries[1].Period[1].Point"
    assert "position 7 missing" in error.reason


def test_prices_in_another_currency_are_refused() -> None:
    with pytest.raises(PriceFormatError) as info:
        parse_reply(publication_xml([_day()], DE_LU, "SEK").encode(), "EUR")
    assert info.value.field == "TimeSeries[1].currency_Unit.name"


def test_entity_expansion_is_refused() -> None:
    bomb = (
        '<?xml version="1.0"?><!DOCTYPE d [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;">]>'
        "<Publication_MarketDocument>&b;</Publication_MarketDocument>"
    )
    assert _bad(bomb).field == "document"


def test_zone_names_and_codes() -> None:
    assert zone_code("DE-LU") == DE_LU
    assert zone_code("se3") == "10Y1001A1001A46L"
    assert zone_code("10YNL----------L") == "10YNL----------L"
    with pytest.raises(ValueError, match="unknown bidding zone 'DE'"):
        zone_code("DE")


@settings(max_examples=60, deadline=None)
@given(
    resolution=st.sampled_from(["PT15M", "PT60M"]),
    curve=st.sampled_from(["A01", "A03"]),
    # Few distinct values, so A03 documents leave many positions out.
    amounts=st.lists(st.sampled_from(["-500", "0", "0.01", "37.5", "120", "4000"]), min_size=1, max_size=120),
    start_h=st.integers(min_value=0, max_value=23),
)
def test_parsed_series_covers_the_period_once_per_interval(
    resolution: str, curve: str, amounts: list[str], start_h: int
) -> None:
    start = datetime(2026, 3, 28, start_h, tzinfo=UTC)
    period = EntsoePeriod(start, resolution, amounts, curve)
    prices = parse_reply(doc(period), "EUR")
    step = timedelta(minutes=15 if resolution == "PT15M" else 60)
    assert [p.start for p in prices] == [start + i * step for i in range(len(amounts))]
    assert [p.price_per_kwh for p in prices] == [Decimal(a) / 1000 for a in amounts]
