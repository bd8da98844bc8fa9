"""Posting from bid curves: increments, rounding, caps, timing, ids; executing never costs more."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from agent.market.records import Side, SpotPrice
from agent.optimizer import BidCurve, BidPoint, Plan, SolveInfo
from agent.planning.inputs import plan_horizon
from agent.trading.post import tender_id, tenders_from_bids
from agent.trading.rules import TradingRules
from tests.planning.helpers import NOW, tender
from tests.trading.helpers import home, no_worse, scenario, traded

CFG, DEV, PLANNER = home()
IVS = plan_horizon(CFG, NOW)
RULES = TradingRules.from_config(CFG)


def fake_plan(*curves: BidCurve) -> Plan:
    n = len(IVS)
    info = SolveInfo("test", "solved", 1, 0.0, 0.0)
    return Plan(n, 0.25, {}, {}, np.zeros(n), info, bids=curves)


def points(*pq: tuple[float, float]) -> tuple[BidPoint, ...]:
    return tuple(BidPoint(p, q) for p, q in pq)


def test_increments_walk_the_curve() -> None:
    curve = BidCurve(2, points((0.20, 5), (0.25, 3), (0.28, 3), (0.32, -2), (0.35, -4), (0.40, -4)))
    out = {
        (t.side, t.price_per_kwh): t.quantity_kw for t in tenders_from_bids(fake_plan(curve), IVS, RULES, NOW)
    }
    assert out == {
        (Side.BUY, Decimal("0.28")): Decimal(3),
        (Side.BUY, Decimal("0.20")): Decimal(2),
        (Side.SELL, Decimal("0.32")): Decimal(2),
        (Side.SELL, Decimal("0.35")): Decimal(2),
    }


def test_fields_timing_and_ids() -> None:
    (t,) = tenders_from_bids(fake_plan(BidCurve(3, points((0.1, 1.0)))), IVS, RULES, NOW)
    assert (t.party, t.counterparty, t.interval, t.actionable) == (RULES.home_party, "shop", IVS[3], True)
    assert t.expires == IVS[3].start_utc - timedelta(seconds=60)
    assert t.id == tender_id(RULES.home_party, IVS[3], Side.BUY, Decimal("0.1"), Decimal("1"))
    assert t.id != tender_id(RULES.home_party, IVS[3], Side.BUY, Decimal("0.1"), Decimal("1.5"))
    # the interval under way, and one beyond the 3 h window, get nothing
    begun = fake_plan(BidCurve(0, points((0.1, 1.0))))
    assert tenders_from_bids(begun, IVS, RULES, NOW) == []
    narrow = TradingRules.from_config(home(window_h=1)[0])
    assert tenders_from_bids(fake_plan(BidCurve(5, points((0.1, 1.0)))), IVS, narrow, NOW) == []


def test_caps_rounding_and_size_limits() -> None:
    curve = BidCurve(
        2,
        points((-0.9, 30.0), (-0.6, 20.0), (2.4, 0.02001), (2.6, -0.03), (2.9, -2.0)),
    )
    out = sorted(
        (t.side.value, t.price_per_kwh, t.quantity_kw)
        for t in tenders_from_bids(fake_plan(curve), IVS, RULES, NOW)
    )
    # buy at -0.9 and -0.6 are below the -0.50 floor: dropped; buy at 2.4 clipped down to the 2.00 cap
    # but 0.02 kW is below the minimum; sells above the 2.00 cap are dropped
    assert out == []
    curve = BidCurve(2, points((2.4, 30.0), (-0.7, -1.23456)))
    out = sorted(
        (t.side.value, t.price_per_kwh, t.quantity_kw)
        for t in tenders_from_bids(fake_plan(curve), IVS, RULES, NOW)
    )
    assert out == [("buy", Decimal("2.00"), Decimal("8.00")), ("sell", Decimal("-0.50"), Decimal("1.23"))]


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    base=st.floats(0.0, 4.0),
    pv=st.floats(0.0, 6.0),
    soc=st.floats(0.0, 1.0),
    position=st.floats(-3.0, 3.0),
)
def test_executing_posted_tenders_never_raises_the_expected_cost(
    base: float, pv: float, soc: float, position: float
) -> None:
    built = scenario(CFG, DEV, [], base_kw=base, pv_kw=pv, soc=soc, positions={2: position})
    plan = PLANNER.plan(built.inputs, elapsed_intervals=None, bid_intervals=4)
    posted = tenders_from_bids(plan, built.intervals, RULES, NOW)
    assert posted, "a battery home always has something to offer near its marginal value"
    dt = built.intervals[0].hours
    by_interval: dict[int, list[tuple[float, float]]] = {}
    for t in posted:
        assert RULES.price_ok(t.price_per_kwh) and 0 < t.quantity_kw <= RULES.max_tender_kw
        assert NOW < t.expires < t.interval.start_utc
        i = built.intervals.index(t.interval)
        kw = float(t.quantity_kw) * (1 if t.side is Side.BUY else -1)
        by_interval.setdefault(i, []).append((kw, float(t.price_per_kwh)))
        delta = np.zeros(len(built.intervals))
        delta[i] = kw
        after = PLANNER.plan(traded(built.inputs, delta), elapsed_intervals=None)
        assert no_worse(after, kw * float(t.price_per_kwh) * dt, plan), t
    for i, trades in by_interval.items():  # all of one interval's tenders at once walk the curve
        delta = np.zeros(len(built.intervals))
        delta[i] = sum(kw for kw, _ in trades)
        after = PLANNER.plan(traded(built.inputs, delta), elapsed_intervals=None)
        assert no_worse(after, sum(kw * p * dt for kw, p in trades), plan)


def test_no_tenders_where_only_the_default_price_values_the_plan() -> None:
    # No spot price and no retailer tender yet (the agent just started): the plan's prices are
    # the configured default, and a bid at that price would be a gift to the retailer.
    built = scenario(CFG, DEV, [], base_kw=2.0, soc=0.1)
    assert built.ladders.market_priced is not None and not built.ladders.market_priced.any()
    plan = PLANNER.plan(built.inputs, elapsed_intervals=None, bid_intervals=4, bid_from=1)
    assert plan.bids and any(p.quantity_kw != 0 for c in plan.bids for p in c.points)
    assert tenders_from_bids(plan, built.intervals, RULES, NOW) != []  # without the ladders: posted
    assert tenders_from_bids(plan, built.intervals, RULES, NOW, ladders=built.ladders) == []


def test_a_bid_never_outbids_the_retailers_own_tender() -> None:
    ask = tender("ask", IVS[2], Side.SELL, "0.21", "2")
    bid = tender("bid", IVS[2], Side.BUY, "0.19", "2")
    spot = [SpotPrice(IVS[0], Decimal("0.20"), "EUR")]
    built = scenario(CFG, DEV, [ask, bid], spot=spot)
    assert built.ladders.best_prices(2) == (Decimal("0.21"), Decimal("0.19"))
    assert built.ladders.best_prices(3) == (None, None)
    curve = BidCurve(
        2, points((0.30, 3.0), (0.25, 4.0), (0.18, 6.0), (0.10, -2.0), (0.15, -1.0), (0.22, -3.0))
    )
    other = BidCurve(3, points((0.30, 3.0), (0.15, 5.0), (0.10, -2.0), (0.25, -4.0)))
    posted = tenders_from_bids(fake_plan(curve, other), built.intervals, RULES, NOW, ladders=built.ladders)
    at2 = sorted((t.side.value, t.price_per_kwh, t.quantity_kw) for t in posted if t.interval == IVS[2])
    # Buys above the 0.21 ask come down to it (the whole 4 kW wanted at 0.25 and more); sells
    # below the 0.19 bid go up to it. A buy at 0.18, below the retailer's own 0.19 bid, and a
    # sell at 0.22, above its 0.21 ask, would never be taken: not posted.
    assert at2 == [("buy", Decimal("0.21"), Decimal("4.00")), ("sell", Decimal("0.19"), Decimal("2.00"))]
    at3 = sorted((t.side.value, t.price_per_kwh, t.quantity_kw) for t in posted if t.interval == IVS[3])
    # Nothing on offer there: prices as bid, but a buy below the expected sell price (0.19, spot
    # 0.20 less half the spread) and a sell above the expected buy price (0.21) are not posted.
    lad = built.ladders
    assert (lad.expected_buy_per_kwh[3], lad.expected_sell_per_kwh[3]) == pytest.approx((0.21, 0.19))
    assert at3 == [("buy", Decimal("0.30"), Decimal("3.00")), ("sell", Decimal("0.10"), Decimal("2.00"))]
