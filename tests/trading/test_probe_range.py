"""Bid curves are probed only where a tender could come of them, and post the same tenders."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from decimal import Decimal

import pytest

from agent.market.records import Side, SpotPrice
from agent.planning.inputs import BuiltInputs, plan_horizon
from agent.trading.post import postable_price_range, tenders_from_bids
from agent.trading.rules import TradingRules
from tests.planning.helpers import NOW, tender
from tests.trading.helpers import home, scenario

CFG, DEV, PLANNER = home()
RULES = TradingRules.from_config(CFG)
IVS = plan_horizon(CFG, NOW)
BIDS = range(1, 5)
Posted = list[tuple[object, str, Decimal, Decimal]]


def _built(ask: str, bid: str, soc: float) -> BuiltInputs:
    ladder = [tender(f"a{t}", IVS[t], Side.SELL, ask, "3") for t in BIDS]
    ladder += [tender(f"b{t}", IVS[t], Side.BUY, bid, "3") for t in BIDS]
    spot = [SpotPrice(IVS[0], Decimal("0.20"), "EUR")]
    return scenario(CFG, DEV, ladder, spot=spot, soc=soc, base_kw=1.5)


def _posted(built: BuiltInputs, narrow: dict[int, tuple[float, float]] | None = None) -> tuple[Posted, int]:
    before = PLANNER.probe_solves
    plan = PLANNER.plan(
        built.inputs, elapsed_intervals=None, bid_intervals=len(BIDS), bid_from=1, bid_price_range=narrow
    )
    solves = PLANNER.probe_solves - before
    tenders = tenders_from_bids(plan, built.intervals, RULES, NOW, ladders=built.ladders)
    return sorted(
        (t.interval.start_utc, t.side.value, t.price_per_kwh, t.quantity_kw) for t in tenders
    ), solves


@pytest.mark.parametrize(
    ("ask", "bid", "soc"),
    [
        ("0.21", "0.19", 0.5),
        ("0.30", "0.10", 0.5),
        ("0.26", "0.14", 0.1),
        ("0.26", "0.14", 0.95),
        ("0.205", "0.195", 0.5),
    ],
)
def test_the_narrowed_probes_post_what_the_whole_curve_posts(ask: str, bid: str, soc: float) -> None:
    built = _built(ask, bid, soc)
    price_range = postable_price_range(built.intervals, RULES, NOW, BIDS, ladders=built.ladders)
    whole, whole_solves = _posted(built)
    narrowed, narrowed_solves = _posted(built, price_range)
    assert narrowed == whole
    assert narrowed_solves < whole_solves


def test_the_range_is_the_retailers_dearest_buy_to_its_cheapest_sell() -> None:
    built = _built("0.26", "0.14", 0.5)
    price_range = postable_price_range(built.intervals, RULES, NOW, range(0, 5), ladders=built.ladders)
    # Interval 0 holds now: no tender can be posted there.
    assert price_range == dict.fromkeys(BIDS, (0.14, 0.26))


def test_no_probe_where_every_price_is_outside_the_spread() -> None:
    # A spread of 0.02 around 0.20 and probes 0.05 from the marginal value or further: no point
    # of any curve could be posted, so none is probed.
    built = _built("0.21", "0.19", 0.5)
    price_range = postable_price_range(built.intervals, RULES, NOW, BIDS, ladders=built.ladders)
    before = PLANNER.probe_solves
    plan = PLANNER.plan(
        built.inputs, elapsed_intervals=None, bid_intervals=len(BIDS), bid_from=1,
        bid_offsets_per_kwh=(-0.1, -0.05, 0.05, 0.1), bid_price_range=price_range,
    )  # fmt: skip
    assert PLANNER.probe_solves == before
    assert plan.bids == ()


def test_nothing_is_probed_outside_the_window_or_without_forward_trading() -> None:
    built = _built("0.26", "0.14", 0.5)
    # Now is 08:03; a 30-minute window holds the intervals starting 08:15 and 08:30 only.
    short = replace(RULES, commitment_window=timedelta(minutes=30))
    assert set(postable_price_range(built.intervals, short, NOW, BIDS, ladders=built.ladders)) == {1, 2}
    # The 08:15 interval's tenders would expire a minute before it: at 08:14:30 none can be posted.
    late = NOW + timedelta(minutes=11, seconds=30)
    assert set(postable_price_range(built.intervals, RULES, late, BIDS, ladders=built.ladders)) == {2, 3, 4}
    off = replace(RULES, forward_trading=False)
    assert postable_price_range(built.intervals, off, NOW, BIDS, ladders=built.ladders) == {}
