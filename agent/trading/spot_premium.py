"""How the spot price settles against the retailer's forward quotes, learned by hour of day.

The planner expects spot where nothing better prices an interval at the mid of the retailer's
forward quotes (:mod:`agent.planning.prices`, rule 3). A retailer whose quotes carry a risk
premium — above the spot it expects in the evening peak, below it in the sunny hours — makes
that expectation wrong by the premium, and the plan then hedges forward exactly where it pays
the premium instead of earning it. This learns the correction from what the home saw:

* every plan, :meth:`SpotPremium.observe` takes the book's tenders and spot prices. For each
  hour not yet begun it remembers the mid of the retailer's actionable quotes covering that
  hour (lowest sell, highest buy; the latest seen before the hour began);
* each spot price whose hour has a remembered mid is a sample ``spot − mid``, counted once per
  metering interval, in the bucket of its local hour of day;
* :meth:`offsets` gives, per plan interval, its hour's mean sample shrunk toward 0 as
  ``mean × n / (n + shrink_samples)``: one day's twelve 5-minute samples move it half way
  (``shrink_samples`` 12), so a single spike does not set the next day's hedge.

Samples older than ``keep`` are forgotten (a rolling mean over the last two weeks by default),
so a retailer that changes its pricing is followed. State lives in memory only: after a restart
the correction is learned again.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Sequence
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import numpy as np

from agent.market.intervals import Duration, Interval
from agent.market.records import Product, Side, SpotPrice, Tender
from agent.optimizer.structure import Vec
from agent.planning.market import MarketRules

SHRINK_SAMPLES = 12.0
KEEP = timedelta(days=14)
MID_KEEP = timedelta(days=2)


class SpotPremium:
    def __init__(
        self,
        rules: MarketRules,
        tz: ZoneInfo,
        *,
        shrink_samples: float = SHRINK_SAMPLES,
        keep: timedelta = KEEP,
    ) -> None:
        self.rules = rules
        self.tz = tz
        self.shrink_samples = shrink_samples
        self.keep = keep
        self._mids: dict[Interval, float] = {}  # hourly interval -> mid of the quotes before it began
        self._counted: set[Interval] = set()  # metering intervals already sampled
        # (interval start, local hour, spot − mid), oldest first
        self._samples: deque[tuple[datetime, int, float]] = deque()
        # Running sums and counts per local hour of the samples kept (by_hour runs every plan).
        self._sums = np.zeros(24)
        self._counts = np.zeros(24)

    def observe(self, tenders: Sequence[Tender], spot: Sequence[SpotPrice], now: datetime) -> None:
        asks: dict[Interval, float] = {}
        bids: dict[Interval, float] = {}
        for t in tenders:
            if not self._is_quote(t) or t.interval.start_utc <= now:
                continue
            price = float(t.price_per_kwh)
            if t.side is Side.SELL:
                asks[t.interval] = min(asks.get(t.interval, np.inf), price)
            else:
                bids[t.interval] = max(bids.get(t.interval, -np.inf), price)
        for interval in asks.keys() & bids.keys():
            self._mids[interval] = (asks[interval] + bids[interval]) / 2.0
        for s in spot:
            if (
                s.interval in self._counted
                or s.currency != self.rules.currency
                or not self.rules.price_ok(s.price_per_kwh)
            ):
                continue
            hour = (
                s.interval.parent(Duration.PT1H) if s.interval.duration is not Duration.PT1H else s.interval
            )
            mid = self._mids.get(hour)
            if mid is None:
                continue
            self._counted.add(s.interval)
            local_hour = s.interval.start_utc.astimezone(self.tz).hour
            value = float(s.price_per_kwh) - mid
            self._samples.append((s.interval.start_utc, local_hour, value))
            self._sums[local_hour] += value
            self._counts[local_hour] += 1
        self._forget(now)

    def _is_quote(self, t: Tender) -> bool:
        return (
            t.actionable
            and t.product is Product.ENERGY
            and t.party == self.rules.retailer_party
            and t.currency == self.rules.currency
            and t.interval.duration is Duration.PT1H
            and self.rules.price_ok(t.price_per_kwh)
        )

    def _forget(self, now: datetime) -> None:
        while self._samples and self._samples[0][0] < now - self.keep:
            _, hour, value = self._samples.popleft()
            self._sums[hour] -= value
            self._counts[hour] -= 1
        self._mids = {k: v for k, v in self._mids.items() if k.end_utc > now - MID_KEEP}
        self._counted = {k for k in self._counted if k.end_utc > now - MID_KEEP}

    def by_hour(self) -> Vec:
        """The shrunk mean ``spot − mid`` for each local hour 0..23 (0 where nothing was seen)."""
        sums = np.where(self._counts > 0, self._sums, 0.0)  # an emptied hour leaves float dust
        return np.asarray(sums / (self._counts + self.shrink_samples), dtype=np.float64)

    def offsets(self, intervals: Sequence[Interval]) -> Vec:
        table = self.by_hour()
        return np.array([table[iv.start_utc.astimezone(self.tz).hour] for iv in intervals], dtype=np.float64)
