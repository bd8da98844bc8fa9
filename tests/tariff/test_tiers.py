"""Tiered rates: monthly import blocks, priced and billed by hand."""

from __future__ import annotations

import asyncio
from datetime import datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from agent.config import Config, ConfigError, parse_config
from agent.market.intervals import Duration, Interval, intervals_between
from agent.market.records import Delivery
from agent.tariff import BillLine, TariffCounterparty, bill_lines

LA = ZoneInfo("America/Los_Angeles")
TIERED = """\
site: {id: home, timezone: America/Los_Angeles, latitude: 37.7, longitude: -122.4, currency: USD}
planner: {step: PT1H}
devices:
  grid: {role: meter, driver: {type: simulated}}
market:
  source:
    type: tariff
    energy_per_kwh: {energy: 0.30}
    vat_multiplier: 1.1
    tiers:
      - {up_to_kwh: 10, adder_per_kwh: -0.05}
      - {adder_per_kwh: 0.10}
"""


def _config() -> Config:
    return parse_config(TIERED, env={})


def test_price_follows_the_months_import_so_far() -> None:
    config = _config()
    cp = TariffCounterparty(config)
    iv = Interval(datetime(2026, 7, 1, tzinfo=LA), Duration.PT1H, LA)
    low = asyncio.run(cp.prices([iv], month_import_kwh=Decimal("9.9")))[0]
    high = asyncio.run(cp.prices([iv], month_import_kwh=Decimal(10)))[0]
    assert low.import_per_kwh == Decimal("0.275")  # (0.30 - 0.05) x 1.1
    assert high.import_per_kwh == Decimal("0.440")  # (0.30 + 0.10) x 1.1
    assert high.import_parts["tier"] == Decimal("0.10")


def test_bill_splits_a_delivery_across_the_tier_boundary() -> None:
    config = _config()
    start, end = datetime(2026, 7, 1, tzinfo=LA), datetime(2026, 7, 1, 3, tzinfo=LA)
    cp = TariffCounterparty(config)
    prices = asyncio.run(cp.prices(intervals_between(start, end, Duration.PT1H, LA)))
    # 4 kWh a quarter hour for three hours: 48 kWh; the first 10 in tier 1, 38 in tier 2.
    deliveries = [
        Delivery(iv, "home", Decimal(4), Decimal(0))
        for iv in intervals_between(start, end, Duration.PT15M, LA)
    ]
    assert config.market.tariff is not None
    lines = bill_lines(config.market.tariff, prices, deliveries)
    by_name = {line.component: line for line in lines}
    assert by_name["energy"] == BillLine("energy", Decimal(48), "kWh", Decimal("14.40"))  # 48 x 0.30
    assert by_name["tier"].amount == Decimal("3.30")  # 10 x -0.05 + 38 x 0.10
    assert by_name["vat"].amount == Decimal("1.770")  # (14.40 + 3.30) x 0.1


def test_tiers_must_rise_and_end_open() -> None:
    bad = TIERED.replace("      - {adder_per_kwh: 0.10}\n", "      - {up_to_kwh: 5, adder_per_kwh: 0.10}\n")
    with pytest.raises(ConfigError) as caught:
        parse_config(bad, "home.yaml", env={})
    assert [(p.line, p.path, p.message) for p in caught.value.problems] == [
        (12, "market.source.tiers[1].up_to_kwh", "must be above the previous tier's 10 kWh")
    ]
