"""The home's own tenders hedge the plan: they bring the position to the hedge ratio of the planned
grid exchange and no further, whatever the bid curves would offer."""

from __future__ import annotations

from decimal import Decimal

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from agent.market.intervals import Duration
from agent.market.records import Side
from agent.optimizer import BidCurve, BidPoint, Plan, SolveInfo
from agent.planning.inputs import plan_horizon
from agent.trading.accept import AcceptDecision
from agent.trading.hedge import hedge_room_kw, within_room
from agent.trading.post import tenders_from_bids
from agent.trading.rules import TradingRules
from tests.planning.helpers import NOW
from tests.trading.helpers import home

CFG, DEV, PLANNER = home()
IVS = plan_horizon(CFG, NOW)
RULES = TradingRules.from_config(CFG)


def grid_plan(grid_kw: list[float], *curves: BidCurve) -> Plan:
    n = len(IVS)
    series = {"grid_kw": np.array(grid_kw + [0.0] * (n - len(grid_kw)))}
    return Plan(n, 0.25, series, {}, np.zeros(n), SolveInfo("test", "solved", 1, 0.0, 0.0), bids=curves)


def positions(*kw: float) -> np.ndarray:
    return np.array(list(kw) + [0.0] * (len(IVS) - len(kw)))


def test_the_room_is_the_planned_exchange_not_yet_held() -> None:
    plan = grid_plan([2.0, -3.0, 0.0, 1.0])
    room = hedge_room_kw(plan, IVS, positions(0.5, -1.0, 0.0, 2.0), (), 1.0)
    # importing 2 with 0.5 bought: 1.5 more to buy; exporting 3 with 1 sold: 2 more to sell;
    # nothing planned: nothing; 2 bought against 1 planned: 1 to sell back (as the acceptances do)
    assert room[:4] == [(1.5, 0.0), (0.0, 2.0), (0.0, 0.0), (0.0, 1.0)]


def test_the_hedge_ratio_and_the_same_cycles_acceptances_use_room_up() -> None:
    plan = grid_plan([4.0, -4.0])
    bought = AcceptDecision("r-1", Decimal("1"), Decimal("0.2"), Side.BUY, IVS[0])
    sold = AcceptDecision("r-2", Decimal("0.5"), Decimal("0.2"), Side.SELL, IVS[1])
    room = hedge_room_kw(plan, IVS, positions(0.0, 0.0), (bought, sold), 0.5)
    assert room[:2] == [(1.0, 0.0), (0.0, 1.5)]  # half of 4, less what was just accepted


def test_an_hours_acceptance_counts_in_each_quarter_it_covers() -> None:
    hour = IVS[4].parent(Duration.PT1H)
    inside = [i for i, iv in enumerate(IVS) if hour.contains_interval(iv)]
    plan = grid_plan([3.0] * len(IVS))
    block = AcceptDecision("r-blk", Decimal("2"), Decimal("0.2"), Side.BUY, hour)
    room = hedge_room_kw(plan, IVS, positions(), (block,), 1.0)
    assert [room[i] for i in inside] == [(1.0, 0.0)] * len(inside)
    assert all(room[i] == (3.0, 0.0) for i in range(len(IVS)) if i not in inside)


def test_increments_are_cut_best_price_first() -> None:
    increments = [
        (Side.BUY, Decimal("0.20"), Decimal("2")),
        (Side.BUY, Decimal("0.28"), Decimal("3")),
        (Side.SELL, Decimal("0.32"), Decimal("2")),
        (Side.SELL, Decimal("0.35"), Decimal("2")),
    ]
    kept = within_room(increments, (3.5, 2.5), RULES)
    assert kept == [
        (Side.BUY, Decimal("0.20"), Decimal("0.5")),  # the dearest buy first: 3 at 0.28, then 0.5
        (Side.BUY, Decimal("0.28"), Decimal("3")),
        (Side.SELL, Decimal("0.32"), Decimal("2")),  # the cheapest sell first: 2 at 0.32, then 0.5
        (Side.SELL, Decimal("0.35"), Decimal("0.5")),
    ]
    assert within_room(increments, (0.0, 0.0), RULES) == []
    assert within_room(increments, (0.04, 0.0), RULES) == []  # below the least worth posting


def test_a_curve_selling_beyond_the_planned_export_posts_only_the_export() -> None:
    curve = BidCurve(2, (BidPoint(0.30, -10.0),))  # would sell 10 kW more at 0.30
    plan = grid_plan([0.0, 0.0, -1.5], curve)
    room = hedge_room_kw(plan, IVS, positions(), (), 1.0)
    (t,) = tenders_from_bids(plan, IVS, RULES, NOW, room_kw=room)
    assert (t.side, t.price_per_kwh, t.quantity_kw) == (Side.SELL, Decimal("0.3"), Decimal("1.5"))
    unbounded = tenders_from_bids(plan, IVS, RULES, NOW)
    assert [x.quantity_kw for x in unbounded] == [RULES.max_tender_kw]  # the curve alone: capped per tender


@given(
    grid=st.lists(st.floats(-10, 10), min_size=1, max_size=8),
    held=st.lists(st.floats(-10, 10), min_size=8, max_size=8),
    ratio=st.floats(0, 1),
)
def test_posting_all_the_room_brings_the_position_to_the_hedge_and_never_past(
    grid: list[float], held: list[float], ratio: float
) -> None:
    plan = grid_plan(grid)
    room = hedge_room_kw(plan, IVS, positions(*held), (), ratio)
    for t, (buy_kw, sell_kw) in enumerate(room[: len(grid)]):
        assert buy_kw >= 0.0 and sell_kw >= 0.0 and min(buy_kw, sell_kw) == 0.0
        after = held[t] + buy_kw - sell_kw
        assert abs(after - ratio * grid[t]) < 1e-9  # brought to the hedge, and no further
