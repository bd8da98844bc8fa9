"""The retailer's forward risk premium by local hour (hil/retailer/premium.py) and the volatile
spot it leaves alone, as the scenario's tariff builds them."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

from hil.retailer import PricingRules
from hil.retailer.premium import PremiumPrices, premium_per_kwh

BERLIN = ZoneInfo("Europe/Berlin")
RULES = PricingRules(
    forward_premium_per_kwh=Decimal("0.001"),
    peak_premium_per_kwh=Decimal("0.02"),
    solar_premium_per_kwh=Decimal("-0.01"),
)


@dataclass(frozen=True)
class Flat:
    forward: Decimal
    spot: Decimal

    def at(self, instant: datetime) -> Decimal:
        return self.forward

    def spot_at(self, instant: datetime) -> Decimal:
        return self.spot


def test_the_premium_by_local_hour() -> None:
    # flat 0.001 everywhere; +0.02 from 17:00 to 21:00; -0.01 from 10:00 to 16:00 (local, [from, to))
    assert [premium_per_kwh(RULES, h) for h in (3, 10, 15, 16, 17, 20, 21)] == [
        Decimal("0.001"),
        Decimal("-0.009"),
        Decimal("-0.009"),
        Decimal("0.001"),
        Decimal("0.021"),
        Decimal("0.021"),
        Decimal("0.001"),
    ]


def test_the_premium_moves_the_forward_price_on_the_local_clock_and_leaves_spot_alone() -> None:
    prices = PremiumPrices(Flat(Decimal("0.05"), Decimal("0.07")), RULES, BERLIN)
    evening = datetime(2026, 6, 15, 18, 30, tzinfo=BERLIN)  # 16:30 UTC: the local hour counts
    assert prices.at(evening) == Decimal("0.071")
    assert prices.spot_at(evening) == Decimal("0.07")
    # The retailer's ladder is built on the forward price with the premium.
    assert RULES.sell_price(prices.at(evening), 0) == Decimal("0.05") + Decimal("0.021") + Decimal(
        "0.10"
    ) + Decimal("0.002")
