"""The transact phase end to end on a real plan: accept the cheap block, post, withdraw the stale."""

from __future__ import annotations

import dataclasses
from decimal import Decimal

import pytest

from agent.market.intervals import Duration
from agent.market.records import Side, SpotPrice
from agent.planning.inputs import plan_horizon
from agent.trading import TradingError, TradingRules, decide
from tests.planning.helpers import NOW, tender
from tests.trading.helpers import home, scenario

CFG, DEV, PLANNER = home()
IVS = plan_horizon(CFG, NOW)
RULES = TradingRules.from_config(CFG)


def test_one_cycle_of_trading() -> None:
    block = tender("h", IVS[4].parent(Duration.PT1H), Side.SELL, "0.02", "1")
    spot = [SpotPrice(IVS[0], Decimal("0.25"), "EUR")]  # the market has priced energy
    built = scenario(CFG, DEV, [block], base_kw=2.0, soc=0.5, spot=spot)
    plan = PLANNER.plan(built.inputs, elapsed_intervals=None, bid_intervals=3)
    first = decide(plan, built, [], RULES, NOW)
    assert [(a.tender_id, a.quantity_kw) for a in first.accept] == [("h", Decimal(1))]
    assert first.own.post and not first.own.cancel
    # next cycle, same plan: what is open stands; a stale tender the plan no longer bids goes
    stale = dataclasses.replace(first.own.post[0], id="stale", interval=IVS[10])
    again = decide(plan, built, [*first.own.post, stale], RULES, NOW)
    assert set(again.own.keep) == set(first.own.post) and again.own.post == ()
    assert [t.id for t in again.own.cancel] == ["stale"]


def test_a_plan_of_another_horizon_is_refused_by_name() -> None:
    built = scenario(CFG, DEV, [])
    plan = PLANNER.plan(built.inputs, elapsed_intervals=None)
    short = dataclasses.replace(built, intervals=built.intervals[:-1])
    with pytest.raises(TradingError) as e:
        decide(plan, short, [], RULES, NOW)
    assert e.value.field == "intervals"


def test_with_forward_trading_off_nothing_is_accepted_or_posted_and_open_tenders_are_withdrawn() -> None:
    off_cfg = CFG.model_copy(update={"market": CFG.market.model_copy(update={"forward_trading": False})})
    rules = TradingRules.from_config(off_cfg)
    assert rules.forward_trading is False
    block = tender("h", IVS[4].parent(Duration.PT1H), Side.SELL, "0.02", "1")
    spot = [SpotPrice(IVS[0], Decimal("0.25"), "EUR")]
    on = scenario(CFG, DEV, [block], base_kw=2.0, soc=0.5, spot=spot)
    off = scenario(off_cfg, DEV, [block], base_kw=2.0, soc=0.5, spot=spot)
    # The cheap block is a step of the plan with trading on and none with it off.
    assert on.ladders.map.tenders and not off.ladders.map.tenders
    plan = PLANNER.plan(off.inputs, elapsed_intervals=None, bid_intervals=3)
    posted_before = decide(
        PLANNER.plan(on.inputs, elapsed_intervals=None, bid_intervals=3), on, [], RULES, NOW
    )
    actions = decide(plan, off, list(posted_before.own.post), rules, NOW)
    assert actions.accept == ()
    assert actions.own.post == ()
    assert set(actions.own.cancel) == set(posted_before.own.post) and posted_before.own.post


def test_the_homes_own_tenders_never_take_its_position_past_the_planned_exchange() -> None:
    block = tender("h", IVS[4].parent(Duration.PT1H), Side.SELL, "0.02", "1")
    spot = [SpotPrice(IVS[0], Decimal("0.25"), "EUR")]
    built = scenario(CFG, DEV, [block], base_kw=2.0, soc=0.5, spot=spot)
    plan = PLANNER.plan(built.inputs, elapsed_intervals=None, bid_intervals=3)
    actions = decide(plan, built, [], RULES, NOW)
    assert actions.own.post  # the plan bids: something to check
    for t, iv in enumerate(IVS):
        planned_kw = float(plan.series["grid_kw"][t])  # hedge ratio 1 in this home
        accepted_kw = sum(
            float(a.quantity_kw) * (1 if a.home_side is Side.BUY else -1)
            for a in actions.accept
            if a.interval.contains_interval(iv)
        )
        posted = [p for p in actions.own.post if p.interval == iv]
        bought = sum(float(p.quantity_kw) for p in posted if p.side is Side.BUY)
        sold = sum(float(p.quantity_kw) for p in posted if p.side is Side.SELL)
        assert bought <= max(0.0, planned_kw - accepted_kw) + 1e-9
        assert sold <= max(0.0, accepted_kw - planned_kw) + 1e-9
