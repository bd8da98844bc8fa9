"""The market section of a dynamic tariff: each mistake named with its line and key."""

from __future__ import annotations

from decimal import Decimal

import pytest

from agent.config import ConfigError, parse_config
from agent.config.tariff import AwattarMarketPrice, EntsoeMarketPrice, FixedMarketPrice, MarketPriceConfig

HEAD = """\
site: {id: home, timezone: Europe/Berlin, latitude: 52.5, longitude: 13.4, currency: CURRENCY}
devices:
  grid: {role: meter, driver: {type: simulated}}
market:
  source:
    type: tariff
    market:
"""


def _parse(body: str, currency: str = "EUR", env: dict[str, str] | None = None) -> MarketPriceConfig:
    config = parse_config(HEAD.replace("CURRENCY", currency) + body, "home.yaml", env=env or {})
    assert config.market.tariff is not None
    return config.market.tariff.market


def _problems(
    body: str, currency: str = "EUR", env: dict[str, str] | None = None
) -> list[tuple[int | None, str, str]]:
    with pytest.raises(ConfigError) as caught:
        parse_config(HEAD.replace("CURRENCY", currency) + body, "home.yaml", env=env or {})
    return [(p.line, p.path, p.message) for p in caught.value.problems]


def test_entsoe_zone_by_name_token_from_the_environment() -> None:
    market = _parse(
        "      type: entsoe\n      zone: NL\n      token: {env: ENTSOE_TOKEN}\n", env={"ENTSOE_TOKEN": "t0k"}
    )
    assert isinstance(market, EntsoeMarketPrice)
    assert market.token.get_secret_value() == "t0k"
    assert (market.refresh_s, market.estimate_days, market.retries) == (900.0, 3, 2)


def test_unknown_zone_and_missing_token_are_named() -> None:
    problems = _problems("      type: entsoe\n      zone: DE\n      token: {env: ENTSOE_TOKEN}\n")
    assert [(line, path) for line, path, _ in problems] == [
        (9, "market.source.market.zone"),
        (10, "market.source.market.token"),
    ]
    assert "unknown bidding zone 'DE'" in problems[0][2]
    assert "DE-LU" in problems[0][2]
    assert problems[1][2] == "environment variable ENTSOE_TOKEN is not set"


def test_awattar_needs_a_site_counting_in_euro() -> None:
    problems = _problems("      type: awattar\n      country: at\n", currency="USD")
    assert [(path, message) for _, path, message in problems] == [
        ("market.source.market.type", "awattar quotes prices in EUR; site.currency is USD")
    ]


def test_bad_fetch_settings_are_named() -> None:
    problems = _problems(
        "      type: awattar\n      base_url: ftp://example\n      timeout_s: 60\n      refresh_s: 5\n"
    )
    assert [path for _, path, _ in problems] == [
        "market.source.market.base_url",
        "market.source.market.timeout_s",
        "market.source.market.refresh_s",
    ]


def test_a_market_without_type_is_still_a_fixed_price() -> None:
    market = _parse("      price_per_kwh: 0.12\n")
    assert market == FixedMarketPrice(type="fixed", price_per_kwh=Decimal("0.12"))


def test_awattar_defaults_to_germany() -> None:
    market = _parse("      type: awattar\n")
    assert isinstance(market, AwattarMarketPrice)
    assert (market.country, market.base_url) == ("de", None)
