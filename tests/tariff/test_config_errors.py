"""A bad tariff section is reported with its file, line and key path, every problem at once."""

from __future__ import annotations

from decimal import Decimal

import pytest

from agent.config import ConfigError, parse_config
from agent.config.tariff import FixedExport, RetailerSource, TariffSource

HEAD = """\
site: {id: home, timezone: America/Los_Angeles, latitude: 37.7, longitude: -122.4, currency: USD}
devices:
  grid: {role: meter, driver: {type: simulated}}
market:
  source:
    type: tariff
"""


def _problems(body: str) -> list[tuple[int | None, str, str]]:
    with pytest.raises(ConfigError) as caught:
        parse_config(HEAD + body, "home.yaml", env={})
    return [(p.line, p.path, p.message) for p in caught.value.problems]


def test_defaults_to_the_retailer_link() -> None:
    config = parse_config(HEAD.split("market:", maxsplit=1)[0], env={})
    assert config.market.source == RetailerSource(type="retailer")
    assert config.market.tariff is None
    assert config.market.counterparty_id == "retailer"


def test_shorthand_retailer_source() -> None:
    config = parse_config(HEAD.replace("  source:\n    type: tariff\n", "  source: retailer\n"), env={})
    assert config.market.source == RetailerSource(type="retailer")


def test_a_valid_tariff_loads_with_its_prices() -> None:
    config = parse_config(
        HEAD + "    energy_per_kwh: {energy: 0.25}\n    export: {type: fixed, price_per_kwh: 0.05}\n", env={}
    )
    tariff = config.market.tariff
    assert isinstance(tariff, TariffSource)
    assert tariff.energy_per_kwh == {"energy": Decimal("0.25")}
    assert tariff.export == FixedExport(type="fixed", price_per_kwh=Decimal("0.05"))
    assert config.market.counterparty_id == "tariff"


def test_unknown_period_in_a_rate_names_the_part() -> None:
    body = """\
    periods:
      - {name: peak, from: "16:00", to: "21:00"}
      - {name: off_peak}
    energy_per_kwh:
      generation: {peak: 0.3, offpeak: 0.1}
"""
    assert _problems(body) == [
        (11, "market.source.energy_per_kwh.generation", "unknown period 'offpeak'; periods: off_peak, peak")
    ]


def test_a_missing_period_price_names_the_part() -> None:
    body = """\
    periods:
      - {name: peak, from: "16:00", to: "21:00"}
      - {name: off_peak}
    network_per_kwh:
      delivery: {peak: 0.3}
"""
    assert _problems(body) == [
        (11, "market.source.network_per_kwh.delivery", "no price for period 'off_peak'")
    ]


def test_last_period_must_catch_everything() -> None:
    body = """\
    periods:
      - {name: peak, from: "16:00", to: "21:00"}
      - {name: off_peak, days: [weekday]}
"""
    ((line, path, message),) = _problems(body)
    assert (line, path) == (9, "market.source.periods[1]")
    assert message.startswith("the last period must name no seasons, days or window")


def test_holiday_days_need_a_calendar_and_seasons_must_exist() -> None:
    body = """\
    periods:
      - {name: peak, seasons: [summer], days: [holiday]}
      - {name: off_peak}
"""
    assert sorted(_problems(body)) == [
        (8, "market.source.periods[0].days", "names 'holiday' but the tariff has no 'holidays' calendar"),
        (8, "market.source.periods[0].seasons", "unknown season 'summer'; defined: none"),
    ]


def test_bad_values_name_their_keys() -> None:
    body = """\
    holidays: {country: XX}
    seasons:
      summer: {from: "13-01", to: "09-30"}
    periods:
      - {name: peak, from: "16:00"}
      - {name: off_peak, days: [funday]}
    export: {type: share}
    vat_multiplier: -1
"""
    paths = [path for _, path, _ in _problems(body)]
    assert paths == [
        "market.source.holidays.country",
        "market.source.seasons.summer.from",
        "market.source.periods[0]",
        "market.source.periods[1].days[0]",
        "market.source.export.type",
        "market.source.vat_multiplier",
    ]


def test_unknown_subdivision_is_named() -> None:
    ((line, path, message),) = _problems("    holidays: {country: US, subdivision: ZZ}\n")
    assert (line, path) == (7, "market.source.holidays.subdivision")
    assert message.startswith("unknown subdivision 'ZZ' of US; known: ")


def test_tariff_and_retailer_link_exclude_each_other() -> None:
    body = "retailer: {broker: local, topic_prefix: tem}\nmqtt_brokers: {local: {host: 127.0.0.1}}\n"
    problems = _problems(body)
    assert (
        7,
        "retailer",
        "market.source is a tariff: remove the retailer section (or set market.source: retailer)",
    ) in problems


def test_a_price_outside_the_market_caps_is_named() -> None:
    # Bug guarded: the planner drops tenders outside the caps, so such a contract was planned at
    # the default price without a word.
    body = "    energy_per_kwh: {energy: 4.0}\n    network_per_kwh: {grid: 0.5}\n    vat_multiplier: 1.2\n"
    assert _problems(body) == [
        (
            5,
            "market.source",
            "import price 5.4 in period 'all_day' lies outside "
            "market.price_min_per_kwh..price_max_per_kwh [-1.00, 5.00]; widen the caps",
        )
    ]


def test_demand_charge_names_an_unknown_period() -> None:
    body = "    demand: {per_kw: 10, periods: [peak]}\n"
    assert _problems(body) == [(7, "market.source.demand.periods", "unknown period 'peak'; periods: all_day")]
