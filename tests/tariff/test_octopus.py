"""The Octopus Energy client: its documented JSON, through a local server, and every bad shape."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from aiohttp import web
from hypothesis import given, settings
from hypothesis import strategies as st

from agent.market.intervals import Duration, intervals_between
from agent.tariff.errors import PriceFormatError, PriceServiceError, PricesNotPublished
from agent.tariff.http_fetch import RetryPolicy
from agent.tariff.octopus import OctopusClient, parse_page, quarter_hour_prices
from tests.tariff.price_servers import OctopusRate, OctopusServer, StepClock, serving

PRODUCT = "AGILE-24-10-01"
TARIFF = "E-1R-AGILE-24-10-01-C"
LONDON = ZoneInfo("Europe/London")


def rate(
    start: str, exc: object = 18.9, inc: object = 19.845, end: object = "2024-10-01T17:00:00Z"
) -> dict[str, object]:
    return {
        "value_exc_vat": exc,
        "value_inc_vat": inc,
        "valid_from": start,
        "valid_to": end,
        "payment_method": None,
    }


def page(results: list[object], next_url: object = None) -> bytes:
    return json.dumps(
        {"count": len(results), "next": next_url, "previous": None, "results": results}
    ).encode()


def test_documented_rate_reads_exactly_before_or_with_vat() -> None:
    body = page(
        [
            rate("2024-10-01T16:30:00Z", end="2024-10-01T17:00:00Z"),
            rate("2024-10-01T16:00:00Z", -2.8571, -3.0, end="2024-10-01T16:30:00Z"),
        ]
    )
    before = parse_page(body, vat_included=False)
    with_vat = parse_page(body, vat_included=True)
    assert before.next_url is None
    assert [r.pence_per_kwh for r in before.rates] == [Decimal("18.9"), Decimal("-2.8571")]
    assert [r.pence_per_kwh for r in with_vat.rates] == [Decimal("19.845"), Decimal("-3.0")]
    start, end = datetime(2024, 10, 1, 16, tzinfo=UTC), datetime(2024, 10, 1, 17, tzinfo=UTC)
    prices = quarter_hour_prices(with_vat.rates, start, end)
    # Newest first on the wire, in order here; each half hour is two quarter hours at one price.
    assert [(p.start.strftime("%H:%M"), p.price_per_kwh) for p in prices] == [
        ("16:00", Decimal("-0.03")),
        ("16:15", Decimal("-0.03")),
        ("16:30", Decimal("0.19845")),
        ("16:45", Decimal("0.19845")),
    ]
    assert {(p.duration, p.currency, p.state) for p in prices} == {(Duration.PT15M, "GBP", "firm")}


def _bad(body: bytes) -> PriceFormatError:
    def read() -> None:
        rates = parse_page(body, vat_included=False).rates
        quarter_hour_prices(rates, datetime(2024, 1, 1, tzinfo=UTC), datetime(2025, 1, 1, tzinfo=UTC))

    with pytest.raises(PriceFormatError) as info:
        read()
    return info.value


def test_malformed_replies_name_the_field() -> None:
    t = "2024-10-01T16:00:00Z"
    assert _bad(b'{"results": {}}').field == "results"
    assert _bad(b"[]").field == "document"
    assert _bad(page([rate(t)], next_url=3)).field == "next"
    assert _bad(page([1])).field == "results[0]"
    assert _bad(page([rate(t, exc="18.9")])).field == "results[0].value_exc_vat"
    assert _bad(page([rate(t, exc=True)])).field == "results[0].value_exc_vat"
    assert _bad(page([rate("yesterday")])).field == "results[0].valid_from"
    assert _bad(page([rate("2024-10-01T16:00:00")])).field == "results[0].valid_from"  # no offset
    assert _bad(page([rate("2024-10-01T16:10:00Z")])).field == "results[0].valid_from"
    assert _bad(page([rate(t, end="2024-10-01T16:00:00Z")])).field == "results[0].valid_to"
    assert _bad(page([{**rate(t), "valid_to": None}])).field == "results[0].valid_to"
    # The same half hour twice (a tariff priced per payment method) is not one price list.
    assert _bad(page([rate(t), rate("2024-10-01T16:30:00Z", 20.0, 21.0)])).field == "results"
    with pytest.raises(PriceFormatError, match="not UTF-8 JSON"):
        parse_page(b"<html>502 Bad Gateway</html>", vat_included=False)


def half_hours(start: datetime, pence: list[str]) -> list[OctopusRate]:
    # Inc-VAT values are what the API would show at 5 %, written as text like the wire.
    return [
        OctopusRate(start + i * timedelta(minutes=30), p, str(Decimal(p) * Decimal("1.05")))
        for i, p in enumerate(pence)
    ]


@pytest.fixture
def server() -> OctopusServer:
    # 2026-03-28 to 2026-03-31 UTC: the clock goes forward in the UK on Sunday the 29th.
    start = datetime(2026, 3, 28, tzinfo=UTC)
    return OctopusServer(PRODUCT, TARIFF, half_hours(start, [f"{10 + i % 48}.5" for i in range(4 * 48)]))


@pytest.fixture
def base_url(server: OctopusServer) -> Iterator[str]:
    with serving(server.app()) as url:
        yield url


def client(
    base_url: str, clock: StepClock, *, timeout_s: float = 5.0, product: str = PRODUCT
) -> OctopusClient:
    return OctopusClient(
        product_code=product,
        tariff_code=TARIFF,
        vat_included=False,
        policy=RetryPolicy(timeout_s, 1, 0.5),
        clock=clock,
        base_url=base_url,
    )


def steps() -> StepClock:
    return StepClock(datetime(2026, 3, 28, 12, tzinfo=UTC))


async def test_two_pages_are_followed_and_merged_in_order(server: OctopusServer, base_url: str) -> None:
    server.max_page_size = 60  # 96 half hours asked: two pages
    start = datetime(2026, 3, 28, tzinfo=UTC)
    prices = await client(base_url, steps()).fetch(start, start + timedelta(days=2))
    assert [r.get("page") for r in server.behaviour.requests] == [None, "2"]
    assert server.behaviour.requests[0] == {
        "period_from": "2026-03-28T00:00:00Z",
        "period_to": "2026-03-30T00:00:00Z",
        "page_size": "1500",
    }
    assert len(prices) == 192
    assert [p.start for p in prices] == [start + i * timedelta(minutes=15) for i in range(192)]
    # 10.5 p in the first half hour of each UTC day, 57.5 p in the last.
    assert (prices[0].price_per_kwh, prices[1].price_per_kwh) == (Decimal("0.105"), Decimal("0.105"))
    assert prices[191].price_per_kwh == Decimal("0.575")


async def test_the_uk_clock_change_days(server: OctopusServer, base_url: str) -> None:
    # Sunday 2026-03-29, local midnight to midnight: 23 hours, 46 half hours.
    day = datetime(2026, 3, 29, tzinfo=LONDON)
    end = datetime(2026, 3, 30, tzinfo=LONDON)
    prices = await client(base_url, steps()).fetch(day, end)
    assert len(prices) == 2 * 46
    local = intervals_between(day, end, Duration.PT15M, LONDON)
    assert [iv.start_utc for iv in local] == [p.start for p in prices]
    # Any 24 hours of UTC are 48 half hours, the change or not.
    utc_day = await client(base_url, steps()).fetch(
        datetime(2026, 3, 29, tzinfo=UTC), datetime(2026, 3, 30, tzinfo=UTC)
    )
    assert len(utc_day) == 2 * 48
    # Sunday 2026-10-25: 25 hours, 50 half hours.
    server.rates = half_hours(datetime(2026, 10, 24, 23, tzinfo=UTC), ["12.0"] * 50)
    autumn = await client(base_url, steps()).fetch(
        datetime(2026, 10, 25, tzinfo=LONDON), datetime(2026, 10, 26, tzinfo=LONDON)
    )
    assert len(autumn) == 2 * 50


async def test_negative_rates(server: OctopusServer, base_url: str) -> None:
    # Agile goes below zero when the wholesale market does.
    start = datetime(2026, 3, 28, 13, tzinfo=UTC)
    server.rates = [
        OctopusRate(start, "-2.8571", "-3.0"),
        OctopusRate(start + timedelta(minutes=30), "-0.05", "-0.0525"),
    ]
    prices = await client(base_url, steps()).fetch(start, start + timedelta(hours=1))
    assert [p.price_per_kwh for p in prices] == [Decimal("-0.028571")] * 2 + [Decimal("-0.0005")] * 2


async def test_a_missing_day_is_not_published(base_url: str) -> None:
    with pytest.raises(PricesNotPublished):
        await client(base_url, steps()).fetch(
            datetime(2026, 4, 2, tzinfo=UTC), datetime(2026, 4, 3, tzinfo=UTC)
        )


async def test_an_error_page_is_retried_and_then_answered(server: OctopusServer, base_url: str) -> None:
    server.behaviour.fail_status = 500
    server.behaviour.fail_times = 1
    clock = steps()
    start = datetime(2026, 3, 28, tzinfo=UTC)
    prices = await client(base_url, clock).fetch(start, start + timedelta(hours=1))
    assert len(prices) == 4
    assert len(server.behaviour.requests) == 2
    assert clock.waits == [0.5]


async def test_an_unknown_product_is_not_retried(server: OctopusServer, base_url: str) -> None:
    with pytest.raises(PriceServiceError) as info:
        await client(base_url, steps(), product="AGILE-99-01-01").fetch(
            datetime(2026, 3, 28, tzinfo=UTC), datetime(2026, 3, 29, tzinfo=UTC)
        )
    assert info.value.retryable is False
    assert info.value.reason.startswith(f"HTTP 404: no tariff {TARIFF} in product AGILE-99-01-01")
    assert len(server.behaviour.requests) == 1


async def test_a_slow_answer_times_out(server: OctopusServer, base_url: str) -> None:
    server.behaviour.delay_s = 3.0
    with pytest.raises(PriceServiceError, match=r"no answer within 0\.2 s \(after 2 attempts\)"):
        await client(base_url, steps(), timeout_s=0.2).fetch(
            datetime(2026, 3, 28, tzinfo=UTC), datetime(2026, 3, 29, tzinfo=UTC)
        )


async def test_a_next_page_on_another_host_is_not_followed() -> None:
    asked: list[str] = []

    async def handle(request: web.Request) -> web.Response:
        asked.append(str(request.url))
        body = page(
            [rate("2026-03-28T00:30:00Z", end="2026-03-28T01:00:00Z")],
            next_url="http://192.0.2.7/v1/products/X/?page=2",
        )
        return web.Response(body=body, content_type="application/json")

    app = web.Application()
    app.router.add_get(f"/v1/products/{PRODUCT}/electricity-tariffs/{TARIFF}/standard-unit-rates/", handle)
    with serving(app) as url, pytest.raises(PriceFormatError) as info:
        await client(url, steps()).fetch(datetime(2026, 3, 28, tzinfo=UTC), datetime(2026, 3, 29, tzinfo=UTC))
    assert info.value.field == "next"
    assert len(asked) == 1


@settings(max_examples=60, deadline=None)
@given(
    # Rates as the API writes them: pence with up to four decimals, negative too.
    ten_thousandths=st.lists(st.integers(min_value=-100_000, max_value=1_000_000), min_size=1, max_size=96),
    first_half_hour=st.integers(min_value=0, max_value=200_000),
)
def test_half_hour_rates_become_pairs_of_quarter_hours(
    ten_thousandths: list[int], first_half_hour: int
) -> None:
    first = datetime(2020, 1, 1, tzinfo=UTC) + first_half_hour * timedelta(minutes=30)

    def z(t: datetime) -> str:
        return t.strftime("%Y-%m-%dT%H:%M:%SZ")

    # JSON numbers written exactly as the API's decimal text, newest first as on the wire.
    results = [
        f'{{"value_exc_vat": {Decimal(v).scaleb(-4):f}, "value_inc_vat": 0, '
        f'"valid_from": "{z(first + i * timedelta(minutes=30))}", '
        f'"valid_to": "{z(first + (i + 1) * timedelta(minutes=30))}", "payment_method": null}}'
        for i, v in enumerate(ten_thousandths)
    ]
    listed = ", ".join(reversed(results))
    body = f'{{"count": {len(results)}, "next": null, "previous": null, "results": [{listed}]}}'
    rates = parse_page(body.encode(), vat_included=False).rates
    end = first + len(ten_thousandths) * timedelta(minutes=30)
    prices = quarter_hour_prices(rates, first, end)
    assert [p.start for p in prices] == [
        first + q * timedelta(minutes=15) for q in range(2 * len(ten_thousandths))
    ]
    assert [p.price_per_kwh for p in prices] == [
        Decimal(v) / 1_000_000 for v in ten_thousandths for _ in range(2)
    ]


def test_longer_rates_are_cut_to_the_quarter_hours_asked() -> None:
    # A timed tariff like Octopus Go: 8.5 p from 00:30 to 05:30, and a rate valid for a year.
    body = page(
        [
            rate("2024-10-01T05:30:00Z", 30.0, 31.5, end="2025-10-01T05:30:00Z"),
            rate("2024-10-01T00:30:00Z", 8.5, 8.925, end="2024-10-01T05:30:00Z"),
        ]
    )
    rates = parse_page(body, vat_included=False).rates
    # From 05:10 (inside a quarter hour) to 05:45: 05:00 and 05:15 at 8.5 p, 05:30 at 30 p.
    prices = quarter_hour_prices(
        rates, datetime(2024, 10, 1, 5, 10, tzinfo=UTC), datetime(2024, 10, 1, 5, 45, tzinfo=UTC)
    )
    assert [(p.start.strftime("%H:%M"), p.price_per_kwh) for p in prices] == [
        ("05:00", Decimal("0.085")),
        ("05:15", Decimal("0.085")),
        ("05:30", Decimal("0.3")),
    ]
