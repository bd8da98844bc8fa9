"""Accept rule: the plan's own ladder purchases, toward hedge x net exchange, never dearer."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from agent.market.intervals import Duration
from agent.market.records import Side, Tender
from agent.planning.inputs import plan_horizon
from agent.trading.accept import SOLVER_SLACK_KW, decide_acceptances
from agent.trading.rules import TradingRules
from tests.planning.helpers import NOW, tender
from tests.trading.helpers import apply_acceptances, home, no_worse, scenario, without

CFG, DEV, PLANNER = home()
IVS = plan_horizon(CFG, NOW)
HOUR = IVS[4].parent(Duration.PT1H)  # plan intervals 4..7


def decide(cfg_dev_planner: tuple = (CFG, DEV, PLANNER), tenders: list[Tender] = (), **kw):  # type: ignore[assignment,type-arg,no-untyped-def]
    cfg, dev, planner = cfg_dev_planner
    built = scenario(cfg, dev, tenders, **kw)
    plan = planner.plan(built.inputs, elapsed_intervals=None)
    rules = TradingRules.from_config(cfg)
    return built, plan, decide_acceptances(plan, built.ladders.map, built.inputs.grid.position_kw, rules, NOW)


def test_a_cheap_block_is_accepted_for_what_the_plan_takes_in_every_quarter() -> None:
    _, plan, out = decide(tenders=[tender("h", HOUR, Side.SELL, "0.05", "3")], base_kw=1.0, soc=0.9)
    (d,) = out
    assert d.tender_id == "h" and d.home_side is Side.BUY and d.interval == HOUR
    # The plan buys the whole 3 kW (selling the excess back at the expected price), but the hedge
    # stops at the net exchange; a block takes the smallest support over its four quarters.
    support = np.minimum(plan.series["buy_0_kw"][4:8], plan.series["grid_kw"][4:8]).min()
    assert support < 2.9
    # (a plan that takes a whole step reports a hair less: SOLVER_SLACK_KW rounds it back)
    assert support - 0.01 < float(d.quantity_kw) <= support + SOLVER_SLACK_KW


def test_the_hedge_ratio_limits_the_position_to_a_share_of_the_net_exchange() -> None:
    half = home(hedge=0.5)
    _, plan, out = decide(half, [tender("q", IVS[3], Side.SELL, "0.05", "8")], base_kw=2.0, soc=0.9)
    (d,) = out
    assert float(d.quantity_kw) <= 0.5 * plan.series["grid_kw"][3] + SOLVER_SLACK_KW
    assert float(d.quantity_kw) > 0.5 * plan.series["grid_kw"][3] - 0.011


def test_a_position_already_at_the_target_accepts_nothing() -> None:
    _, plan, out = decide(tenders=[tender("q", IVS[3], Side.SELL, "0.05", "8")], positions={3: 20.0})
    assert out == [] and plan.series["grid_kw"][3] < 20.0


def test_a_position_close_to_the_target_is_left_alone() -> None:
    # First find the target (hedge 1: the plan's net exchange) with no position at all.
    q = tender("q", IVS[3], Side.SELL, "0.05", "8")
    _, plan, _ = decide(tenders=[q], base_kw=2.0, soc=0.9)
    target = float(plan.series["grid_kw"][3])
    rules = TradingRules.from_config(CFG)
    assert rules.hedge_deadband_kw > 0.1
    near = target - 0.8 * rules.hedge_deadband_kw
    _, plan, out = decide(tenders=[q], base_kw=2.0, soc=0.9, positions={3: near})
    assert abs(float(plan.series["grid_kw"][3]) - target) < 0.05  # the same plan, near its target
    assert out == []  # within the deadband: no trade for a few hundred watts
    _, _, out = decide(tenders=[q], base_kw=2.0, soc=0.9, positions={3: target - 3 * rules.hedge_deadband_kw})
    (d,) = out
    assert float(d.quantity_kw) > 2 * rules.hedge_deadband_kw


def test_a_dear_tender_is_not_accepted() -> None:
    _, plan, out = decide(tenders=[tender("q", IVS[3], Side.SELL, "0.90", "3")])
    assert out == [] and plan.series["buy_0_kw"][3] < 1e-3


def test_pv_surplus_sells_into_a_good_retailer_bid() -> None:
    _, plan, out = decide(
        tenders=[tender("b", IVS[5], Side.BUY, "0.60", "2")], base_kw=0.3, pv_kw=5.0, soc=0.9
    )
    (d,) = out
    assert d.home_side is Side.SELL and d.quantity_kw == Decimal("2.00")
    assert plan.series["sell_0_kw"][5] > 1.99


def test_timing_rules() -> None:
    soon = NOW + timedelta(seconds=3)  # inside the 5 s acceptance margin
    assert decide(tenders=[tender("q", IVS[3], Side.SELL, "0.05", expires=soon)])[2] == []
    narrow = home(window_h=1)  # the window ends 10:03 local: interval 5 (10:15) is beyond it
    assert decide(narrow, [tender("q", IVS[5], Side.SELL, "0.05")])[2] == []
    assert decide(narrow, [tender("q", IVS[3], Side.SELL, "0.05")])[2] != []


def test_quantity_limits_and_rounding() -> None:
    small = home(max_kw=1.234)
    (d,) = decide(small, [tender("q", IVS[3], Side.SELL, "0.05", "9")], base_kw=3.0)[2]
    assert d.quantity_kw == Decimal("1.23")  # rounded down, never above max_tender_kw


# --- properties -------------------------------------------------------------------------------

PRICES = st.decimals(min_value=Decimal("-0.2"), max_value=Decimal("0.8"), places=3)


@st.composite
def tenders(draw: st.DrawFn) -> list[Tender]:
    out = []
    for i in range(draw(st.integers(1, 4))):
        block = draw(st.booleans())
        t = draw(st.integers(1, 7 if block else 11))
        iv = IVS[t].parent(Duration.PT1H) if block else IVS[t]
        if block and iv.start_utc <= NOW:
            iv = iv.next()
        side = draw(st.sampled_from([Side.SELL, Side.BUY]))
        kw = draw(st.decimals(min_value=Decimal("0.1"), max_value=Decimal(12), places=2))
        out.append(tender(f"t{i}", iv, side, str(draw(PRICES)), str(kw)))
    return out


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    offers=tenders(),
    hedge=st.sampled_from([1.0, 0.8, 0.3]),
    home_state=st.tuples(st.floats(0.0, 4.0), st.floats(0.0, 6.0), st.floats(0.0, 1.0)),
    position=st.floats(-3.0, 3.0),
)
def test_accepting_per_the_rule_never_raises_the_expected_cost(
    offers: list[Tender], hedge: float, home_state: tuple[float, float, float], position: float
) -> None:
    base, pv, soc = home_state
    cfg, dev, planner = home(hedge=hedge)
    rules = TradingRules.from_config(cfg)
    built = scenario(cfg, dev, offers, base_kw=base, pv_kw=pv, soc=soc, positions={6: position})
    plan = planner.plan(built.inputs, elapsed_intervals=None)
    out = decide_acceptances(plan, built.ladders.map, built.inputs.grid.position_kw, rules, NOW)
    for d in out:  # nothing outside caps or limits
        t = built.ladders.map.tenders[d.tender_id]
        assert 0 < d.quantity_kw <= min(t.quantity_kw, rules.max_tender_kw)
        assert d.quantity_kw % rules.quantity_step_kw == 0 and rules.price_ok(d.price_per_kwh)
        assert t.actionable and rules.in_window(t.interval, NOW)
    # All at once, the rest of each tender still on offer: the plan's optimum is unchanged.
    after, paid = apply_acceptances(built, out, float(rules.max_tender_kw), remove=False)
    assert no_worse(planner.plan(after, elapsed_intervals=None), paid, plan)
    # One at a time with the tender gone afterwards: no worse than if it had gone unaccepted.
    for d in out:
        gone = without(built, [d.tender_id])
        base_plan = planner.plan(gone, elapsed_intervals=None)
        after, paid = apply_acceptances(built, [d], float(rules.max_tender_kw), remove=True)
        assert no_worse(planner.plan(after, elapsed_intervals=None), paid, base_plan)
    np.testing.assert_array_equal(built.inputs.grid.position_kw[6], position)
