"""The market prices of a virtual-time run under a household contract.

A time-of-use or flat contract stands on a fixed price: the agent's own source serves it (None
here). A dynamic day-ahead contract gets the agent's own :class:`DynamicPriceSource` — its cache
in the state directory, its refresh schedule and its estimates for intervals not yet published —
over :class:`~hil.fast.recorded_prices.RecordedDayAhead` in place of the service's HTTP client
(those clients are tested against local servers; no HTTP runs on virtual time). It works for any
``PriceService``: the config's ``market.source.market`` says only how often to look again and
how many days to estimate from.
"""

from __future__ import annotations

from agent.clock import Clock
from agent.config import Config
from agent.config.tariff import FetchedMarketPrice
from agent.tariff.dynamic import DynamicPriceSource
from agent.tariff.sources import MarketPriceSource
from hil.fast.recorded_prices import RecordedDayAhead
from hil.sim.scenario import Scenario
from hil.sim.tariff import home_prices


def recorded_market_prices(scenario: Scenario, config: Config, clock: Clock) -> MarketPriceSource | None:
    """The recorded-price source of a dynamic contract, or None where the contract's own serves."""
    tariff = config.market.tariff
    contract = scenario.contract
    if contract is None or tariff is None or not isinstance(tariff.market, FetchedMarketPrice):
        return None
    recorded = home_prices(scenario.home, scenario.start, run_seed=scenario.seed)
    service = RecordedDayAhead(
        tariff.market.type,
        recorded.at,
        currency=config.site.currency,
        zone=config.zone,
        clock=clock,
        publish_at=contract.publish_at,
    )
    return DynamicPriceSource(
        service,
        state_dir=config.state_dir,
        currency=config.site.currency,
        zone=config.zone,
        clock=clock,
        refresh_s=tariff.market.refresh_s,
        estimate_days=tariff.market.estimate_days,
    )
