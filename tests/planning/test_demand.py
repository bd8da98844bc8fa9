"""The contract's demand charge as the planner's inputs: which intervals count, where a month starts."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from agent.config import parse_config
from agent.config.tariff import TariffSource
from agent.market.intervals import Duration, intervals_between
from agent.planning.demand import demand_inputs
from agent.planning.devices import devices_from_config
from agent.tariff import HouseholdPrice, MarketPrice, TariffCalendar, household_prices

BERLIN = ZoneInfo("Europe/Berlin")
TARIFF: dict[str, Any] = {
    "type": "tariff",
    "periods": [{"name": "peak", "from": "17:00", "to": "21:00"}, {"name": "off_peak"}],
    "energy_per_kwh": {"energy": "0.25"},
    "demand": {"per_kw": "3.25", "periods": ["peak"]},
}
CONFIG = """
site: {{id: home, timezone: Europe/Berlin, latitude: 52.5, longitude: 13.4, currency: EUR}}
devices:
  grid: {{role: meter, driver: {{type: simulated}}}}
market:
  source: {source}
"""


def _prices(tariff: TariffSource, start: datetime, hours: int) -> list[HouseholdPrice]:
    end = datetime.fromtimestamp(start.timestamp() + hours * 3600, tz=BERLIN)
    ivs = intervals_between(start, end, Duration.PT1H, BERLIN)
    market = [MarketPrice(iv.start_utc, Duration.PT1H, Decimal("0.1"), "EUR", "firm") for iv in ivs]
    return household_prices(tariff, TariffCalendar(tariff, BERLIN), ivs, market, "EUR")


def test_peak_hours_count_and_a_local_month_starts_at_local_midnight() -> None:
    # 30 June 19:00 to 1 July 01:00 in Berlin: 19:00 and 20:00 are peak hours; July begins at
    # local midnight, the sixth hour (22:00 UTC, still June there).
    tariff = TariffSource.model_validate(TARIFF)
    d = demand_inputs(tariff, _prices(tariff, datetime(2026, 6, 30, 19, tzinfo=BERLIN), 6), Decimal("2.5"))
    assert d is not None
    assert d.counts.tolist() == [1.0, 1.0, 0.0, 0.0, 0.0, 0.0]
    assert d.month_starts.tolist() == [0.0, 0.0, 0.0, 0.0, 0.0, 1.0]
    assert (d.per_kw, d.peak_so_far_kw) == (3.25, 2.5)


def test_every_period_counts_where_the_charge_names_none() -> None:
    tariff = TariffSource.model_validate({**TARIFF, "demand": {"per_kw": "3.25"}})
    d = demand_inputs(tariff, _prices(tariff, datetime(2026, 6, 30, 19, tzinfo=BERLIN), 3), Decimal(0))
    assert d is not None
    assert d.counts.tolist() == [1.0, 1.0, 1.0]


def test_no_demand_charge_gives_no_inputs() -> None:
    without = TariffSource.model_validate({k: v for k, v in TARIFF.items() if k != "demand"})
    prices = _prices(without, datetime(2026, 6, 30, 19, tzinfo=BERLIN), 2)
    assert demand_inputs(without, prices, Decimal(0)) is None
    assert demand_inputs(None, prices, Decimal(0)) is None


@pytest.mark.parametrize(
    ("source", "charged"),
    [
        ("retailer", False),
        ('{type: tariff, energy_per_kwh: {energy: "0.25"}}', False),
        ('{type: tariff, energy_per_kwh: {energy: "0.25"}, demand: {per_kw: "3.25"}}', True),
    ],
)
def test_the_planner_carries_a_peak_only_under_a_demand_charge(source: str, charged: bool) -> None:
    extra = "  retailer_party_id: shop\n" if source == "retailer" else ""
    config = parse_config(CONFIG.format(source=source) + extra, env={})
    assert devices_from_config(config).demand_charge is charged
