"""Every price an OpenADR program's SIMPLE levels can set lies within the market's price caps.

The planner refuses tenders priced outside ``market.price_min/max_per_kwh`` as garbage, so a
level priced outside them would leave the home planning on the base rate during that very event.
The base rate itself is checked with the rest of the contract (agent/config/tariff.py).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from agent.config.base import Finding
from agent.config.openadr import OpenAdrMarket
from agent.config.tariff import FixedMarketPrice, TariffSource, tariff_price_caps


def openadr_level_caps(v: Mapping[str, Any]) -> Finding | None:
    market = v.get("market")
    source = getattr(market, "source", None)
    if not isinstance(source, TariffSource) or not isinstance(source.market, OpenAdrMarket):
        return None
    for level, price in sorted(source.market.simple_levels.items()):
        # The contract as it stands while the level holds: the same formula over the level's price.
        during = source.model_copy(update={"market": FixedMarketPrice(price_per_kwh=price)})
        found = tariff_price_caps({"market": market.model_copy(update={"source": during})})  # type: ignore[union-attr]
        if found is not None:
            return f"market.source.market.simple_levels.{level}", f"at SIMPLE level {level}: {found[1]}"
    return None
