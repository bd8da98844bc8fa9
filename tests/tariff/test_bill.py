"""Bill lines by component from metered energy, priced by hand."""

from __future__ import annotations

import asyncio
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from agent.config import Config, load_config, parse_config
from agent.market.intervals import Duration, Interval, containing, intervals_between
from agent.market.records import Delivery
from agent.tariff import BillLine, TariffCounterparty, TariffError, bill_lines

ROOT = Path(__file__).parents[2]
LA = ZoneInfo("America/Los_Angeles")


def _deliveries(
    config: Config, start: datetime, end: datetime, kwh: dict[int, tuple[str, str]]
) -> list[Delivery]:
    """One delivery per metering interval; ``kwh`` maps a local hour to (import, export) in each."""
    out = []
    for iv in intervals_between(start, end, config.metering_interval, config.zone):
        imp, exp = kwh.get(iv.start.hour, ("0", "0"))
        out.append(Delivery(iv, "home", Decimal(imp), Decimal(exp)))
    return out


def _bill(config: Config, start: datetime, end: datetime, deliveries: list[Delivery]) -> list[BillLine]:
    cp = TariffCounterparty(config)
    first = containing(start, config.planner.step, config.zone)
    prices = asyncio.run(cp.prices(intervals_between(first.start_utc, end, config.planner.step, config.zone)))
    assert config.market.tariff is not None
    return bill_lines(config.market.tariff, prices, deliveries)


def test_us_tou_weekday_bill_by_component() -> None:
    config = load_config(ROOT / "configs" / "examples" / "us_tou.yaml", env={})
    start, end = datetime(2026, 7, 15, tzinfo=LA), datetime(2026, 7, 16, tzinfo=LA)
    # 0.25 kWh imported in every 15 minutes (1 kWh an hour); 0.125 exported per 15 min 10:00-14:00.
    kwh = {h: ("0.25", "0.125" if 10 <= h < 14 else "0") for h in range(24)}
    lines = _bill(config, start, end, _deliveries(config, start, end, kwh))
    assert lines == [
        BillLine("market", Decimal("24.00"), "kWh", Decimal("0")),
        # 15 h x 0.11 + 4 h x 0.14 + 5 h x 0.20
        BillLine("generation", Decimal("24.00"), "kWh", Decimal("3.21")),
        # 15 h x 0.22 + 4 h x 0.25 + 5 h x 0.30
        BillLine("delivery", Decimal("24.00"), "kWh", Decimal("5.80")),
        BillLine("vat", Decimal("24.00"), "kWh", Decimal("0")),
        # 4 h x 0.5 kWh x 0.04
        BillLine("export", Decimal("2.000"), "kWh", Decimal("-0.08")),
        BillLine("base_services", Decimal(1), "day", Decimal("0.39")),
    ]


DEMAND = """\
site: {id: home, timezone: America/Los_Angeles, latitude: 37.7, longitude: -122.4, currency: USD}
devices:
  grid: {role: meter, driver: {type: simulated}}
market:
  source:
    type: tariff
    periods:
      - {name: peak, from: "16:00", to: "21:00"}
      - {name: off_peak}
    energy_per_kwh: {energy: 0.20}
    fixed_per_month: {customer: 10}
    demand: {per_kw: 12.5, periods: [peak]}
"""


def test_demand_charge_takes_the_months_highest_peak_average() -> None:
    config = parse_config(DEMAND, env={})
    start, end = datetime(2026, 7, 15, tzinfo=LA), datetime(2026, 7, 16, tzinfo=LA)
    deliveries = _deliveries(config, start, end, {3: ("2", "0"), 17: ("0.75", "0"), 18: ("0.5", "0")})
    lines = _bill(config, start, end, deliveries)
    # off-peak 2 kWh a quarter hour (8 kW) does not count; the peak's highest is 0.75 / 0.25 h = 3 kW.
    assert BillLine("demand", Decimal("3"), "kW", Decimal("37.5")) in lines
    assert BillLine("customer", Decimal(1), "month", Decimal("10")) in lines
    # 4 x 2 + 4 x 0.75 + 4 x 0.5 = 13 kWh at 0.20
    assert BillLine("energy", Decimal("13.00"), "kWh", Decimal("2.6000")) in lines


def test_a_delivery_without_a_price_is_an_error() -> None:
    config = parse_config(DEMAND, env={})
    iv = Interval(datetime(2026, 7, 17, tzinfo=LA), Duration.PT15M, LA)
    with pytest.raises(
        TariffError, match="no tariff price for the delivery of 2026-07-17T00:00:00-07:00 PT15M"
    ):
        _bill(
            config,
            datetime(2026, 7, 15, tzinfo=LA),
            datetime(2026, 7, 16, tzinfo=LA),
            [Delivery(iv, "home", Decimal(1), Decimal(0))],
        )
