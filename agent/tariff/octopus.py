"""Unit rates of an Octopus Energy tariff (Agile and other timed tariffs), the public REST API.

The request: ``GET {base_url}/v1/products/{product}/electricity-tariffs/{tariff}/standard-unit-rates/
?period_from=ISO&period_to=ISO&page_size=N`` — no token for a public product. The reply, newest
first and paginated: ``{"count": N, "next": URL|null, "previous": URL|null, "results":
[{"value_exc_vat": 18.9, "value_inc_vat": 19.845, "valid_from": "...Z", "valid_to": "...Z",
"payment_method": null}, ...]}`` — pence per kWh, one rate per half hour for Agile (negative when
the wholesale market is). An empty ``results`` means not published yet: Agile's next day appears
around 16:00 UK time.

The agent's plan steps nest in the hour (1 h, 15 min, 5 min), so each half-hour rate becomes two
quarter-hour prices at the same price, in GBP per kWh (pence / 100, exactly).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from itertools import pairwise
from typing import Any

from yarl import URL

from agent.clock import Clock
from agent.market.intervals import Duration
from agent.tariff.errors import PriceFormatError, PriceServiceError, PricesNotPublished
from agent.tariff.http_fetch import RetryPolicy, get, retryable_status
from agent.tariff.sources import MarketPrice

SERVICE = "Octopus Energy"
# The largest page the API serves; a plan's few days of half hours (48 a day) fit on one.
PAGE_SIZE = 1500
# More pages than this for a few days of rates is not the price list that was asked for.
MAX_PAGES = 10
PENCE_PER_POUND = Decimal(100)
HALF_HOUR = timedelta(minutes=30)
QUARTER = Duration.PT15M
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


@dataclass(frozen=True, slots=True)
class UnitRate:
    """One rate of the tariff over ``[start, end)``, in pence per kWh as the API writes it."""

    start: datetime
    end: datetime
    pence_per_kwh: Decimal


@dataclass(frozen=True, slots=True)
class Page:
    rates: list[UnitRate]
    next_url: str | None


def _iso(instant: datetime) -> str:
    return instant.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _instant(entry: dict[str, Any], key: str, where: str) -> datetime:
    value = entry.get(key)
    try:
        if not isinstance(value, str):
            raise ValueError("not a string")
        instant = datetime.fromisoformat(value)
    except ValueError as e:
        raise PriceFormatError(SERVICE, f"{where}.{key}", f"must be an ISO 8601 time (got {value!r})") from e
    if instant.tzinfo is None:
        raise PriceFormatError(SERVICE, f"{where}.{key}", f"needs a UTC offset (got {value!r})")
    instant = instant.astimezone(UTC)
    if (instant - _EPOCH) % HALF_HOUR:
        raise PriceFormatError(SERVICE, f"{where}.{key}", f"must be on a whole half hour (got {value!r})")
    return instant


def _rate(entry: Any, where: str, value_key: str) -> UnitRate:
    if not isinstance(entry, dict):
        raise PriceFormatError(SERVICE, where, "must be an object")
    start = _instant(entry, "valid_from", where)
    if entry.get("valid_to") is None:
        # A rate without an end (a flat tariff's) has no half hours to plan with.
        raise PriceFormatError(SERVICE, f"{where}.valid_to", "is null: not a tariff with timed unit rates")
    end = _instant(entry, "valid_to", where)
    if end <= start:
        raise PriceFormatError(
            SERVICE, f"{where}.valid_to", f"must be after valid_from (got {end} <= {start})"
        )
    value = entry.get(value_key)
    if isinstance(value, int) and not isinstance(value, bool):
        value = Decimal(value)
    if not isinstance(value, Decimal) or not value.is_finite():
        raise PriceFormatError(SERVICE, f"{where}.{value_key}", f"must be a number (got {value!r})")
    return UnitRate(start, end, value)


def parse_page(body: bytes, *, vat_included: bool) -> Page:
    """The rates of one reply page (in the order sent) and the next page's URL; raises naming the field."""
    try:
        # Decimal straight from the text: 19.845 p stays 0.19845 GBP exactly.
        doc = json.loads(body.decode("utf-8"), parse_float=Decimal)
    except (UnicodeDecodeError, ValueError) as e:
        raise PriceFormatError(SERVICE, "document", f"not UTF-8 JSON ({e})") from e
    if not isinstance(doc, dict):
        raise PriceFormatError(SERVICE, "document", "must be a JSON object")
    results = doc.get("results")
    if not isinstance(results, list):
        raise PriceFormatError(SERVICE, "results", "must be a list")
    next_url = doc.get("next")
    if next_url is not None and not isinstance(next_url, str):
        raise PriceFormatError(SERVICE, "next", f"must be a URL or null (got {next_url!r})")
    value_key = "value_inc_vat" if vat_included else "value_exc_vat"
    return Page([_rate(e, f"results[{i}]", value_key) for i, e in enumerate(results)], next_url)


def quarter_hour_prices(rates: list[UnitRate], start: datetime, end: datetime) -> list[MarketPrice]:
    """Firm GBP-per-kWh prices of the quarter hours of ``rates`` that overlap ``[start, end)``, in
    order; two rates for the same time are refused."""
    ordered = sorted(rates, key=lambda r: r.start)
    for before, after in pairwise(ordered):
        if after.start < before.end:
            raise PriceFormatError(SERVICE, "results", f"two rates for {after.start.isoformat()}")
    step = QUARTER.nominal
    # From the quarter hour holding ``start``: a rate valid for months costs only what is asked.
    first = start.astimezone(UTC) - (start.astimezone(UTC) - _EPOCH) % step
    out = []
    for rate in ordered:
        price = rate.pence_per_kwh / PENCE_PER_POUND
        at = max(rate.start, first)
        while at < rate.end and at < end:
            out.append(MarketPrice(at, QUARTER, price, "GBP", "firm"))
            at += step
    return out


class OctopusClient:
    """Fetches one tariff's unit rates, following ``next`` pages (bounded); typed errors, never None."""

    def __init__(
        self,
        *,
        product_code: str,
        tariff_code: str,
        vat_included: bool,
        policy: RetryPolicy,
        clock: Clock,
        base_url: str,
    ) -> None:
        self._base = URL(base_url.rstrip("/"))
        self._url = str(
            self._base
            / "v1"
            / "products"
            / product_code
            / "electricity-tariffs"
            / tariff_code
            / "standard-unit-rates"
            / ""
        )
        self._product_code = product_code
        self._tariff_code = tariff_code
        self._vat_included = vat_included
        self._policy = policy
        self._clock = clock
        # The cache in the state directory is per tariff and per VAT choice.
        self.name = f"octopus:{tariff_code}:{'inc' if vat_included else 'exc'}-vat"

    async def fetch(self, start: datetime, end: datetime) -> list[MarketPrice]:
        url = self._url
        params: dict[str, str] = {
            "period_from": _iso(start),
            "period_to": _iso(end),
            "page_size": str(PAGE_SIZE),
        }
        rates: list[UnitRate] = []
        for _ in range(MAX_PAGES):
            reply = await get(SERVICE, url, params, self._policy, self._clock)
            self._check_status(reply.status, reply.text_head())
            page = parse_page(reply.body, vat_included=self._vat_included)
            rates += page.rates
            if page.next_url is None:
                break
            # The next page's URL carries the query; it must stay on the service asked.
            url, params = self._same_service(page.next_url), {}
        else:
            raise PriceFormatError(SERVICE, "next", f"more than {MAX_PAGES} pages of rates for one request")
        prices = quarter_hour_prices(rates, start, end)
        if not prices:
            raise PricesNotPublished(SERVICE, f"no unit rates from {_iso(start)} to {_iso(end)}")
        return prices

    def _check_status(self, status: int, head: str) -> None:
        if status == 200:
            return
        if status == 404:
            raise PriceServiceError(
                SERVICE,
                f"HTTP 404: no tariff {self._tariff_code} in product {self._product_code} "
                "(check product_code and tariff_code)",
                retryable=False,
            )
        raise PriceServiceError(SERVICE, f"HTTP {status}: {head}", retryable=retryable_status(status))

    def _same_service(self, next_url: str) -> str:
        target = URL(next_url)
        if not target.is_absolute() or target.origin() != self._base.origin():
            raise PriceFormatError(SERVICE, "next", f"points away from {self._base.origin()} ({next_url!r})")
        return next_url
