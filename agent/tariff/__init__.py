"""The household's contract as a counterparty: its prices per interval, and the tenders they become."""

from agent.tariff.bill import BillLine, bill_lines
from agent.tariff.calendar import TariffCalendar
from agent.tariff.counterparty import TariffCounterparty
from agent.tariff.errors import TariffError
from agent.tariff.household import HouseholdPrice, household_prices
from agent.tariff.sources import FixedPriceSource, MarketPrice, MarketPriceSource, PriceState

__all__ = [
    "BillLine",
    "FixedPriceSource",
    "HouseholdPrice",
    "MarketPrice",
    "MarketPriceSource",
    "PriceState",
    "TariffCalendar",
    "TariffCounterparty",
    "TariffError",
    "bill_lines",
    "household_prices",
]
