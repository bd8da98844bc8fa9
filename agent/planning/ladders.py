"""The retailer's tenders as the planner's per-interval ladders, and which tender is which step.

Per plan interval t and side (``buy``: the home buys from the retailer's actionable ``sell``
tenders; ``sell``: the home sells into its actionable ``buy`` tenders):

* every usable actionable tender (:mod:`agent.planning.market`) whose interval contains t is a
  step of size ``min(open kW, market.max_tender_kw)`` at its price; a block tender (say an
  hour) is a step in each metering interval it contains;
* steps are sorted by price, best first (cheapest to buy, dearest to sell; ties by id so the
  order is stable) and the first ``steps - 1`` kept; the rest are reported in ``ignored``;
* the last column is the *expected-price* step (:mod:`agent.planning.prices`): energy traded
  later or settled at spot. It is large enough never to bind a physical plan (buying: import
  limit + base load + |position| + what the other side's actionable steps offer + 1 kW;
  selling: export limit + |position| + the buy side's actionable steps + 1 kW), and no larger,
  so that a bid curve never offers to buy energy only to sell it back at the expected price
  beyond what the home could take or feed in;
* unused columns have size 0 (the problem's shape is fixed when the planner is built).

The :class:`LadderMap` remembers, for every (t, step) of each side, the tender and what it offered,
so the trading step can turn the plan's per-step purchases back into acceptances.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

import numpy as np

from agent.market.intervals import Interval
from agent.market.records import Side, SpotPrice, Tender
from agent.optimizer import GridInputs, GridParams, InputError
from agent.optimizer.structure import Vec
from agent.planning.errors import PlanningInputError
from agent.planning.market import MarketRules, covered, energy_refusal
from agent.planning.prices import (
    DEFAULT_SPOT_SPREAD_PER_KWH,
    expected_prices,
    market_priced,
    transport_adders,
)


@dataclass(frozen=True)
class StepRef:
    tender_id: str
    price_per_kwh: Decimal
    step_kw: float  # what the step offered the plan


@dataclass(frozen=True)
class LadderMap:
    """Which actionable tender sits at (plan interval, step) on each side."""

    intervals: tuple[Interval, ...]
    buy: Mapping[tuple[int, int], StepRef]  # the home buys: retailer sell tenders
    sell: Mapping[tuple[int, int], StepRef]  # the home sells: retailer buy tenders
    tenders: Mapping[str, Tender]
    open_kw: Mapping[str, Decimal]  # kW of each mapped tender still open when the map was made

    def cells(self, tender_id: str) -> list[tuple[int, int]]:
        """(t, step) of every cell holding ``tender_id``, by t."""
        side = self.buy if self.tenders[tender_id].side is Side.SELL else self.sell
        return sorted(key for key, ref in side.items() if ref.tender_id == tender_id)


@dataclass(frozen=True)
class Ladders:
    grid: GridInputs
    map: LadderMap
    expected_buy_per_kwh: Vec
    expected_sell_per_kwh: Vec
    ignored: tuple[tuple[str, str], ...] = field(default=())  # (tender id, why), for the log
    # Per interval: priced by the market (a retailer tender or a spot price), not the default alone.
    market_priced: Vec | None = None

    def best_prices(self, t: int) -> tuple[Decimal | None, Decimal | None]:
        """(cheapest retailer sell, dearest retailer buy) on offer in plan interval ``t``."""
        asks = [r.price_per_kwh for (i, _), r in self.map.buy.items() if i == t]
        bids = [r.price_per_kwh for (i, _), r in self.map.sell.items() if i == t]
        return (min(asks) if asks else None, max(bids) if bids else None)


def build_ladders(
    tenders: Sequence[Tender],
    horizon: Sequence[Interval],
    params: GridParams,
    rules: MarketRules,
    now: datetime,
    *,
    position_kw: Vec,
    open_kw: Mapping[str, Decimal] | None = None,
    spot: Sequence[SpotPrice] = (),
    default_price_per_kwh: float,
    spot_spread_per_kwh: float = DEFAULT_SPOT_SPREAD_PER_KWH,
    base_kw: Vec | None = None,
    forward_trading: bool = True,
    spot_offset_per_kwh: Vec | None = None,
) -> Ladders:
    """``open_kw``: tender id -> kW still open to the home (default: the tender's quantity).

    ``forward_trading`` False (the config's ``market.forward_trading``): no tender is a step, the
    plan trades at the expected prices alone (the quotes still say where spot is expected).
    """
    ivs = tuple(horizon)
    n = len(ivs)
    if params.buy_steps < 1 or params.sell_steps < 1:
        raise PlanningInputError("grid.buy_steps", "need at least one step per side (the expected price)")
    position = np.asarray(position_kw, dtype=np.float64)
    if position.shape != (n,) or not np.all(np.isfinite(position)):
        raise PlanningInputError("position_kw", f"expected {n} finite values, got shape {position.shape}")
    ignored: list[tuple[str, str]] = []
    found: dict[Side, dict[int, list[StepRef]]] = {Side.SELL: {}, Side.BUY: {}}
    used: dict[str, Tender] = {}
    open_now: dict[str, Decimal] = {}
    for t in tenders:
        if not t.actionable or not forward_trading:
            continue
        why = energy_refusal(t, rules, now, ivs)
        left = t.quantity_kw if open_kw is None else open_kw.get(t.id, t.quantity_kw)
        if why is None and left <= 0:
            why = "nothing left open"
        if why is not None:
            ignored.append((t.id, why))
            continue
        ref = StepRef(t.id, t.price_per_kwh, float(min(left, rules.max_tender_kw)))
        for i in covered(t, ivs):
            found[t.side].setdefault(i, []).append(ref)
        used[t.id] = t
        open_now[t.id] = left
    exp_buy, exp_sell = expected_prices(
        tenders,
        spot,
        ivs,
        rules,
        now,
        default_price_per_kwh=default_price_per_kwh,
        spot_spread_per_kwh=spot_spread_per_kwh,
        spot_offset_per_kwh=spot_offset_per_kwh,
    )
    imp, exp = transport_adders(tenders, ivs, rules, now)
    base = np.zeros(n) if base_kw is None else np.asarray(base_kw, dtype=np.float64)
    offered = {
        side: np.array([sum(r.step_kw for r in found[side].get(i, [])) for i in range(n)]) for side in found
    }
    slack = np.abs(position) + 1.0
    buy_room = params.import_limit_kw + np.maximum(base, 0.0) + offered[Side.BUY] + slack
    sell_room = params.export_limit_kw + offered[Side.SELL] + slack
    buy_p, buy_kw, buy_map = _side(
        found[Side.SELL], params.buy_steps, exp_buy, buy_room, ignored, dearest_first=False
    )
    sell_p, sell_kw, sell_map = _side(
        found[Side.BUY], params.sell_steps, exp_sell, sell_room, ignored, dearest_first=True
    )
    mapped = {ref.tender_id for ref in (*buy_map.values(), *sell_map.values())}
    try:
        grid = GridInputs(
            buy_price_per_kwh=buy_p,
            buy_max_kw=buy_kw,
            sell_price_per_kwh=sell_p,
            sell_max_kw=sell_kw,
            position_kw=position,
            import_adder_per_kwh=imp,
            export_adder_per_kwh=exp,
        )
    except InputError as e:
        raise PlanningInputError(e.field, str(e)) from e
    ladder_map = LadderMap(
        intervals=ivs,
        buy=buy_map,
        sell=sell_map,
        tenders={k: v for k, v in used.items() if k in mapped},
        open_kw={k: v for k, v in open_now.items() if k in mapped},
    )
    priced = market_priced(tenders, spot, ivs, rules)
    return Ladders(grid, ladder_map, exp_buy, exp_sell, tuple(ignored), priced)


def _side(
    found: dict[int, list[StepRef]],
    steps: int,
    expected: Vec,
    room: Vec,
    ignored: list[tuple[str, str]],
    *,
    dearest_first: bool,
) -> tuple[Vec, Vec, dict[tuple[int, int], StepRef]]:
    """One side's (price, size) tables and cells (buying: cheapest first; selling: dearest)."""
    n = expected.size
    price = np.repeat(expected.reshape(-1, 1), steps, axis=1)
    size = np.zeros((n, steps))
    size[:, -1] = room
    cells: dict[tuple[int, int], StepRef] = {}
    dropped: set[str] = set()
    for i, refs in found.items():
        sign = -1 if dearest_first else 1
        ranked = sorted(refs, key=lambda r: (sign * r.price_per_kwh, r.tender_id))
        for k, ref in enumerate(ranked):
            if k >= steps - 1:
                dropped.add(ref.tender_id)
                continue
            price[i, k] = float(ref.price_per_kwh)
            size[i, k] = ref.step_kw
            cells[(i, k)] = ref
    kept = {ref.tender_id for ref in cells.values()}
    ignored.extend((tid, "no free ladder step in some interval") for tid in sorted(dropped))
    # A block that lost its step in one interval is not offered in the others either: it can
    # only be accepted whole, and the plan must not count on part of it.
    partial = dropped & kept
    for key in [k for k, ref in cells.items() if ref.tender_id in partial]:
        del cells[key]
        size[key] = 0.0
    return price, size, cells
