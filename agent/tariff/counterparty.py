"""The tariff as a counterparty: standing sell (import) and buy (export) tenders per plan interval.

The planner, trading rules, page and ledger then see the contract as they see a retailer. The
tenders are quotes (``actionable`` false): under a contract nothing is accepted or executed — the
meter's energy is billed at the contract's price — so the planner reads them as the price of each
interval (agent/planning/prices.py, rule 1) and the trading step has nothing to take. Whether a
price is firm, indicative or estimated stays on :class:`HouseholdPrice` for the page and CLI.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from agent.clock import Clock, RealClock
from agent.config import Config
from agent.config.tariff import TariffSource
from agent.market.intervals import Interval
from agent.market.records import Product, Side, Tender
from agent.tariff.calendar import TariffCalendar
from agent.tariff.errors import TariffError
from agent.tariff.household import HouseholdPrice, household_prices
from agent.tariff.market_source import market_source
from agent.tariff.sources import MarketPriceSource


@dataclass(frozen=True, slots=True)
class PricedTenders:
    prices: list[HouseholdPrice]
    tenders: list[Tender]


class TariffCounterparty:
    def __init__(
        self, config: Config, source: MarketPriceSource | None = None, *, clock: Clock | None = None
    ) -> None:
        tariff = config.market.tariff
        if tariff is None:
            raise TariffError("market.source is not a tariff")
        self._tariff: TariffSource = tariff
        self._home = config.party_id
        self._currency = config.site.currency
        # A standing tender offers as much as the home may trade in one tender (market.max_tender_kw).
        self._quantity_kw = Decimal(str(config.market.max_tender_kw))
        self._calendar = TariffCalendar(tariff, config.zone)
        # The clock paces a price service's retries and refreshes (the agent's clock in a simulation).
        self.source: MarketPriceSource = source or market_source(config, clock or RealClock())

    @property
    def party(self) -> str:
        return self._tariff.party_id

    @property
    def name(self) -> str:
        return self._tariff.name

    @property
    def calendar(self) -> TariffCalendar:
        return self._calendar

    async def prices(
        self,
        intervals: Sequence[Interval],
        *,
        month_import_kwh: Decimal = Decimal(0),
        ask_through: datetime | None = None,
    ) -> list[HouseholdPrice]:
        """``month_import_kwh``: the month's import so far, which picks the tier of a tiered rate.
        ``ask_through``: ask the source for market prices up to this instant (one fetch for a
        day rather than one per interval when intervals are priced one by one)."""
        if not intervals:
            return []
        end = intervals[-1].end_utc if ask_through is None else max(intervals[-1].end_utc, ask_through)
        market = await self.source.prices(intervals[0].start_utc, end)
        return household_prices(
            self._tariff, self._calendar, intervals, market, self._currency, month_import_kwh=month_import_kwh
        )

    async def quote(
        self, intervals: Sequence[Interval], *, month_import_kwh: Decimal = Decimal(0)
    ) -> PricedTenders:
        prices = await self.prices(intervals, month_import_kwh=month_import_kwh)
        return PricedTenders(prices, [t for p in prices for t in self.tenders_for(p)])

    def tenders_for(self, price: HouseholdPrice) -> tuple[Tender, Tender]:
        """(sell at the import price, buy at the export price), standing until the interval ends."""
        iv = price.interval
        key = f"{self.party}-{iv.start_utc.strftime('%Y%m%dT%H%M%SZ')}-{iv.duration.value}"
        return self._tender(f"{key}-sell", Side.SELL, price, price.import_per_kwh), self._tender(
            f"{key}-buy", Side.BUY, price, price.export_per_kwh
        )

    def _tender(self, tender_id: str, side: Side, price: HouseholdPrice, price_per_kwh: Decimal) -> Tender:
        return Tender(
            id=tender_id,
            party=self.party,
            counterparty=self._home,
            side=side,
            product=Product.ENERGY,
            interval=price.interval,
            quantity_kw=self._quantity_kw,
            price_per_kwh=price_per_kwh,
            currency=price.currency,
            expires=price.interval.end_utc,
            actionable=False,
        )
