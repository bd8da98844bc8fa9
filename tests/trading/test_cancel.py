"""Reconciling open tenders with the new plan's: keep, cancel, lapse, post."""

from __future__ import annotations

import dataclasses
from datetime import timedelta
from decimal import Decimal

import pytest

from agent.market.records import Side, Tender
from agent.planning.inputs import plan_horizon
from agent.trading.cancel import reconcile
from agent.trading.rules import TradingRules
from tests.planning.helpers import NOW, tender
from tests.trading.helpers import home

CFG = home()[0]
IVS = plan_horizon(CFG, NOW)
RULES = TradingRules.from_config(CFG)


def own(tid: str, i: int, side: Side, price: str, kw: str, **kw_args: object) -> Tender:
    t = tender(tid, IVS[i], side, price, kw, party=RULES.home_party, **kw_args)  # type: ignore[arg-type]
    return dataclasses.replace(t, counterparty="shop", expires=IVS[i].start_utc - timedelta(minutes=1))


@pytest.mark.parametrize(
    ("open_t", "wanted_t", "kept"),
    [
        (own("a", 3, Side.BUY, "0.200", "2"), own("n", 3, Side.BUY, "0.200", "2"), True),  # identical
        (own("a", 3, Side.BUY, "0.198", "2"), own("n", 3, Side.BUY, "0.200", "2"), True),  # cheaper: fine
        (own("a", 3, Side.BUY, "0.202", "2"), own("n", 3, Side.BUY, "0.200", "2"), False),  # dearer: never
        (own("a", 3, Side.BUY, "0.190", "2"), own("n", 3, Side.BUY, "0.200", "2"), False),  # moved > 0.005
        (
            own("a", 3, Side.SELL, "0.302", "2"),
            own("n", 3, Side.SELL, "0.300", "2"),
            True,
        ),  # dearer sell: fine
        (own("a", 3, Side.SELL, "0.298", "2"), own("n", 3, Side.SELL, "0.300", "2"), False),
        (own("a", 3, Side.BUY, "0.200", "1.95"), own("n", 3, Side.BUY, "0.200", "2"), True),  # a bit less
        (own("a", 3, Side.BUY, "0.200", "2.05"), own("n", 3, Side.BUY, "0.200", "2"), False),  # more: never
        (own("a", 3, Side.BUY, "0.200", "1.5"), own("n", 3, Side.BUY, "0.200", "2"), False),  # much less
        (own("a", 3, Side.BUY, "0.200", "2"), own("n", 4, Side.BUY, "0.200", "2"), False),  # other interval
        (own("a", 3, Side.BUY, "0.200", "2"), own("n", 3, Side.SELL, "0.200", "2"), False),  # other side
    ],
)
def test_keep_only_what_the_new_plan_would_post_or_better(
    open_t: Tender, wanted_t: Tender, kept: bool
) -> None:
    r = reconcile([open_t], [wanted_t], RULES, NOW)
    if kept:
        assert (r.keep, r.cancel, r.post) == ((open_t,), (), ())
    else:
        assert (r.keep, r.cancel, r.post) == ((), (open_t,), (wanted_t,))
        assert r.reasons[open_t.id]


def test_expired_lapse_begun_and_far_ones_are_cancelled_and_missing_bids_cancel() -> None:
    lapsed = dataclasses.replace(own("old", 3, Side.BUY, "0.2", "1"), expires=NOW)
    begun = dataclasses.replace(own("now", 0, Side.BUY, "0.2", "1"), expires=NOW + timedelta(minutes=5))
    far_rules = TradingRules.from_config(home(window_h=1)[0])
    far = own("far", 6, Side.BUY, "0.2", "1")
    gone = own("gone", 2, Side.SELL, "0.4", "1")
    r = reconcile([lapsed, begun, far, gone], [], far_rules, NOW)
    assert r.lapsed == (lapsed,) and set(r.cancel) == {begun, far, gone} and r.post == () == r.keep
    assert "commitment window" in r.reasons["far"] and "bids nothing" in r.reasons["gone"]


def test_the_open_remainder_counts_not_the_original_quantity() -> None:
    partly = own("p", 3, Side.BUY, "0.2", "5")
    wanted = own("n", 3, Side.BUY, "0.2", "2")
    assert reconcile([partly], [wanted], RULES, NOW, open_kw={"p": Decimal("1.95")}).keep == (partly,)
    assert reconcile([partly], [wanted], RULES, NOW).cancel == (partly,)


def test_each_wanted_tender_matches_one_open_tender() -> None:
    a, b = own("a", 3, Side.BUY, "0.2", "2"), own("b", 3, Side.BUY, "0.2", "2")
    wanted = own("n", 3, Side.BUY, "0.2", "2")
    r = reconcile([a, b], [wanted], RULES, NOW)
    assert r.keep == (a,) and r.cancel == (b,) and r.post == ()
