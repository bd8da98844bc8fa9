"""Where market prices come from: a small protocol, and the fixed-price source of TOU and flat tariffs.

Dynamic day-ahead services (ENTSO-E, aWATTar, ...) implement :class:`MarketPriceSource` too; the
household formula (agent/tariff/household.py) is applied over whatever a source returns.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Literal, Protocol
from zoneinfo import ZoneInfo

from agent.market.intervals import Duration, Interval, intervals_between

PriceState = Literal["firm", "indicative", "estimated"]


@dataclass(frozen=True, slots=True)
class MarketPrice:
    """The market (wholesale) price of one interval: firm once published, else indicative or estimated."""

    start: datetime
    duration: Duration
    price_per_kwh: Decimal
    currency: str
    state: PriceState

    def interval(self, zone: ZoneInfo) -> Interval:
        return Interval(self.start, self.duration, zone)


class MarketPriceSource(Protocol):
    async def prices(self, start: datetime, end: datetime) -> list[MarketPrice]:
        """Prices of every interval of the source's step that overlaps ``[start, end)``."""
        ...


class FixedPriceSource:
    """One price for every interval, as firm as the contract: the base of a TOU or flat tariff."""

    def __init__(
        self,
        price_per_kwh: Decimal,
        currency: str,
        zone: ZoneInfo,
        *,
        step: Duration = Duration.PT15M,
        state: PriceState = "firm",
    ) -> None:
        self._price = price_per_kwh
        self._currency = currency
        self._zone = zone
        self._step = step
        self._state: PriceState = state

    async def prices(self, start: datetime, end: datetime) -> list[MarketPrice]:
        return [
            MarketPrice(iv.start_utc, self._step, self._price, self._currency, self._state)
            for iv in intervals_between(start, end, self._step, self._zone)
        ]
