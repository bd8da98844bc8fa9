"""The ENTSO-E client against a local server answering as the Transparency Platform does."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from decimal import Decimal

import pytest

from agent.tariff.entsoe import EntsoeClient
from agent.tariff.errors import PriceServiceError, PricesNotPublished
from agent.tariff.http_fetch import RetryPolicy
from tests.tariff.price_servers import TOKEN, EntsoePeriod, EntsoeServer, StepClock, serving

DE_LU = "10Y1001A1001A82H"
DAY = EntsoePeriod(datetime(2026, 6, 14, 22, tzinfo=UTC), "PT15M", [str(q - 20) for q in range(96)])
START, END = datetime(2026, 6, 14, 22, tzinfo=UTC), datetime(2026, 6, 15, 22, tzinfo=UTC)


@pytest.fixture
def server() -> EntsoeServer:
    return EntsoeServer(DE_LU, [DAY])


@pytest.fixture
def base_url(server: EntsoeServer) -> Iterator[str]:
    with serving(server.app()) as url:
        yield f"{url}/api"


def client(base_url: str, clock: StepClock, *, token: str = TOKEN, timeout_s: float = 5.0) -> EntsoeClient:
    policy = RetryPolicy(timeout_s=timeout_s, retries=2, backoff_s=1.0)
    return EntsoeClient(
        token=token, zone_eic=DE_LU, currency="EUR", policy=policy, clock=clock, base_url=base_url
    )


def clock() -> StepClock:
    return StepClock(datetime(2026, 6, 14, 12, tzinfo=UTC))


async def test_a_day_of_quarter_hours_is_fetched_with_the_documented_query(
    server: EntsoeServer, base_url: str
) -> None:
    prices = await client(base_url, clock()).fetch(START, END)
    assert len(prices) == 96
    assert prices[0].price_per_kwh == Decimal("-0.02")  # -20 EUR/MWh
    assert prices[95].price_per_kwh == Decimal("0.075")  # 75 EUR/MWh
    assert server.behaviour.requests == [
        {
            "securityToken": TOKEN,
            "documentType": "A44",
            "in_Domain": DE_LU,
            "out_Domain": DE_LU,
            "periodStart": "202606142200",
            "periodEnd": "202606152200",
        }
    ]


async def test_only_the_asked_hours_are_returned(base_url: str) -> None:
    prices = await client(base_url, clock()).fetch(
        datetime(2026, 6, 15, 9, 30, tzinfo=UTC), START.replace(day=15, hour=10)
    )
    assert [p.start.minute for p in prices] == [30, 45]


@pytest.mark.parametrize("status", [200, 400])
async def test_a_missing_day_is_not_published(server: EntsoeServer, base_url: str, status: int) -> None:
    # The platform answers "No matching data found" in an Acknowledgement document (seen with
    # status 200 and, from older deployments, 400): either way it is "not published yet".
    server.behaviour.no_data_status = status
    with pytest.raises(PricesNotPublished, match="No matching data found"):
        await client(base_url, clock()).fetch(END, END.replace(day=16))
    assert len(server.behaviour.requests) == 1  # not retried


async def test_a_rejected_token_is_not_retried_and_not_shown(server: EntsoeServer, base_url: str) -> None:
    steps = clock()
    with pytest.raises(PriceServiceError) as info:
        await client(base_url, steps, token="wrong-token-9a8b").fetch(START, END)
    assert info.value.retryable is False
    assert "401" in str(info.value)
    assert "wrong-token-9a8b" not in str(info.value)
    assert len(server.behaviour.requests) == 1
    assert steps.waits == []


async def test_an_error_page_is_retried_with_back_off_then_raised(
    server: EntsoeServer, base_url: str
) -> None:
    server.behaviour.fail_status = 503
    steps = clock()
    with pytest.raises(PriceServiceError, match="HTTP 503: <!DOCTYPE html>") as info:
        await client(base_url, steps).fetch(START, END)
    assert info.value.retryable is True
    assert len(server.behaviour.requests) == 3
    assert steps.waits == [1.0, 2.0]  # back-off doubles


async def test_a_service_that_comes_back_answers_on_retry(server: EntsoeServer, base_url: str) -> None:
    server.behaviour.fail_status, server.behaviour.fail_times = 503, 1
    steps = clock()
    prices = await client(base_url, steps).fetch(START, END)
    assert len(prices) == 96
    assert steps.waits == [1.0]


async def test_a_slow_answer_times_out(server: EntsoeServer, base_url: str) -> None:
    server.behaviour.delay_s = 3.0
    with pytest.raises(PriceServiceError, match=r"no answer within 0.3 s \(after 3 attempts\)"):
        await client(base_url, clock(), timeout_s=0.3).fetch(START, END)
    assert len(server.behaviour.requests) == 3


async def test_nothing_listening_is_a_service_error(base_url: str) -> None:
    with serving(EntsoeServer(DE_LU, []).app()) as url:
        gone = f"{url}/api"
    with pytest.raises(PriceServiceError, match="cannot reach"):
        await client(gone, clock()).fetch(START, END)
