"""A dynamic tariff's market prices: a day-ahead price service, its cache, and estimates.

``prices(start, end)`` is asked by every plan. It answers from the prices it knows (fetched, or
read from the cache in the state directory after a restart) and asks the service only for what it
lacks, at most once every ``refresh_s`` — the schedule on which late prices are looked for again.
Intervals after the last published price (tomorrow's prices, which ENTSO-E publishes around 12:45
CET) are **estimated**: the mean of the prices at the same local time on up to ``estimate_days``
earlier days. A service that stays down leaves the home on its last prices and estimates from
them; once the request starts after the last known price, there is nothing left to go on and a
:class:`TariffError` says so — the plan phase then keeps the last good plan or the safe rules.
Nothing else escapes: service and cache failures are logged once and the source carries on.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime, timedelta
from decimal import ROUND_HALF_EVEN, Decimal
from pathlib import Path
from typing import Protocol
from zoneinfo import ZoneInfo

from agent.clock import Clock
from agent.market.intervals import Duration, intervals_between
from agent.runtime.state_file import StateFileError
from agent.tariff import price_cache
from agent.tariff.errors import PricesNotPublished, TariffError
from agent.tariff.sources import MarketPrice

log = logging.getLogger(__name__)

# A refresh runs inside a plan (whose limit is 30 s): whatever the retries, it gives up after this.
FETCH_BUDGET_S = 20.0
# Estimates are rounded to a millionth of the currency per kWh (a thousandth per MWh).
ESTIMATE_QUANTUM = Decimal("0.000001")
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


class PriceService(Protocol):
    name: str

    async def fetch(self, start: datetime, end: datetime) -> list[MarketPrice]:
        """Published prices overlapping ``[start, end)``; raises TariffError subclasses."""
        ...


class DynamicPriceSource:
    def __init__(
        self,
        service: PriceService,
        *,
        state_dir: Path,
        currency: str,
        zone: ZoneInfo,
        clock: Clock,
        refresh_s: float,
        estimate_days: int,
    ) -> None:
        self._service = service
        self._currency = currency
        self._zone = zone
        self._clock = clock
        self._refresh_s = refresh_s
        self._estimate_days = estimate_days
        self._path = price_cache.cache_path(state_dir, service.name)
        self._known: dict[datetime, MarketPrice] = {}
        self._loaded = False
        self._last_try_s: float | None = None
        # What went wrong last (None: the last fetch worked); logged on change only.
        self.last_error: str | None = None
        # True while the service fails (not merely "not published yet"): the page says the agent
        # runs on its last prices.
        self.down = False

    @property
    def name(self) -> str:
        return self._service.name

    async def prices(self, start: datetime, end: datetime) -> list[MarketPrice]:
        if not self._loaded:
            await self._load()
        gap = self._first_missing(start, end)
        if gap is not None and self._due():
            # On a cold start (no cache) the days before are fetched too: estimates stand on them.
            cold = not any(p.start < start for p in self._known.values())
            await self._refresh(start - timedelta(days=self._estimate_days) if cold else gap, end)
        return self._answer(start, end)

    def _due(self) -> bool:
        now_s = self._clock.monotonic_s()
        return self._last_try_s is None or now_s - self._last_try_s >= self._refresh_s

    async def _load(self) -> None:
        self._loaded = True
        try:
            found = await asyncio.to_thread(price_cache.load, self._path, self._service.name, self._currency)
        except StateFileError as e:
            log.warning("price cache %s not used: %s", self._path, e.reason)
            return
        self._known.update((p.start, p) for p in found)

    def _last_end(self) -> datetime | None:
        if not self._known:
            return None
        last = max(self._known.values(), key=lambda p: p.start)
        return last.start + last.duration.nominal

    def _first_missing(self, start: datetime, end: datetime) -> datetime | None:
        """The first instant of ``[start, end)`` no known price covers, or None."""
        at = start
        while at < end:
            price = self._covering(at)
            if price is None:
                return at
            at = price.start + price.duration.nominal
        return None

    def _covering(self, instant: datetime) -> MarketPrice | None:
        utc = instant.astimezone(UTC)
        for step in (Duration.PT15M.nominal, Duration.PT1H.nominal):
            # Day-ahead steps start on whole quarters and hours of UTC in every zone these services serve.
            price = self._known.get(utc - (utc - _EPOCH) % step)
            if price is not None and price.start + price.duration.nominal > instant:
                return price
        return None

    async def _refresh(self, start: datetime, end: datetime) -> None:
        self._last_try_s = self._clock.monotonic_s()
        try:
            async with asyncio.timeout(FETCH_BUDGET_S):
                fetched = await self._service.fetch(start, end)
        except PricesNotPublished as e:
            self.down = False
            self._note(f"not published yet ({e.reason})", logging.INFO)
            return
        except TariffError as e:
            self.down = True
            self._note(str(e), logging.WARNING)
            return
        except TimeoutError:
            self.down = True
            self._note(f"{self.name}: no prices within {FETCH_BUDGET_S:g} s", logging.WARNING)
            return
        if self.last_error is not None:
            log.info("%s: prices recovered", self.name)
        self.last_error = None
        self.down = False
        self._known.update((p.start, p) for p in fetched)
        self._prune(start)
        try:
            await asyncio.to_thread(
                price_cache.save, self._path, self._service.name, self._currency, list(self._known.values())
            )
        except OSError as e:
            log.warning("price cache %s not written: %s", self._path, e.strerror or e)

    def _note(self, text: str, level: int) -> None:
        if text != self.last_error:
            log.log(level, "%s: %s; planning on known and estimated prices", self.name, text)
        self.last_error = text

    def _prune(self, start: datetime) -> None:
        # Keep what estimates can use (estimate_days before the first gap, and a day to spare).
        keep_from = start - timedelta(days=self._estimate_days + 1)
        for key in [k for k in self._known if k < keep_from]:
            del self._known[key]

    def _answer(self, start: datetime, end: datetime) -> list[MarketPrice]:
        last_end = self._last_end()
        if last_end is None or start >= last_end:
            why = f"; last error: {self.last_error}" if self.last_error else ""
            after = f" after {last_end.isoformat()}" if last_end else ""
            raise TariffError(f"{self.name}: no market prices{after} to plan with{why}")
        known = sorted(
            (p for p in self._known.values() if p.start < end and p.start + p.duration.nominal > start),
            key=lambda p: p.start,
        )
        if last_end >= end:
            return known
        return known + self._estimates(last_end, end, known[-1] if known else None)

    def _estimates(self, start: datetime, end: datetime, last: MarketPrice | None) -> list[MarketPrice]:
        step = (
            last.duration if last is not None else min(self._known.values(), key=lambda p: p.start).duration
        )
        out = []
        for iv in intervals_between(start, end, step, self._zone):
            local = iv.start.replace(tzinfo=None)
            found = []
            for days in range(1, self._estimate_days + 8):
                price = self._covering((local - timedelta(days=days)).replace(tzinfo=self._zone))
                if price is not None:
                    found.append(price.price_per_kwh)
                if len(found) == self._estimate_days:
                    break
            if not found:
                raise TariffError(f"{self.name}: nothing to estimate {iv.start.isoformat()} from")
            mean = (sum(found, Decimal(0)) / len(found)).quantize(ESTIMATE_QUANTUM, ROUND_HALF_EVEN)
            out.append(MarketPrice(iv.start_utc, step, mean, self._currency, "estimated"))
        return out
