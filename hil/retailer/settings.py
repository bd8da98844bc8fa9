"""Where the retailer simulator connects, whom it serves, and its publication schedule."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from agent.link.topics import Topics
from agent.market.codec import CodecContext
from agent.market.intervals import Duration


@dataclass(frozen=True)
class RetailerSettings:
    host: str
    port: int
    home: str  # the home's party id (its topics: ``<prefix>/<home>/...``)
    tz: ZoneInfo
    currency: str = "EUR"
    prefix: str = "tem/retailer"
    party: str = "retailer"
    dso_party: str = "dso"
    grid_node: str = "grid"
    price_min_per_kwh: Decimal = Decimal("-1.00")
    price_max_per_kwh: Decimal = Decimal("5.00")
    metering: Duration = Duration.PT5M
    client_id: str = "hems-retailer-sim"
    # Hourly blocks: actionable ladders for the hours starting within this window, indicative
    # prices (one step a side) for the hours after it.
    actionable_h: int = 24
    indicative_h: int = 12
    block_gate: timedelta = timedelta(minutes=5)  # a block closes this long before its hour
    # Metering-interval (5-minute) ladders for the intervals starting within ``near_window``.
    near_window: timedelta = timedelta(minutes=15)
    near_steps: int = 1  # ladder steps a side of the near tenders
    near_gate: timedelta = timedelta(seconds=30)
    spot_lead: timedelta = timedelta(seconds=60)  # spot price published this long before start
    tick_s: float = 5.0

    @property
    def topics(self) -> Topics:
        return Topics(self.prefix, self.home)

    def codec_context(self, now: datetime | None = None) -> CodecContext:
        return CodecContext(
            tz=self.tz,
            currency=self.currency,
            price_min_per_kwh=self.price_min_per_kwh,
            price_max_per_kwh=self.price_max_per_kwh,
            now=now,
            shortest=self.metering,
        )
