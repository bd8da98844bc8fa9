"""The aWATTar client: its documented JSON, through a local server, and every bad shape."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from agent.market.intervals import Duration
from agent.tariff.awattar import AwattarClient, parse_reply
from agent.tariff.errors import PriceFormatError, PriceServiceError, PricesNotPublished
from agent.tariff.http_fetch import RetryPolicy
from tests.tariff.price_servers import AwattarEntry, AwattarServer, StepClock, serving

MS = 1000


def hours(start: datetime, prices: list[float], minutes: int = 60) -> list[AwattarEntry]:
    return [AwattarEntry(start + i * timedelta(minutes=minutes), minutes, p) for i, p in enumerate(prices)]


def entry(
    start_ms: object, end_ms: int, price: object = 42.09, unit: object = "Eur/MWh"
) -> dict[str, object]:
    return {"start_timestamp": start_ms, "end_timestamp": end_ms, "marketprice": price, "unit": unit}


def test_documented_example_reads_exactly() -> None:
    # The example of aWATTar's documentation: 1428591600000 is 2015-04-09T15:00Z.
    body = json.dumps({"object": "list", "data": [entry(1428591600000, 1428595200000, 42.09)]}).encode()
    (price,) = parse_reply(body)
    assert price.start == datetime(2015, 4, 9, 15, tzinfo=UTC)
    assert price.duration is Duration.PT1H
    assert price.price_per_kwh == Decimal("0.04209")  # exact: read as decimal text, not float
    assert price.currency == "EUR"


def _bad(doc: object) -> PriceFormatError:
    with pytest.raises(PriceFormatError) as info:
        parse_reply(json.dumps(doc).encode())
    return info.value


def test_malformed_replies_name_the_field() -> None:
    t = 1428591600000
    assert _bad({"object": "error"}).field == "object"
    assert _bad({"object": "list", "data": {}}).field == "data"
    assert _bad({"object": "list", "data": [entry(t, t + 2700 * MS)]}).field == "data[0].end_timestamp"
    assert _bad({"object": "list", "data": [entry(t, t + 3600 * MS, unit="ct/kWh")]}).field == "data[0].unit"
    assert (
        _bad({"object": "list", "data": [entry(t, t + 3600 * MS, price="42")]}).field == "data[0].marketprice"
    )
    assert _bad({"object": "list", "data": [entry("t", t)]}).field == "data[0].start_timestamp"
    assert _bad({"object": "list", "data": [1]}).field == "data[0]"
    overlapping = [entry(t, t + 3600 * MS), entry(t + 900 * MS, t + 1800 * MS)]
    assert _bad({"object": "list", "data": overlapping}).field == "data"
    with pytest.raises(PriceFormatError, match="not UTF-8 JSON"):
        parse_reply(b"<html>503</html>")


@pytest.fixture
def server() -> AwattarServer:
    # Sunday 2026-03-29 in Vienna: 23 hours, two of them negative.
    start = datetime(2026, 3, 28, 23, tzinfo=UTC)
    return AwattarServer(hours(start, [50.0 + h for h in range(21)] + [-4.73, -0.01]))


@pytest.fixture
def base_url(server: AwattarServer) -> Iterator[str]:
    with serving(server.app()) as url:
        yield url


def client(base_url: str, steps: StepClock, timeout_s: float = 5.0) -> AwattarClient:
    return AwattarClient(country="at", policy=RetryPolicy(timeout_s, 1, 0.5), clock=steps, base_url=base_url)


def steps() -> StepClock:
    return StepClock(datetime(2026, 3, 28, 12, tzinfo=UTC))


async def test_a_dst_day_of_23_hours_with_negative_prices(server: AwattarServer, base_url: str) -> None:
    start, end = datetime(2026, 3, 28, 23, tzinfo=UTC), datetime(2026, 3, 29, 22, tzinfo=UTC)
    prices = await client(base_url, steps()).fetch(start, end)
    assert len(prices) == 23
    assert prices[-2].price_per_kwh == Decimal("-0.00473")
    assert prices[-1].price_per_kwh == Decimal("-0.00001")
    assert server.behaviour.requests == [{"start": "1774738800000", "end": "1774821600000"}]


async def test_quarter_hours_and_a_25_hour_day(server: AwattarServer, base_url: str) -> None:
    # Sunday 2026-10-25 in Vienna: 100 quarter hours.
    start = datetime(2026, 10, 24, 22, tzinfo=UTC)
    server.entries = hours(start, [float(q) for q in range(100)], minutes=15)
    prices = await client(base_url, steps()).fetch(start, start + timedelta(hours=25))
    assert len(prices) == 100
    assert {p.duration for p in prices} == {Duration.PT15M}
    assert prices[99].start == datetime(2026, 10, 25, 22, 45, tzinfo=UTC)
    assert prices[99].price_per_kwh == Decimal("0.099")


async def test_an_empty_list_is_not_published(base_url: str) -> None:
    with pytest.raises(PricesNotPublished):
        await client(base_url, steps()).fetch(
            datetime(2026, 3, 30, tzinfo=UTC), datetime(2026, 3, 31, tzinfo=UTC)
        )


async def test_an_error_page_and_a_slow_answer(server: AwattarServer, base_url: str) -> None:
    server.behaviour.fail_status = 503
    with pytest.raises(PriceServiceError, match="HTTP 503"):
        await client(base_url, steps()).fetch(
            datetime(2026, 3, 29, tzinfo=UTC), datetime(2026, 3, 30, tzinfo=UTC)
        )
    assert len(server.behaviour.requests) == 2
    server.behaviour.fail_status = None
    server.behaviour.delay_s = 3.0
    with pytest.raises(PriceServiceError, match=r"no answer within 0\.2 s"):
        await client(base_url, steps(), timeout_s=0.2).fetch(
            datetime(2026, 3, 29, tzinfo=UTC), datetime(2026, 3, 30, tzinfo=UTC)
        )


@settings(max_examples=60, deadline=None)
@given(
    minutes=st.sampled_from([15, 60]),
    # Prices as the service writes them: two decimals of EUR/MWh, negative too.
    cents=st.lists(st.integers(min_value=-50_000, max_value=400_000), min_size=1, max_size=100),
    first_ms=st.integers(min_value=0, max_value=100_000).map(lambda k: 1_700_000_000_000 + k * 900_000),
)
def test_parsed_series_covers_the_period_once_per_interval(
    minutes: int, cents: list[int], first_ms: int
) -> None:
    step_ms = minutes * 60_000
    data = [
        entry(first_ms + i * step_ms, first_ms + (i + 1) * step_ms, float(Decimal(c) / 100))
        for i, c in enumerate(cents)
    ]
    data.reverse()  # the order on the wire does not matter
    prices = parse_reply(json.dumps({"object": "list", "data": data}).encode())
    first = datetime(1970, 1, 1, tzinfo=UTC) + timedelta(milliseconds=first_ms)
    assert [p.start for p in prices] == [first + i * timedelta(minutes=minutes) for i in range(len(cents))]
    assert [p.price_per_kwh for p in prices] == [Decimal(c) / 100_000 for c in cents]
