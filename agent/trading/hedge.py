"""How much the home's own tenders may trade: what hedges the plan, and no more.

A bid curve says how much more the home would buy (sell) at a price in an interval, and its
tenders offer that. But when the home expects spot to settle further below the retailer's quotes
than its spread margin (``market.spot_spread_per_kwh``; :mod:`agent.trading.spot_premium` learns
how spot settles against the quotes), a sale near a quote looks like money whatever the house
does: once it executes, the next plan holds the sold position and buys it back at spot rather
than export, and the next curve offers the same again. So a home could sell forward many times
what it exports, a bet on the quotes' premium with the grid's price spikes for its risk.

Own tenders therefore follow the rule the acceptances follow (:mod:`agent.trading.accept`): in
each interval the position is brought to ``hedge_ratio`` of the planned grid exchange and no
further. The room is what that leaves after the position held and the acceptances decided in
the same cycle; a curve's increments are kept best price first until it is used up.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal

import numpy as np

from agent.market.intervals import Interval
from agent.market.records import Side
from agent.optimizer import Plan
from agent.optimizer.structure import Vec
from agent.planning.market import covered_by
from agent.trading.accept import AcceptDecision
from agent.trading.rules import TradingRules


def hedge_room_kw(
    plan: Plan,
    intervals: Sequence[Interval],
    position_kw: Vec,
    accepts: Sequence[AcceptDecision],
    hedge_ratio: float,
) -> list[tuple[float, float]]:
    """Per plan interval, (kW the home may still post to buy, kW it may still post to sell)."""
    horizon = tuple(intervals)
    gap = hedge_ratio * np.asarray(plan.series["grid_kw"], dtype=np.float64) - np.asarray(
        position_kw, dtype=np.float64
    )
    for a in accepts:
        signed = float(a.quantity_kw) if a.home_side is Side.BUY else -float(a.quantity_kw)
        for i in covered_by(a.interval, horizon):
            gap[i] -= signed
    return [(max(0.0, float(g)), max(0.0, -float(g))) for g in gap]


def within_room(
    increments: Sequence[tuple[Side, Decimal, Decimal]], room_kw: tuple[float, float], rules: TradingRules
) -> list[tuple[Side, Decimal, Decimal]]:
    """The increments (side, price, kW) cut to ``room_kw`` per side, the home's best price first
    (the dearest buy would be taken first, so it is kept first; the cheapest sell likewise),
    each quantity rounded down to the quantity step (and dropped below the least worth posting)."""
    left = {Side.BUY: Decimal(repr(room_kw[0])), Side.SELL: Decimal(repr(room_kw[1]))}
    kept: list[tuple[Side, Decimal, Decimal]] = []
    ranked = sorted(increments, key=lambda x: (x[0].value, -x[1] if x[0] is Side.BUY else x[1]))
    for side, price, qty in ranked:
        q = rules.floor_kw(min(qty, left[side]))
        if q > 0:
            kept.append((side, price, q))
            left[side] -= q
    return sorted(kept, key=lambda x: (x[0].value, x[1]))
