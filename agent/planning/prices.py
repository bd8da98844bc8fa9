"""Expected prices where no actionable tender is on offer, and the transport adders.

Expected price of interval t, per side (``buy``: what the home expects to pay; ``sell``: to be
paid), first that applies:

1. the retailer's indicative (actionable=false) tenders covering t, the shortest interval first:
   its lowest ``sell`` price for buying, its highest ``buy`` price for selling, unless an
   actionable quote covers t (an hour's indicative price outlives the ladder that replaces it,
   and taken as the price of waiting it made every rung of that ladder a tie with waiting: the
   plan bought at the ask and sold back at the bid each time a forecast moved);
2. the spot price of t itself (mean over the metering intervals inside a longer plan step);
3. the retailer's own forward quotes for t (actionable tenders, expired ones included): the mid
   of its lowest ``sell`` and highest ``buy`` price, where it quotes both (one side alone, a lone
   bargain say, says nothing about where spot will settle), plus ``spot_offset_per_kwh[t]``
   where given: how spot has settled against such quotes at that hour of day
   (:mod:`agent.trading.spot_premium`);
4. the latest spot price known (the most recent interval);
5. the configured default.

Rules 2-5 estimate the spot price and apply to both sides, split by ``spot_spread_per_kwh``
(the config's ``market.spot_spread_per_kwh``, default :data:`DEFAULT_SPOT_SPREAD_PER_KWH`): the
home expects to buy at spot + half of it and sell at spot - half. Deviations settle at one
price, but that price is not known yet; without the margin the plan would happily buy any
forward tender a hair below the expected spot price and sell it back at spot, a bet rather than
a hedge. Rule 3 is there because a retailer prices its forward ladder around where it expects
spot to settle: without it every hour of the next day that has no spot price yet was valued at
the price of the current one, so an evening peak a day ahead looked no dearer than the
afternoon. An expected sell price above the expected buy price (odd indicative quotes) would
let the plan trade against itself: it is lowered to the buy price.

Transport: a ``sell`` transport tender *to* the home node prices import, *from* it prices
export; the shortest covering interval wins, actionable before indicative, then the lowest
price. Missing adders are 0; an export adder is raised where needed so that import + export
adders are never negative (the planner would otherwise import and export at once for money).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from datetime import datetime

import numpy as np

from agent.config.sections import DEFAULT_SPOT_SPREAD_PER_KWH
from agent.market.intervals import Interval
from agent.market.records import Product, Side, SpotPrice, Tender
from agent.optimizer.structure import Vec
from agent.planning.market import MarketRules, covered, energy_refusal, quote_refusal, transport_refusal

__all__ = ["DEFAULT_SPOT_SPREAD_PER_KWH", "expected_prices", "market_priced", "transport_adders"]


def expected_prices(
    tenders: Sequence[Tender],
    spot: Sequence[SpotPrice],
    horizon: tuple[Interval, ...],
    rules: MarketRules,
    now: datetime,
    *,
    default_price_per_kwh: float,
    spot_spread_per_kwh: float = DEFAULT_SPOT_SPREAD_PER_KWH,
    spot_offset_per_kwh: Vec | None = None,
) -> tuple[Vec, Vec]:
    """(expected buy, expected sell) per plan interval, currency/kWh."""
    n = len(horizon)
    buy = np.full(n, np.nan)
    sell = np.full(n, np.nan)
    quoted = _quoted_mid(tenders, horizon, rules)
    if spot_offset_per_kwh is not None:
        quoted = quoted + np.asarray(spot_offset_per_kwh, dtype=np.float64)
    best: dict[tuple[Side, int], tuple[float, float]] = {}  # (side, t) -> (span_s, signed price)
    quoted_at = np.isfinite(quoted).tolist()
    for t in tenders:
        if t.actionable or energy_refusal(t, rules, now, horizon) is not None:
            continue
        sign = 1.0 if t.side is Side.SELL else -1.0  # lowest sell, highest buy
        key_price = sign * float(t.price_per_kwh)
        for i in covered(t, horizon):
            if quoted_at[i]:
                continue
            cand = (t.interval.span.total_seconds(), key_price)
            if best.get((t.side, i), (np.inf, np.inf)) > cand:
                best[(t.side, i)] = cand
    for (side, i), (_, signed) in best.items():
        if side is Side.SELL:
            buy[i] = signed
        else:
            sell[i] = -signed
    spot_now = _spot_series(spot, horizon, rules, default_price_per_kwh, quoted)
    half = max(spot_spread_per_kwh, 0.0) / 2.0
    buy = np.where(np.isnan(buy), spot_now + half, buy)
    sell = np.where(np.isnan(sell), spot_now - half, sell)
    return buy, np.minimum(sell, buy)


def market_priced(
    tenders: Sequence[Tender], spot: Sequence[SpotPrice], horizon: tuple[Interval, ...], rules: MarketRules
) -> np.ndarray:
    """Per plan interval: does anything the market said price it (a retailer energy tender
    covering it, or any usable spot price), rather than the configured default alone?

    The trading step posts no tender where this is False: a plan valued at a guess has no
    business offering money for energy (at start-up, before the first spot price, the default
    would have the home bid the default price to a retailer that sells for far less).
    """
    n = len(horizon)
    if any(s.currency == rules.currency and rules.price_ok(s.price_per_kwh) for s in spot):
        return np.ones(n, dtype=bool)
    out = np.zeros(n, dtype=bool)
    for t in tenders:
        if t.product is Product.ENERGY and t.party == rules.retailer_party and t.currency == rules.currency:
            for i in covered(t, horizon):
                out[i] = True
    return out


def _spot_series(
    spot: Sequence[SpotPrice], horizon: tuple[Interval, ...], rules: MarketRules, default: float, quoted: Vec
) -> Vec:
    usable = [s for s in spot if s.currency == rules.currency and rules.price_ok(s.price_per_kwh)]
    latest = max(usable, key=lambda s: s.interval.start_utc, default=None)
    fill = float(latest.price_per_kwh) if latest is not None else default
    out = np.where(np.isnan(quoted), fill, quoted)
    if horizon:
        # Most known spot prices are of the past: only those inside the horizon can price it.
        first, last = horizon[0].start_utc, horizon[-1].end_utc
        usable = [s for s in usable if s.interval.end_utc > first and s.interval.start_utc < last]
    for i, iv in enumerate(horizon):
        inside = [float(s.price_per_kwh) for s in usable if iv.contains_interval(s.interval)]
        if inside:
            out[i] = float(np.mean(inside))
    return out


def _quoted_mid(tenders: Sequence[Tender], horizon: tuple[Interval, ...], rules: MarketRules) -> Vec:
    """Per plan interval, the mid of the retailer's actionable quotes covering it (NaN: not both sides).

    Expired and already-begun tenders count: a quote that can no longer be taken still says
    where the retailer expects the price of its interval (a block closes minutes before its
    hour, before that hour's spot price is out).
    """
    n = len(horizon)
    # Plain lists while looping: an array's element access costs more than the comparison.
    ask_list = [math.inf] * n
    bid_list = [-math.inf] * n
    for t in tenders:
        if not t.actionable or quote_refusal(t, rules) is not None:
            continue
        price = float(t.price_per_kwh)
        if t.side is Side.SELL:
            for i in covered(t, horizon):
                ask_list[i] = min(ask_list[i], price)
        else:
            for i in covered(t, horizon):
                bid_list[i] = max(bid_list[i], price)
    ask = np.array(ask_list, dtype=np.float64)
    bid = np.array(bid_list, dtype=np.float64)
    out = np.full(n, np.nan)
    both = np.isfinite(ask) & np.isfinite(bid)
    out[both] = (ask[both] + bid[both]) / 2.0
    return out


def transport_adders(
    tenders: Sequence[Tender], horizon: tuple[Interval, ...], rules: MarketRules, now: datetime
) -> tuple[Vec, Vec]:
    """(import adder, export adder) per plan interval, currency/kWh."""
    n = len(horizon)
    adders = {True: np.zeros(n), False: np.zeros(n)}  # True: import
    best: dict[tuple[bool, int], tuple[float, int, float]] = {}
    for t in tenders:
        if t.side is not Side.SELL or transport_refusal(t, rules, now) is not None:
            continue
        imports = t.to_node == rules.home_node
        rank = (t.interval.span.total_seconds(), 0 if t.actionable else 1, float(t.price_per_kwh))
        for i in covered(t, horizon):
            if best.get((imports, i), (np.inf, 2, np.inf)) > rank:
                best[(imports, i)] = rank
    for (imports, i), rank in best.items():
        adders[imports][i] = rank[2]
    # Network charges change rarely and are often published only a little ahead: an interval no
    # transport tender covers takes the nearest earlier one (or, before the first, the first).
    # Leaving it at 0 made cycling energy through the grid look free later in the horizon.
    for imports in (True, False):
        known = sorted(i for (side, i) in best if side is imports)
        if known:
            adders[imports] = _carry(adders[imports], known)
    imp = adders[True]
    exp = np.maximum(adders[False], -imp)
    return imp, exp


def _carry(values: Vec, known: list[int]) -> Vec:
    out = values.copy()
    last = values[known[0]]
    known_set = set(known)
    for i in range(len(out)):
        if i in known_set:
            last = values[i]
        else:
            out[i] = last
    return out
