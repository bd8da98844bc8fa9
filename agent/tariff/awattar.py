"""Day-ahead prices from aWATTar (Germany and Austria), the public market-data API.

The request: ``GET {base_url}/v1/marketdata?start=MS&end=MS`` (milliseconds since the Unix epoch;
``api.awattar.de`` for DE-LU, ``api.awattar.at`` for AT). The reply:
``{"object": "list", "data": [{"start_timestamp": MS, "end_timestamp": MS, "marketprice": 42.09,
"unit": "Eur/MWh"}, ...]}`` — the EPEX day-ahead price of each market time unit in euro per MWh
(negative when the market is oversupplied). An empty ``data`` list means not published yet.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from itertools import pairwise
from typing import Any

from agent.clock import Clock
from agent.market.intervals import Duration
from agent.tariff.errors import PriceFormatError, PriceServiceError, PricesNotPublished
from agent.tariff.http_fetch import RetryPolicy, get
from agent.tariff.sources import MarketPrice

SERVICE = "aWATTar"
BASE_URLS = {"de": "https://api.awattar.de", "at": "https://api.awattar.at"}
STEPS: dict[timedelta, Duration] = {
    Duration.PT15M.nominal: Duration.PT15M,
    Duration.PT1H.nominal: Duration.PT1H,
}
UNIT = "Eur/MWh"
KWH_PER_MWH = Decimal(1000)
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def _ms(instant: datetime) -> int:
    return (instant.astimezone(UTC) - _EPOCH) // timedelta(milliseconds=1)


def _timestamp(entry: Mapping[str, Any], key: str, where: str) -> datetime:
    value = entry.get(key)
    if not isinstance(value, int) or isinstance(value, bool):
        raise PriceFormatError(SERVICE, f"{where}.{key}", f"must be milliseconds since 1970 (got {value!r})")
    return _EPOCH + timedelta(milliseconds=value)


def parse_reply(body: bytes) -> list[MarketPrice]:
    """The firm prices of a ``/v1/marketdata`` reply, in order; raises naming the bad field."""
    try:
        # Decimal straight from the text: 42.09 EUR/MWh stays 0.04209 EUR/kWh exactly.
        doc = json.loads(body.decode("utf-8"), parse_float=Decimal)
    except (UnicodeDecodeError, ValueError) as e:
        raise PriceFormatError(SERVICE, "document", f"not UTF-8 JSON ({e})") from e
    if not isinstance(doc, dict) or doc.get("object") != "list":
        raise PriceFormatError(SERVICE, "object", 'expected a JSON object with "object": "list"')
    data = doc.get("data")
    if not isinstance(data, list):
        raise PriceFormatError(SERVICE, "data", "must be a list")
    prices = [_entry(entry, f"data[{i}]") for i, entry in enumerate(data)]
    prices.sort(key=lambda p: p.start)
    for before, after in pairwise(prices):
        if after.start < before.start + before.duration.nominal:
            raise PriceFormatError(SERVICE, "data", f"two prices for {after.start.isoformat()}")
    return prices


def _entry(entry: Any, where: str) -> MarketPrice:
    if not isinstance(entry, dict):
        raise PriceFormatError(SERVICE, where, "must be an object")
    start = _timestamp(entry, "start_timestamp", where)
    end = _timestamp(entry, "end_timestamp", where)
    step = STEPS.get(end - start)
    if step is None:
        raise PriceFormatError(
            SERVICE,
            f"{where}.end_timestamp",
            f"must be 15 or 60 minutes after start_timestamp (got {end - start})",
        )
    if entry.get("unit") != UNIT:
        raise PriceFormatError(SERVICE, f"{where}.unit", f"expected {UNIT!r}, got {entry.get('unit')!r}")
    price = entry.get("marketprice")
    if isinstance(price, int) and not isinstance(price, bool):
        price = Decimal(price)
    if not isinstance(price, Decimal) or not price.is_finite():
        raise PriceFormatError(SERVICE, f"{where}.marketprice", f"must be a number (got {price!r})")
    return MarketPrice(start, step, price / KWH_PER_MWH, "EUR", "firm")


class AwattarClient:
    """Fetches the day-ahead prices of aWATTar's market (DE-LU or AT); typed errors, never None."""

    def __init__(
        self, *, country: str, policy: RetryPolicy, clock: Clock, base_url: str | None = None
    ) -> None:
        self._base_url = (base_url or BASE_URLS[country]).rstrip("/")
        self._policy = policy
        self._clock = clock
        self.name = f"awattar:{country}"

    async def fetch(self, start: datetime, end: datetime) -> list[MarketPrice]:
        params = {"start": str(_ms(start)), "end": str(_ms(end))}
        reply = await get(SERVICE, f"{self._base_url}/v1/marketdata", params, self._policy, self._clock)
        if reply.status != 200:
            raise PriceServiceError(
                SERVICE, f"HTTP {reply.status}: {reply.text_head()}", retryable=reply.status >= 500
            )
        prices = [
            p for p in parse_reply(reply.body) if p.start < end and p.start + p.duration.nominal > start
        ]
        if not prices:
            raise PricesNotPublished(SERVICE, f"no prices from {start.isoformat()} to {end.isoformat()}")
        return prices
