"""The market price source a tariff's ``market`` section names: fixed, ENTSO-E, aWATTar or Octopus (an
OpenADR program's is its VEN's book, given by the caller)."""

from __future__ import annotations

from agent.clock import Clock
from agent.config import Config
from agent.config.octopus import OctopusMarketPrice
from agent.config.openadr import OpenAdrMarket
from agent.config.price_service import FetchedMarketPrice
from agent.config.tariff import AwattarMarketPrice, EntsoeMarketPrice, FixedMarketPrice
from agent.tariff.awattar import AwattarClient
from agent.tariff.dynamic import DynamicPriceSource, PriceService
from agent.tariff.entsoe import EntsoeClient
from agent.tariff.entsoe_zones import zone_code
from agent.tariff.errors import TariffError
from agent.tariff.http_fetch import RetryPolicy
from agent.tariff.octopus import OctopusClient
from agent.tariff.sources import FixedPriceSource, MarketPriceSource


def market_source(config: Config, clock: Clock) -> MarketPriceSource:
    tariff = config.market.tariff
    if tariff is None:
        raise TariffError("market.source is not a tariff")
    market = tariff.market
    currency = config.site.currency
    # A price program's own source is its VEN's book; without one it stands on its base rate.
    if isinstance(market, FixedMarketPrice | OpenAdrMarket):
        return FixedPriceSource(market.price_per_kwh, currency, config.zone, step=config.planner.step)
    policy = RetryPolicy(market.timeout_s, market.retries, market.backoff_s)
    service: PriceService
    if isinstance(market, EntsoeMarketPrice):
        service = EntsoeClient(
            token=market.token.get_secret_value(),
            zone_eic=zone_code(market.zone),
            currency=currency,
            policy=policy,
            clock=clock,
            base_url=market.base_url,
        )
    elif isinstance(market, OctopusMarketPrice):
        service = OctopusClient(
            product_code=market.product_code,
            tariff_code=market.tariff_code,
            vat_included=market.vat_included,
            policy=policy,
            clock=clock,
            base_url=market.base_url,
        )
    else:
        assert isinstance(market, AwattarMarketPrice)
        service = AwattarClient(country=market.country, policy=policy, clock=clock, base_url=market.base_url)
    return dynamic_source(config, market, service, clock)


def dynamic_source(
    config: Config, market: FetchedMarketPrice, service: PriceService, clock: Clock
) -> DynamicPriceSource:
    """Day-ahead prices from ``service`` as the config's ``market`` section schedules them: the
    cache in the state directory, the refresh period and the days estimates are made from."""
    return DynamicPriceSource(
        service,
        state_dir=config.state_dir,
        currency=config.site.currency,
        zone=config.zone,
        clock=clock,
        refresh_s=market.refresh_s,
        estimate_days=market.estimate_days,
    )
