"""The risk premium in the retailer's forward quotes, by local hour of day.

A retailer that serves many homes settles its portfolio's deviations at spot. In the evening
peak its portfolio is short (everyone cooks, the sun is down): a spot spike there costs it
most, so it pays for forward energy it can count on and charges for forward demand — its
forward quotes stand *above* the day-ahead price. At midday the homes' PV makes it long: it
charges less for forward demand and pays less for forward supply — its quotes stand *below*.
This is the hedging-pressure account of forward premiums (positive where demand and its risk
are high, negative where they are low); its sizes here are documented settings, not fitted.

``premium(h) = flat + peak (peak_from_h <= h < peak_to_h) + solar (solar_from_h <= h < solar_to_h)``
with ``h`` the local hour the quoted interval starts in (the settings are
:class:`~hil.retailer.pricing.PricingRules` fields, so a scenario's ``simulate.pricing`` sets
them). :class:`PremiumPrices` lays it over the forward price the retailer quotes and reviews the
home's tenders on; the spot price deviations settle at is left alone. So a trade forward earns
or pays the premium against the expected spot price, and a home that moves its forward
position out of the peak and into the sunny hours earns it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

from hil.retailer.pricing import PricingRules, WholesalePrices

PEAK_HOURS = (17, 21)  # local [from, to): the evening peak
SOLAR_HOURS = (10, 16)  # local [from, to): the PV hours


def premium_per_kwh(rules: PricingRules, local_hour: int) -> Decimal:
    out = rules.forward_premium_per_kwh
    if PEAK_HOURS[0] <= local_hour < PEAK_HOURS[1]:
        out += rules.peak_premium_per_kwh
    if SOLAR_HOURS[0] <= local_hour < SOLAR_HOURS[1]:
        out += rules.solar_premium_per_kwh
    return out


def has_premium(rules: PricingRules) -> bool:
    return any((rules.forward_premium_per_kwh, rules.peak_premium_per_kwh, rules.solar_premium_per_kwh))


@dataclass(frozen=True)
class PremiumPrices:
    """``base``'s forward prices plus the premium of their local hour; its spot prices unchanged."""

    base: WholesalePrices
    rules: PricingRules
    tz: ZoneInfo

    def at(self, instant: datetime) -> Decimal:
        return self.base.at(instant) + premium_per_kwh(self.rules, instant.astimezone(self.tz).hour)

    def spot_at(self, instant: datetime) -> Decimal:
        return self.base.spot_at(instant)
