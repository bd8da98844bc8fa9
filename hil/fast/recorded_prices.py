"""A day-ahead price service that replays the scenario's recorded prices, published as the market does.

It stands in for the HTTP client of a dynamic tariff (ENTSO-E, aWATTar, ...: anything behind
``agent.tariff.dynamic.PriceService``) in a virtual-time run, where no HTTP is done. A day's
hourly prices become known at ``publish_at`` local market time on the day before (the exchanges'
day-ahead results, around 13:00 CET); a request for a period nothing of which is published yet
raises :class:`PricesNotPublished`, exactly as the services answer for tomorrow in the morning, so
the agent plans the second day of its horizon on its own estimates until the prices appear.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, time, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from agent.clock import Clock
from agent.market.intervals import Duration
from agent.tariff.errors import PricesNotPublished
from agent.tariff.sources import MarketPrice

HOUR = timedelta(hours=1)


def published_until(now: datetime, zone: ZoneInfo, publish_at: time) -> datetime:
    """The end of the last local day whose prices are published at ``now`` (UTC)."""
    local = now.astimezone(zone)
    days_ahead = 2 if local.time() >= publish_at else 1
    end_day = local.date() + timedelta(days=days_ahead)
    return datetime.combine(end_day, time(0), tzinfo=zone).astimezone(UTC)


def hourly_prices(
    price_at: Callable[[datetime], Decimal], start: datetime, end: datetime, currency: str
) -> list[MarketPrice]:
    """The recorded hourly prices overlapping ``[start, end)``, on whole UTC hours."""
    first = start.astimezone(UTC).replace(minute=0, second=0, microsecond=0)
    out = []
    at = first
    while at < end:
        out.append(MarketPrice(at, Duration.PT1H, price_at(at), currency, "firm"))
        at += HOUR
    return out


class RecordedDayAhead:
    """``PriceService`` over recorded prices (currency per kWh by instant), on the run's clock."""

    def __init__(
        self,
        name: str,
        price_at: Callable[[datetime], Decimal],
        *,
        currency: str,
        zone: ZoneInfo,
        clock: Clock,
        publish_at: time,
    ) -> None:
        self.name = name
        self._price_at = price_at
        self._currency = currency
        self._zone = zone
        self._clock = clock
        self._publish_at = publish_at
        self.requests = 0
        self.refused = 0

    async def fetch(self, start: datetime, end: datetime) -> list[MarketPrice]:
        self.requests += 1
        until = published_until(self._clock.now(), self._zone, self._publish_at)
        if start >= until:
            self.refused += 1
            raise PricesNotPublished(self.name, f"no prices after {until.isoformat()} yet")
        return hourly_prices(self._price_at, start, min(end, until), self._currency)
