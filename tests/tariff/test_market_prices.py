"""The household formula over market prices of another step: covering, averaged, missing, states."""

from __future__ import annotations

import asyncio
from datetime import datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from agent.config import Config, parse_config
from agent.market.intervals import Duration, intervals_between
from agent.tariff import MarketPrice, TariffCounterparty, TariffError

BERLIN = ZoneInfo("Europe/Berlin")
DYNAMIC = """\
site: {id: home, timezone: Europe/Berlin, latitude: 52.5, longitude: 13.4}
planner: {step: PT15M}
devices:
  grid: {role: meter, driver: {type: simulated}}
market:
  source:
    type: tariff
    market_multiplier: 1.0
    energy_per_kwh: {adder: 0.10}
    vat_multiplier: 1.19
    export: {type: market_share, share: 0.5}
"""


class ListedSource:
    """Market prices given by the test, as a day-ahead service would publish them."""

    def __init__(self, prices: list[MarketPrice]) -> None:
        self._prices = prices

    async def prices(self, start: datetime, end: datetime) -> list[MarketPrice]:
        return [p for p in self._prices if p.start < end]


def _config(step: str = "PT15M") -> Config:
    return parse_config(DYNAMIC.replace("PT15M", step), env={})


def _hour(h: int, price: str, state: str = "firm") -> MarketPrice:
    return MarketPrice(datetime(2026, 3, 2, h, tzinfo=BERLIN), Duration.PT1H, Decimal(price), "EUR", state)  # type: ignore[arg-type]


def test_an_hourly_price_covers_its_quarter_hours() -> None:
    cp = TariffCounterparty(_config(), ListedSource([_hour(10, "0.20"), _hour(11, "-0.05", "estimated")]))
    start = datetime(2026, 3, 2, 10, tzinfo=BERLIN)
    quarters = intervals_between(start, datetime(2026, 3, 2, 12, tzinfo=BERLIN), Duration.PT15M, BERLIN)
    prices = asyncio.run(cp.prices(quarters))
    # (0.20 + 0.10) x 1.19 = 0.357, export 0.5 x 0.20; (-0.05 + 0.10) x 1.19 = 0.0595, export -0.025
    assert [(p.import_per_kwh, p.export_per_kwh, p.state) for p in prices] == [
        (Decimal("0.357"), Decimal("0.100"), "firm")
    ] * 4 + [(Decimal("0.0595"), Decimal("-0.025"), "estimated")] * 4


def test_quarter_hour_prices_are_averaged_over_an_hourly_step() -> None:
    quarter = [
        MarketPrice(datetime(2026, 3, 2, 10, 15 * k, tzinfo=BERLIN), Duration.PT15M, Decimal(v), "EUR", s)  # type: ignore[arg-type]
        for k, (v, s) in enumerate(
            (("0.10", "firm"), ("0.20", "firm"), ("0.30", "indicative"), ("0.40", "firm"))
        )
    ]
    cp = TariffCounterparty(_config("PT1H"), ListedSource(quarter))
    hour = intervals_between(quarter[0].start, datetime(2026, 3, 2, 11, tzinfo=BERLIN), Duration.PT1H, BERLIN)
    (price,) = asyncio.run(cp.prices(hour))
    assert price.market_per_kwh == Decimal("0.25")
    assert price.import_per_kwh == Decimal("0.4165")  # (0.25 + 0.10) x 1.19
    assert price.state == "indicative"


def test_an_interval_without_a_market_price_is_an_error() -> None:
    cp = TariffCounterparty(_config(), ListedSource([_hour(10, "0.20")]))
    quarters = intervals_between(
        datetime(2026, 3, 2, 10, 45, tzinfo=BERLIN),
        datetime(2026, 3, 2, 11, 15, tzinfo=BERLIN),
        Duration.PT15M,
        BERLIN,
    )
    with pytest.raises(TariffError, match=r"no market price for all of 2026-03-02T11:00:00\+01:00 PT15M"):
        asyncio.run(cp.prices(quarters))
