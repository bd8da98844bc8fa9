"""A dynamic tariff's prices over time: cache, refresh schedule, estimates, and a service that stays down."""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from agent.tariff.dynamic import DynamicPriceSource
from agent.tariff.entsoe import EntsoeClient
from agent.tariff.errors import TariffError
from agent.tariff.http_fetch import RetryPolicy
from tests.tariff.price_servers import TOKEN, EntsoePeriod, EntsoeServer, StepClock, serving

BERLIN = ZoneInfo("Europe/Berlin")
DE_LU = "10Y1001A1001A82H"
# Three published days in June (Berlin days start at 22:00 UTC): flat 30, flat 60, then 0..230.
DAY12 = EntsoePeriod(datetime(2026, 6, 11, 22, tzinfo=UTC), "PT60M", ["30"] * 24)
DAY13 = EntsoePeriod(datetime(2026, 6, 12, 22, tzinfo=UTC), "PT60M", ["60"] * 24)
DAY14 = EntsoePeriod(datetime(2026, 6, 13, 22, tzinfo=UTC), "PT60M", [str(10 * h) for h in range(24)])
DAY15 = EntsoePeriod(datetime(2026, 6, 14, 22, tzinfo=UTC), "PT60M", ["99"] * 24)
# 10:00 in Berlin on the 14th, planning a day ahead: tomorrow's prices are not out yet.
START = datetime(2026, 6, 14, 8, tzinfo=UTC)
END = START + timedelta(hours=24)


@pytest.fixture
def server() -> EntsoeServer:
    return EntsoeServer(DE_LU, [DAY12, DAY13, DAY14])


@pytest.fixture
def base_url(server: EntsoeServer) -> Iterator[str]:
    with serving(server.app()) as url:
        yield f"{url}/api"


def source(base_url: str, state_dir: Path, steps: StepClock) -> DynamicPriceSource:
    service = EntsoeClient(
        token=TOKEN,
        zone_eic=DE_LU,
        currency="EUR",
        policy=RetryPolicy(2.0, 1, 0.5),
        clock=steps,
        base_url=base_url,
    )
    return DynamicPriceSource(
        service, state_dir=state_dir, currency="EUR", zone=BERLIN, clock=steps, refresh_s=900, estimate_days=3
    )


def steps() -> StepClock:
    return StepClock(START)


async def test_late_prices_are_estimated_from_the_same_hour_of_earlier_days(
    base_url: str, tmp_path: Path
) -> None:
    prices = await source(base_url, tmp_path, steps()).prices(START, END)
    assert len(prices) == 24
    firm, estimated = prices[:14], prices[14:]
    assert {p.state for p in firm} == {"firm"}
    assert firm[0].price_per_kwh == Decimal("0.1")  # 10:00 local on the 14th: 100 EUR/MWh
    assert {p.state for p in estimated} == {"estimated"}
    assert estimated[0].start == datetime(2026, 6, 14, 22, tzinfo=UTC)  # midnight local, the 15th
    # 00:00 local: mean of 0 (14th), 60 (13th), 30 (12th) EUR/MWh = 30 -> 0.03 per kWh.
    assert estimated[0].price_per_kwh == Decimal("0.030000")
    # 01:00 local: mean of 10, 60, 30 = 33.3333.. EUR/MWh -> 0.033333 per kWh (a millionth).
    assert estimated[1].price_per_kwh == Decimal("0.033333")
    # 09:00 local: mean of 90, 60, 30 = 60 -> 0.06.
    assert estimated[-1].price_per_kwh == Decimal("0.060000")


async def test_prices_are_asked_again_only_on_the_refresh_schedule(
    server: EntsoeServer, base_url: str, tmp_path: Path
) -> None:
    clock = steps()
    prices = source(base_url, tmp_path, clock)
    await prices.prices(START, END)
    assert len(server.behaviour.requests) == 1
    # The first request fetched three days back, for estimates; the next asks from the gap only.
    assert server.behaviour.requests[0]["periodStart"] == "202606110800"
    clock.advance(600)
    await prices.prices(START, END)
    assert len(server.behaviour.requests) == 1  # 10 min later: not due
    server.periods.append(DAY15)  # published
    clock.advance(300)
    later = await prices.prices(START, END)
    assert len(server.behaviour.requests) == 2
    assert server.behaviour.requests[1]["periodStart"] == "202606142200"
    assert {p.state for p in later} == {"firm"}
    assert later[-1].price_per_kwh == Decimal("0.099")


async def test_covered_window_needs_no_request(server: EntsoeServer, base_url: str, tmp_path: Path) -> None:
    prices = source(base_url, tmp_path, steps())
    await prices.prices(START, END)
    inside = await prices.prices(START, START + timedelta(hours=6))
    assert len(server.behaviour.requests) == 1
    assert [p.state for p in inside] == ["firm"] * 6


async def test_restart_with_the_service_down_plans_on_the_cache(
    server: EntsoeServer, base_url: str, tmp_path: Path
) -> None:
    await source(base_url, tmp_path, steps()).prices(START, END)
    (cache,) = await asyncio.to_thread(lambda: list(tmp_path.glob("prices-*.json")))
    assert cache.name == "prices-entsoe-10Y1001A1001A82H.json"
    assert json.loads(cache.read_text())["runs"][0]["step"] == "PT1H"
    server.behaviour.fail_status = 503
    again = await source(base_url, tmp_path, steps()).prices(START, END)
    assert len(server.behaviour.requests) == 3  # the restarted source tried (two attempts) and failed
    assert [p.state for p in again] == ["firm"] * 14 + ["estimated"] * 10
    assert again[14].price_per_kwh == Decimal("0.030000")


async def test_beyond_the_last_known_price_the_tariff_says_so(
    server: EntsoeServer, base_url: str, tmp_path: Path
) -> None:
    server.behaviour.fail_status = 503
    down = source(base_url, tmp_path, steps())
    with pytest.raises(TariffError, match=r"no market prices to plan with; last error: ENTSO-E: HTTP 503"):
        await down.prices(START, END)
    server.behaviour.fail_status = None
    clock = steps()
    up = source(base_url, tmp_path, clock)
    await up.prices(START, END)
    server.behaviour.fail_status = 503
    clock.advance(900)
    # Two days later, the service still down: the cache ends at midnight of the 14th.
    later = datetime(2026, 6, 16, 8, tzinfo=UTC)
    with pytest.raises(TariffError, match=r"no market prices after 2026-06-14T22:00:00\+00:00"):
        await up.prices(later, later + timedelta(hours=24))


async def test_a_damaged_cache_is_set_aside_and_rebuilt(
    base_url: str, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    cache = tmp_path / "prices-entsoe-10Y1001A1001A82H.json"
    cache.write_text("{not json")
    with caplog.at_level(logging.WARNING, logger="agent.tariff.dynamic"):
        prices = await source(base_url, tmp_path, steps()).prices(START, END)
    assert "price cache" in caplog.text
    assert len(prices) == 24
    assert json.loads(cache.read_text())["service"] == "entsoe:10Y1001A1001A82H"
    left = await asyncio.to_thread(lambda: [p.name for p in tmp_path.iterdir()])
    assert left == [cache.name]  # no temporary file left behind
