"""The Octopus market section of a tariff: product and tariff codes, the region, VAT once."""

from __future__ import annotations

import pytest

from agent.config import ConfigError, parse_config
from agent.config.octopus import OctopusMarketPrice
from agent.config.tariff import MarketPriceConfig

HEAD = """\
site: {id: home, timezone: Europe/London, latitude: 51.5, longitude: -0.1, currency: CURRENCY}
devices:
  grid: {role: meter, driver: {type: simulated}}
market:
  source:
    type: tariff
    vat_multiplier: VAT
    market:
      type: octopus
      product_code: AGILE-24-10-01
"""


def _text(body: str, currency: str, vat: str) -> str:
    return HEAD.replace("CURRENCY", currency).replace("VAT", vat) + body


def _parse(body: str, currency: str = "GBP", vat: str = "1.05") -> MarketPriceConfig:
    config = parse_config(_text(body, currency, vat), "home.yaml", env={})
    assert config.market.tariff is not None
    return config.market.tariff.market


def _problems(body: str, currency: str = "GBP", vat: str = "1.05") -> list[tuple[int | None, str, str]]:
    with pytest.raises(ConfigError) as caught:
        parse_config(_text(body, currency, vat), "home.yaml", env={})
    return [(p.line, p.path, p.message) for p in caught.value.problems]


def test_an_agile_tariff_with_its_defaults() -> None:
    market = _parse("      tariff_code: E-1R-AGILE-24-10-01-C\n")
    assert isinstance(market, OctopusMarketPrice)
    assert (market.tariff_code, market.vat_included, market.base_url) == (
        "E-1R-AGILE-24-10-01-C",
        False,
        "https://api.octopus.energy",
    )
    assert (market.timeout_s, market.retries, market.refresh_s, market.estimate_days) == (8.0, 2, 900.0, 3)


def test_a_region_letter_that_is_no_gsp_region_is_named() -> None:
    # Great Britain's GSP groups run A..P without I and O.
    for letter in ("I", "O", "Q", "c"):
        ((line, path, message),) = _problems(f"      tariff_code: E-1R-AGILE-24-10-01-{letter}\n")
        assert (line, path) == (11, "market.source.market.tariff_code")
        assert message.startswith(f"ends in region '{letter}', not a GSP region; regions: A Eastern England")


def test_a_tariff_of_another_product_or_kind_is_named() -> None:
    ((line, path, message),) = _problems("      tariff_code: E-1R-AGILE-FLEX-22-11-25-C\n")
    assert (line, path) == (11, "market.source.market.tariff_code")
    assert message == (
        "E-1R-AGILE-FLEX-22-11-25-C is not a tariff of product AGILE-24-10-01 (E-1R-AGILE-24-10-01-<region>)"
    )
    # Economy 7 style two-register tariffs have day and night rates, not standard unit rates.
    ((_, path, message),) = _problems("      tariff_code: E-2R-AGILE-24-10-01-C\n")
    assert path == "market.source.market.tariff_code"
    assert "single-register electricity tariff code E-1R-<product code>-<region>" in message


def test_vat_is_added_once() -> None:
    body = "      tariff_code: E-1R-AGILE-24-10-01-C\n      vat_included: true\n"
    ((line, path, message),) = _problems(body, vat="1.05")
    assert (line, path) == (7, "market.source.vat_multiplier")
    assert message.startswith("must be 1 with market.vat_included: true")
    market = _parse(body, vat="1.0")
    assert isinstance(market, OctopusMarketPrice)
    assert market.vat_included is True


def test_octopus_needs_a_site_counting_in_pounds() -> None:
    problems = _problems("      tariff_code: E-1R-AGILE-24-10-01-C\n", currency="EUR")
    assert [(path, message) for _, path, message in problems] == [
        ("market.source.market.type", "octopus quotes prices in GBP; site.currency is EUR")
    ]


def test_a_bad_product_code_and_url_are_named() -> None:
    problems = _problems("      tariff_code: E-1R-AGILE-24-10-01-C\n      base_url: api.octopus.energy\n")
    assert [(line, path) for line, path, _ in problems] == [(12, "market.source.market.base_url")]
    text = _text("      tariff_code: E-1R-agile-C\n", "GBP", "1.05").replace(
        "product_code: AGILE-24-10-01", "product_code: agile"
    )
    with pytest.raises(ConfigError) as caught:
        parse_config(text, "home.yaml", env={})
    assert [(p.line, p.path) for p in caught.value.problems] == [
        (10, "market.source.market.product_code"),
        (11, "market.source.market.tariff_code"),
    ]
