"""The home's own tenders, from the plan's bid curves.

A bid curve (``plan.bids``) says, for plan interval t, how many kW more the home would buy
(q > 0) or sell (q < 0) at prices around its marginal value. Buy side: walking the points with
q > 0 from the highest price down, each point adds a buy tender for the *increment* over the
quantity already offered at higher prices; sell side likewise from the lowest price up. If all
execute, the home has walked its curve; if any one executes alone, it bought (sold) no more than
it wanted at that price. Either way the plan's expected cost does not rise.

Rounding keeps that true: quantities round down to the step, buy prices down and sell prices up
to the tick. A buy price above the cap is lowered to the cap and a sell price below the floor
raised to it (a better price for the home); a buy below the floor or a sell above the cap is
dropped. Each tender is capped at ``max_tender_kw``; below ``min_quantity_kw`` it is dropped.

Only intervals that start after now and inside the commitment window get tenders; each expires
``post_lead`` before its interval starts. With the plan's ``ladders``, two more guards: an
interval whose expected price is only the configured default (nothing the market said prices
it) gets no tender, and a buy is never priced above the retailer's cheapest sell tender on
offer there, nor a sell below its dearest buy tender: the retailer would take such a tender at
the home's worse price, although its own tender was there to accept (a lower buy price, like a
higher sell price, only makes the home better off, so the plan's cost still does not rise).
Nor is a buy posted below the retailer's dearest buy tender (a sell above its cheapest sell), or,
with none open on that side, below the plan's expected sell price (above its expected buy
price): no retailer sells for less than it pays, so such a tender would only load the link.

Ids are deterministic from (home, interval, side, price, quantity): posting the same tender
again is idempotent, a changed one is a new tender.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from agent.market.intervals import Interval
from agent.market.records import Product, Side, Tender
from agent.optimizer import BidCurve, Plan
from agent.planning.ladders import Ladders
from agent.trading.errors import TradingError
from agent.trading.hedge import within_room
from agent.trading.rules import TradingRules


def tender_id(home_party: str, interval: Interval, side: Side, price: Decimal, quantity: Decimal) -> str:
    start = interval.start_utc.isoformat()
    # normalize: 0.1 and 0.1000 are the same price, so the same tender gets the same id
    what = f"{side.value}|{price.normalize():f}|{quantity.normalize():f}"
    key = f"{home_party}|{start}|{interval.duration.value}|{what}"
    digest = hashlib.sha256(key.encode()).hexdigest()[:16]
    return f"hems-{side.value}-{interval.start_utc:%Y%m%dT%H%M}Z-{digest}"


def tenders_from_bids(
    plan: Plan,
    intervals: Sequence[Interval],
    rules: TradingRules,
    now: datetime,
    *,
    ladders: Ladders | None = None,
    room_kw: Sequence[tuple[float, float]] | None = None,
) -> list[Tender]:
    """``room_kw``: per plan interval, how many kW the home may still post to buy and to sell
    (:func:`agent.trading.hedge.hedge_room_kw`); None: the curves alone."""
    if len(intervals) != plan.horizon:
        raise TradingError("intervals", f"expected the plan's {plan.horizon} intervals, got {len(intervals)}")
    out: list[Tender] = []
    for curve in plan.bids:
        if not 0 <= curve.interval < len(intervals):
            raise TradingError("plan.bids", f"curve for interval {curve.interval} outside the plan")
        iv = intervals[curve.interval]
        expires = iv.start_utc - rules.post_lead
        if not rules.in_window(iv, now) or expires <= now:
            continue
        limits = _Limits()
        if ladders is not None:
            if ladders.market_priced is not None and not ladders.market_priced[curve.interval]:
                continue
            limits = _limits(ladders, curve.interval)
        increments = _increments(curve, rules, limits)
        if room_kw is not None:
            increments = within_room(increments, room_kw[curve.interval], rules)
        for side, price, qty in increments:
            out.append(
                Tender(
                    id=tender_id(rules.home_party, iv, side, price, qty),
                    party=rules.home_party,
                    counterparty=rules.retailer_party,
                    side=side,
                    product=Product.ENERGY,
                    interval=iv,
                    quantity_kw=qty,
                    price_per_kwh=price,
                    currency=rules.currency,
                    expires=expires,
                    actionable=True,
                )
            )
    return out


def postable_price_range(
    intervals: Sequence[Interval],
    rules: TradingRules,
    now: datetime,
    which: range,
    *,
    ladders: Ladders | None = None,
) -> dict[int, tuple[float, float]]:
    """For each plan interval in ``which`` that :func:`tenders_from_bids` could post a tender in,
    the prices a bid curve there is worth probing at: a buy point below the low end, or a sell
    point above the high end, would be dropped (below the retailer's dearest buy, above its
    cheapest sell). The planner probes only inside these (each probe is a full solve); the
    tenders posted are the same as from the whole curve."""
    out: dict[int, tuple[float, float]] = {}
    if not rules.forward_trading:
        return out
    for t in which:
        if not 0 <= t < len(intervals):
            continue
        iv = intervals[t]
        if not rules.in_window(iv, now) or iv.start_utc - rules.post_lead <= now:
            continue
        limits = _Limits()
        if ladders is not None:
            if ladders.market_priced is not None and not ladders.market_priced[t]:
                continue
            limits = _limits(ladders, t)
        # A buy is rounded down to the tick and a sell up: a price outside the range stays out.
        low = -math.inf if limits.buy_floor is None else float(limits.buy_floor)
        high = math.inf if limits.sell_cap is None else float(limits.sell_cap)
        out[t] = (low, high)
    return out


@dataclass(frozen=True)
class _Limits:
    ask: Decimal | None = None  # cheapest retailer sell on offer: no home buy above it
    bid: Decimal | None = None  # dearest retailer buy on offer: no home sell below it
    buy_floor: Decimal | None = None  # no home buy below it (it would never be taken)
    sell_cap: Decimal | None = None  # no home sell above it


def _limits(ladders: Ladders, t: int) -> _Limits:
    """With no retailer tender open on a side, the expected prices stand in for the floor and
    cap: a buy below what the home expects to be paid for energy, or a sell above what it
    expects to pay, is not a price any retailer sells or buys at."""
    ask, bid = ladders.best_prices(t)
    floor = bid if bid is not None else Decimal(repr(float(ladders.expected_sell_per_kwh[t])))
    cap = ask if ask is not None else Decimal(repr(float(ladders.expected_buy_per_kwh[t])))
    return _Limits(ask, bid, floor, cap)


def _increments(
    curve: BidCurve, rules: TradingRules, limits: _Limits | None = None
) -> list[tuple[Side, Decimal, Decimal]]:
    limits = limits or _Limits()
    best_ask, best_bid = limits.ask, limits.bid
    merged: dict[tuple[Side, Decimal], Decimal] = {}
    for side in (Side.BUY, Side.SELL):
        buying = side is Side.BUY
        points = [p for p in curve.points if (p.quantity_kw > 0 if buying else p.quantity_kw < 0)]
        # Buy: from the dearest price down; sell: from the cheapest up (quantities grow that way).
        points.sort(key=lambda p: p.price_per_kwh, reverse=buying)
        offered = 0.0
        for point in points:
            want = abs(point.quantity_kw)
            if want <= offered:
                continue  # solver noise: a point that wants less than a better-priced one
            price = rules.tick(point.price_per_kwh, up=not buying)
            if buying and best_ask is not None and price > best_ask:
                price = best_ask
            if not buying and best_bid is not None and price < best_bid:
                price = best_bid
            # A buy below what the retailer itself pays (a sell above what it charges) is never
            # taken; posting it would only fill the link (worse prices follow: stop here).
            if buying and limits.buy_floor is not None and price < limits.buy_floor:
                break
            if not buying and limits.sell_cap is not None and price > limits.sell_cap:
                break
            if buying and price > rules.price_max_per_kwh:
                price = rules.price_max_per_kwh
            if not buying and price < rules.price_min_per_kwh:
                price = rules.price_min_per_kwh
            if rules.price_ok(price):
                key = (side, price)
                merged[key] = merged.get(key, Decimal(0)) + Decimal(repr(want - offered))
            offered = want
    out = []
    for (side, price), qty in sorted(merged.items(), key=lambda kv: (kv[0][0].value, kv[0][1])):
        q = rules.floor_kw(qty)
        if q > 0:
            out.append((side, price, q))
    return out
