"""The records of the market: tenders, transactions, spot prices and deliveries.

Field names follow OASIS Energy Interop / CTS in spirit. Quantities are constant *rates* of
delivery over an interval (kW); prices are currency per kWh; both are :class:`Decimal`. A tender's
``side`` is seen from its issuer (``party``): a retailer's ``sell`` tender offers energy to the home.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from enum import StrEnum

from agent.market.intervals import Interval

_SECONDS_PER_HOUR = Decimal(3600)


class Side(StrEnum):
    BUY = "buy"
    SELL = "sell"

    @property
    def opposite(self) -> Side:
        return Side.SELL if self is Side.BUY else Side.BUY


class Product(StrEnum):
    ENERGY = "energy"
    TRANSPORT = "transport"


def interval_hours(interval: Interval) -> Decimal:
    """Exact length of an interval in hours, as a Decimal for money arithmetic."""
    return Decimal(int(interval.span.total_seconds())) / _SECONDS_PER_HOUR


@dataclass(frozen=True, slots=True)
class Tender:
    id: str
    party: str
    counterparty: str | None
    side: Side
    product: Product
    interval: Interval
    quantity_kw: Decimal
    price_per_kwh: Decimal
    currency: str
    expires: datetime
    actionable: bool
    from_node: str | None = None
    to_node: str | None = None

    @property
    def energy_kwh(self) -> Decimal:
        return self.quantity_kw * interval_hours(self.interval)

    def is_expired(self, now: datetime) -> bool:
        return now >= self.expires


@dataclass(frozen=True, slots=True)
class Transaction:
    """An executed tender (or part of one): the only source of money owed."""

    id: str
    tender_id: str
    buyer: str
    seller: str
    product: Product
    interval: Interval
    quantity_kw: Decimal
    price_per_kwh: Decimal
    currency: str
    executed: datetime
    from_node: str | None = None
    to_node: str | None = None

    def involves(self, party: str) -> bool:
        return party in (self.buyer, self.seller)

    def signed_kw(self, party: str) -> Decimal:
        """Rate of delivery to ``party``: + if it bought, - if it sold, 0 if not involved."""
        if party == self.buyer:
            return self.quantity_kw
        if party == self.seller:
            return -self.quantity_kw
        return Decimal(0)

    @property
    def energy_kwh(self) -> Decimal:
        return self.quantity_kw * interval_hours(self.interval)

    def amount_owed(self, party: str) -> Decimal:
        """What ``party`` pays for this transaction (negative: what it receives)."""
        return self.signed_kw(party) * interval_hours(self.interval) * self.price_per_kwh


@dataclass(frozen=True, slots=True)
class SpotPrice:
    """The retailer's price for deviations from the position in one metering interval."""

    interval: Interval
    price_per_kwh: Decimal
    currency: str


@dataclass(frozen=True, slots=True)
class Position:
    """Net forward rate held by ``party`` over one metering interval: bought minus sold (kW).

    Every transaction whose interval contains this one counts, so an hourly block counts in each
    of its twelve 5-minute intervals.
    """

    interval: Interval
    party: str
    net_kw: Decimal

    @property
    def energy_kwh(self) -> Decimal:
        return self.net_kw * interval_hours(self.interval)


@dataclass(frozen=True, slots=True)
class Delivery:
    """Metered energy of a closed metering interval, from meter counter deltas."""

    interval: Interval
    party: str
    import_kwh: Decimal
    export_kwh: Decimal

    @property
    def net_kwh(self) -> Decimal:
        """Net import (grid sign convention: + import, - export)."""
        return self.import_kwh - self.export_kwh
