"""Which retailer tenders to accept: the plan's own purchases from its ladder, toward the hedge.

For every plan interval t the forward position should move toward ``hedge_ratio x`` the plan's
net grid exchange: the gap is ``g = hedge * grid_kw[t] - position_kw[t]``, taken as 0 where it is
smaller than the rules' ``hedge_deadband_kw``. A positive gap is
filled from the plan's purchases on its actionable buy steps (cheapest first, each up to what the
plan takes from that step, ``buy_k_kw[t]``), a negative one from its sales on its actionable sell
steps (dearest first, up to ``sell_k_kw[t]``). The expected-price step is never accepted: it
stands for energy traded later or at spot.

A tender is accepted for the smallest allocation over all the plan intervals it covers (a block
is one constant rate; a cell it is missing from counts as 0), capped by the kW still open and
``max_tender_kw``, rounded down to the quantity step, and only if it is actionable, priced inside
the caps, expires more than ``accept_margin`` from now, and its interval starts after now and
inside the commitment window.

Why this never raises the plan's expected cost: the plan buys at least ``q`` from the tender's
step at price ``p`` in every interval of the block, so the value of energy there is at least
``p`` for the first ``q`` kW; executing ``q`` at ``p`` and leaving the rest of the tender on the
ladder leaves the plan's optimum unchanged, and even with the tender gone afterwards the home is
no worse off than without it (tests/trading re-solve both ways).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

import numpy as np

from agent.market.intervals import Interval
from agent.market.records import Side
from agent.optimizer import Plan
from agent.optimizer.structure import Vec
from agent.planning.ladders import LadderMap, StepRef
from agent.planning.market import covered
from agent.trading.errors import TradingError
from agent.trading.rules import TradingRules

# A plan that takes a whole 2 kW step reports 1.9999999 kW; without this the floor to the
# quantity step would leave 0.01 kW behind every time. Far below any cost the tests can see.
SOLVER_SLACK_KW = 1e-6


@dataclass(frozen=True)
class AcceptDecision:
    tender_id: str
    quantity_kw: Decimal
    price_per_kwh: Decimal
    home_side: Side  # BUY: the home buys (a retailer sell tender)
    interval: Interval


def decide_acceptances(
    plan: Plan, ladder_map: LadderMap, position_kw: Vec, rules: TradingRules, now: datetime
) -> list[AcceptDecision]:
    """Acceptances for ``plan`` (solved on the ladders of ``ladder_map`` and ``position_kw``)."""
    n = len(ladder_map.intervals)
    if plan.horizon != n:
        raise TradingError("plan.horizon", f"plan has {plan.horizon} intervals, the ladder map {n}")
    position = np.asarray(position_kw, dtype=np.float64)
    if position.shape != (n,):
        raise TradingError("position_kw", f"expected {n} values, got shape {position.shape}")
    alloc = _allocate(plan, ladder_map, position, rules.hedge_ratio, rules.hedge_deadband_kw)
    out: list[AcceptDecision] = []
    # Each tender's cells, gathered once (LadderMap.cells scans every cell per tender).
    cells_of: dict[str, list[tuple[int, int]]] = {}
    tenders = ladder_map.tenders
    for side, tender_side in ((ladder_map.buy, Side.SELL), (ladder_map.sell, Side.BUY)):
        for key, ref in side.items():
            if tenders[ref.tender_id].side is tender_side:
                cells_of.setdefault(ref.tender_id, []).append(key)
    for tid, tender in sorted(ladder_map.tenders.items()):
        if not (
            tender.actionable
            and rules.price_ok(tender.price_per_kwh)
            and now + rules.accept_margin < tender.expires
            and rules.in_window(tender.interval, now)
        ):
            continue
        cells = sorted(cells_of.get(tid, ()))
        if not cells or [c[0] for c in cells] != covered(tender, ladder_map.intervals):
            continue  # a block the plan does not see whole
        supported = min(alloc[tender.side].get(c, 0.0) for c in cells) + SOLVER_SLACK_KW
        open_kw = ladder_map.open_kw.get(tid, tender.quantity_kw)
        q = rules.floor_kw(min(Decimal(repr(max(supported, 0.0))), open_kw))
        if q > 0:
            home = Side.BUY if tender.side is Side.SELL else Side.SELL
            out.append(AcceptDecision(tid, q, tender.price_per_kwh, home, tender.interval))
    return out


Cells = dict[tuple[int, int], float]


def _allocate(
    plan: Plan, ladder_map: LadderMap, position: Vec, hedge: float, deadband_kw: float = 0.0
) -> dict[Side, dict[tuple[int, int], float]]:
    """kW to accept at each (t, step) cell, keyed by the retailer tender's side."""
    gap = hedge * np.asarray(plan.series["grid_kw"]) - position
    gap = np.where(np.abs(gap) < deadband_kw, 0.0, gap)
    out: dict[Side, Cells] = {}
    for tender_side, cells, want, prefix in (
        (Side.SELL, ladder_map.buy, gap, "buy"),
        (Side.BUY, ladder_map.sell, -gap, "sell"),
    ):
        by_t: dict[int, list[tuple[int, StepRef]]] = {}
        for (t, k), ref in cells.items():
            by_t.setdefault(t, []).append((k, ref))
        out[tender_side] = {}
        _fill(out[tender_side], by_t, want, plan, prefix, cheapest_first=tender_side is Side.SELL)
    return out


def _fill(
    alloc: dict[tuple[int, int], float],
    by_t: Mapping[int, list[tuple[int, StepRef]]],
    want: Vec,
    plan: Plan,
    prefix: str,
    *,
    cheapest_first: bool,
) -> None:
    sign = 1 if cheapest_first else -1
    wanted = np.asarray(want, dtype=np.float64).tolist()
    # Each step's column as plain floats, read once (indexing an array per cell costs more).
    columns: dict[int, list[float]] = {}
    for t, cells in by_t.items():
        left = wanted[t]
        for k, _ in sorted(cells, key=lambda c: (sign * c[1].price_per_kwh, c[1].tender_id)):
            column = columns.get(k)
            if column is None:
                key = f"{prefix}_{k}_kw"
                if key not in plan.series:
                    raise TradingError(f"plan.series.{key}", "the plan has no such ladder step")
                column = columns[k] = np.asarray(plan.series[key], dtype=np.float64).tolist()
            take = min(column[t], left) if left > 0 else 0.0
            alloc[(t, k)] = max(take, 0.0)
            left -= alloc[(t, k)]
