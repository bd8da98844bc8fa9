"""Which tenders the planner may use: the market rules from the config, and a tender's fitness.

A retailer energy tender is *usable* by the planner when it comes from the configured retailer,
is addressed to this home (or to anyone), is in the site currency, priced within the configured
caps, not expired, its interval has not begun (a rate over an interval already under way would
also cover the past part), and it is at least as long as the plan's step and lies inside the
plan's horizon (a block is only accepted whole, so the plan must see all of it). Transport
tenders may come from any party (the distribution operator, relayed by the retailer) and may
cover intervals already begun.
"""

from __future__ import annotations

import bisect
import itertools
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import ClassVar

from agent.config import Config
from agent.market.intervals import Interval
from agent.market.records import Product, Tender


@dataclass(frozen=True)
class MarketRules:
    home_party: str
    retailer_party: str
    currency: str
    price_min_per_kwh: Decimal
    price_max_per_kwh: Decimal
    max_tender_kw: Decimal
    # Node that names the home in transport tenders: to it = import, from it = export.
    home_node: str

    @classmethod
    def from_config(cls, config: Config) -> MarketRules:
        m = config.market
        return cls(
            home_party=config.party_id,
            retailer_party=m.counterparty_id,
            currency=config.site.currency,
            price_min_per_kwh=m.price_min_per_kwh,
            price_max_per_kwh=m.price_max_per_kwh,
            max_tender_kw=Decimal(str(m.max_tender_kw)),
            home_node=config.party_id,
        )

    def price_ok(self, price_per_kwh: Decimal) -> bool:
        return self.price_min_per_kwh <= price_per_kwh <= self.price_max_per_kwh


def energy_refusal(t: Tender, rules: MarketRules, now: datetime, horizon: tuple[Interval, ...]) -> str | None:
    """Why the planner must not use retailer energy tender ``t`` (None: usable)."""
    source = _retailer_refusal(t, rules)
    if source is not None:
        return source
    common = _common_refusal(t, rules, now)
    if common is not None:
        return common
    if not horizon:
        return "empty horizon"
    if t.interval.span < horizon[0].span:
        return f"{t.interval.duration.value} is shorter than the plan step {horizon[0].duration.value}"
    if t.actionable:
        if t.interval.start_utc <= now:
            return "its interval has begun"
        if t.interval.start_utc < horizon[0].start_utc or t.interval.end_utc > horizon[-1].end_utc:
            return "not wholly inside the plan horizon"
    return None


def transport_refusal(t: Tender, rules: MarketRules, now: datetime) -> str | None:
    if t.product is not Product.TRANSPORT:
        return "not a transport tender"
    if rules.home_node not in (t.to_node, t.from_node):
        return f"neither from nor to the home node {rules.home_node!r}"
    return _common_refusal(t, rules, now)


def quote_refusal(t: Tender, rules: MarketRules) -> str | None:
    """Why retailer energy tender ``t`` says nothing of the retailer's prices for this home, time
    aside (None: it does; expired or begun, it still tells where the retailer puts its price)."""
    return _retailer_refusal(t, rules) or _addressing_refusal(t, rules) or _price_refusal(t, rules)


def _retailer_refusal(t: Tender, rules: MarketRules) -> str | None:
    if t.product is not Product.ENERGY:
        return "not an energy tender"
    if t.party != rules.retailer_party:
        return f"from {t.party!r}, not the retailer {rules.retailer_party!r}"
    return None


def _common_refusal(t: Tender, rules: MarketRules, now: datetime) -> str | None:
    addressing = _addressing_refusal(t, rules)
    if addressing is not None:
        return addressing
    if t.is_expired(now):
        return f"expired at {t.expires.isoformat()}"
    return _price_refusal(t, rules)


def _addressing_refusal(t: Tender, rules: MarketRules) -> str | None:
    if t.counterparty is not None and t.counterparty != rules.home_party:
        return f"addressed to {t.counterparty!r}, not this home"
    if t.currency != rules.currency:
        return f"currency {t.currency} is not the site currency {rules.currency}"
    return None


def _price_refusal(t: Tender, rules: MarketRules) -> str | None:
    if not rules.price_ok(t.price_per_kwh):
        return (
            f"price {t.price_per_kwh} outside the caps [{rules.price_min_per_kwh}, {rules.price_max_per_kwh}]"
        )
    return None


def covered(t: Tender, horizon: Sequence[Interval]) -> list[int]:
    """Indices of the plan intervals that ``t``'s interval contains."""
    return covered_by(t.interval, horizon)


def covered_by(outer: Interval, horizon: Sequence[Interval]) -> list[int]:
    """Indices of the plan intervals that ``outer`` contains."""
    return _HorizonIndex.of(horizon).covered(outer)


class _HorizonIndex:
    """Where a plan horizon's intervals start and end, for bisection.

    A plan asks which of its intervals each of hundreds of tenders covers, several times over
    (ladders, expected prices, transport, acceptances); a scan of the horizon per tender was
    most of a plan's cost outside the solver. The horizon's intervals follow one another, so
    those an outer interval contains are one run: from the first starting at or after its start
    to the last ending at or before its end. A horizon out of order is scanned as before.
    """

    # The horizons asked about lately, by identity (a plan hands the same tuple to every step).
    _recent: ClassVar[list[tuple[tuple[Interval, ...], _HorizonIndex]]] = []

    def __init__(self, horizon: Sequence[Interval]) -> None:
        self.horizon = tuple(horizon)
        self.starts = [iv.start_utc for iv in self.horizon]
        self.ends = [iv.end_utc for iv in self.horizon]
        self.ordered = all(a <= b for a, b in itertools.pairwise(self.starts)) and all(
            a <= b for a, b in itertools.pairwise(self.ends)
        )

    @classmethod
    def of(cls, horizon: Sequence[Interval]) -> _HorizonIndex:
        if not isinstance(horizon, tuple):  # only an immutable horizon may be remembered
            return cls(horizon)
        for known, index in cls._recent:
            if known is horizon:
                return index
        index = cls(horizon)
        cls._recent = [(horizon, index), *cls._recent[:3]]
        return index

    def covered(self, outer: Interval) -> list[int]:
        if not self.ordered:
            return [i for i, iv in enumerate(self.horizon) if outer.contains_interval(iv)]
        lo = bisect.bisect_left(self.starts, outer.start_utc)
        hi = bisect.bisect_right(self.ends, outer.end_utc)
        return list(range(lo, hi))
