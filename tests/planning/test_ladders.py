"""Tenders to ladders: steps, order, the expected-price step, refusals, transport, the map."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import numpy as np
import pytest

from agent.market.intervals import Duration, Interval
from agent.market.records import Product, Side, SpotPrice, Tender
from agent.optimizer import GridParams
from agent.planning.inputs import plan_horizon
from agent.planning.ladders import Ladders, build_ladders
from agent.planning.market import MarketRules
from agent.planning.prices import DEFAULT_SPOT_SPREAD_PER_KWH
from tests.planning.helpers import NOW, config, tender

CFG = config()
RULES = MarketRules.from_config(CFG)
IVS = plan_horizon(CFG, NOW)  # 12 quarter-hours from 09:00 local; 09:00 has begun
N = len(IVS)
HOUR = IVS[4].parent(Duration.PT1H)  # 10:00-11:00 local: plan intervals 4..7
PARAMS = GridParams(import_limit_kw=20, export_limit_kw=10, buy_steps=3, sell_steps=3)
HALF = DEFAULT_SPOT_SPREAD_PER_KWH / 2


def ladders(tenders: list[Tender], **kw: object) -> Ladders:
    args: dict[str, object] = {"position_kw": np.zeros(N), "default_price_per_kwh": 0.3}
    args.update(kw)
    return build_ladders(tenders, IVS, PARAMS, RULES, NOW, **args)  # type: ignore[arg-type]


def test_a_block_tender_is_a_step_in_every_interval_it_contains() -> None:
    lad = ladders([tender("h", HOUR, Side.SELL, "0.10", "3")])
    g = lad.grid
    assert list(np.nonzero(g.buy_max_kw[:, 0])[0]) == [4, 5, 6, 7]
    assert np.all(g.buy_price_per_kwh[4:8, 0] == 0.10) and np.all(g.buy_max_kw[4:8, 0] == 3)
    assert lad.map.cells("h") == [(4, 0), (5, 0), (6, 0), (7, 0)]
    assert not lad.map.sell  # a retailer sell tender is never a step the home sells into


def test_steps_are_sorted_best_first_and_capped_at_max_tender_kw() -> None:
    iv = IVS[2]
    lad = ladders(
        [
            tender("dear", iv, Side.SELL, "0.25", "2"),
            tender("cheap", iv, Side.SELL, "0.05", "50"),  # 50 kW offered, max_tender_kw 8
            tender("b_low", iv, Side.BUY, "0.01", "1"),
            tender("b_high", iv, Side.BUY, "0.20", "1"),
        ]
    )
    g = lad.grid
    assert list(g.buy_price_per_kwh[2, :2]) == [0.05, 0.25] and list(g.buy_max_kw[2, :2]) == [8, 2]
    assert list(g.sell_price_per_kwh[2, :2]) == [0.20, 0.01]
    assert lad.map.buy[(2, 0)].tender_id == "cheap" and lad.map.sell[(2, 0)].tender_id == "b_high"


def test_the_last_step_is_the_expected_price_and_unused_steps_are_empty() -> None:
    lad = ladders([])
    g = lad.grid
    assert np.all(g.buy_max_kw[:, :2] == 0) and np.all(g.sell_max_kw[:, :2] == 0)
    assert np.all(g.buy_max_kw[:, 2] > PARAMS.import_limit_kw)
    assert np.all(g.sell_max_kw[:, 2] > PARAMS.export_limit_kw)
    assert np.allclose(g.buy_price_per_kwh[:, 2], 0.3 + HALF)
    assert np.allclose(g.sell_price_per_kwh[:, 2], 0.3 - HALF)


def test_more_tenders_than_steps_keep_the_best_and_drop_a_block_whole() -> None:
    iv = IVS[5]
    lad = ladders(
        [
            tender("a", iv, Side.SELL, "0.01"),
            tender("b", iv, Side.SELL, "0.02"),
            tender("block", HOUR, Side.SELL, "0.03"),  # third in interval 5: no free step there
        ]
    )
    assert "block" not in lad.map.tenders
    assert lad.grid.buy_max_kw[4, 0] == 0  # nor half-offered in the intervals where it fit
    assert ("block", "no free ladder step in some interval") in lad.ignored


@pytest.mark.parametrize(
    ("changes", "reason"),
    [
        ({"expires": NOW - timedelta(seconds=1)}, "expired"),
        ({"price": "2.50"}, "outside the caps"),
        ({"party": "someone"}, "not the retailer"),
        ({"currency": "USD"}, "currency"),
        ({"interval": IVS[0]}, "begun"),
        ({"interval": IVS[-1].next()}, "not wholly inside"),
        ({"interval": Interval(IVS[3].start_utc, Duration.PT5M, IVS[3].tz)}, "shorter than the plan step"),
    ],
)
def test_unusable_tenders_are_ignored_with_a_reason(changes: dict[str, object], reason: str) -> None:
    args: dict[str, object] = {"interval": IVS[3], "price": "0.1"}
    args.update(changes)
    t = tender(
        "x",
        args.pop("interval"),  # type: ignore[arg-type]
        Side.SELL,
        args.pop("price"),  # type: ignore[arg-type]
        **args,  # type: ignore[arg-type]
    )
    lad = ladders([t])
    assert not lad.map.tenders and np.all(lad.grid.buy_max_kw[:, 0] == 0)
    assert len(lad.ignored) == 1 and reason in lad.ignored[0][1]


def test_open_quantity_replaces_the_tender_quantity() -> None:
    t = tender("x", IVS[3], Side.SELL, "0.1", "5")
    assert ladders([t], open_kw={"x": Decimal("1.5")}).grid.buy_max_kw[3, 0] == 1.5
    assert ladders([t], open_kw={"x": Decimal(0)}).ignored == (("x", "nothing left open"),)


def test_expected_prices_indicative_then_spot_then_latest_spot_then_default() -> None:
    spot = [
        SpotPrice(IVS[0], Decimal("0.40"), "EUR"),
        SpotPrice(IVS[2], Decimal("0.20"), "EUR"),
    ]
    ind = [
        tender("i_sell", HOUR, Side.SELL, "0.35", actionable=False),
        tender("i_sell_q", IVS[5], Side.SELL, "0.33", actionable=False),  # shorter interval wins
        tender("i_buy", HOUR, Side.BUY, "0.25", actionable=False),
    ]
    lad = ladders(ind, spot=spot)
    buy, sell = lad.expected_buy_per_kwh, lad.expected_sell_per_kwh
    assert buy[0] == pytest.approx(0.40 + HALF) and sell[0] == pytest.approx(0.40 - HALF)
    # the latest spot price (its interval is the newest), not the first, fills the gaps
    assert buy[1] == pytest.approx(0.20 + HALF) and buy[11] == pytest.approx(0.20 + HALF)
    assert list(buy[4:8]) == pytest.approx([0.35, 0.33, 0.35, 0.35]) and list(sell[4:8]) == [0.25] * 4
    assert ladders([]).expected_buy_per_kwh[0] == pytest.approx(0.3 + HALF)


def test_the_retailers_forward_quotes_estimate_spot_where_no_spot_price_is_out() -> None:
    spot = [SpotPrice(IVS[0], Decimal("0.40"), "EUR"), SpotPrice(IVS[4], Decimal("0.31"), "EUR")]
    quotes = [
        tender("ask", HOUR, Side.SELL, "0.22"),
        tender("ask_dear", HOUR, Side.SELL, "0.25"),  # the best quote of each side makes the mid
        tender("bid", HOUR, Side.BUY, "0.18"),
        # expired: no longer a step of the ladder, still the retailer's view of that interval
        tender("late", IVS[9], Side.SELL, "0.50", expires=NOW - timedelta(minutes=1)),
    ]
    lad = ladders(quotes, spot=spot)
    buy, sell = lad.expected_buy_per_kwh, lad.expected_sell_per_kwh
    # 10:00-11:00: the mid of 0.22 and 0.18 where no spot price is out, the spot price where one is
    assert buy[4] == pytest.approx(0.31 + HALF)
    assert list(buy[5:8]) == pytest.approx([0.20 + HALF] * 3) and list(sell[5:8]) == pytest.approx(
        [0.20 - HALF] * 3
    )
    assert buy[9] == pytest.approx(0.31 + HALF)  # one side quoted: no estimate, the latest spot
    assert "late" not in lad.map.tenders
    # elsewhere the latest spot price, as before (not the 09:00 one: 10:00 is newer)
    assert buy[3] == pytest.approx(0.31 + HALF) and buy[10] == pytest.approx(0.31 + HALF)
    # without the quotes' mid the day-ahead hours would all be priced as the latest spot price
    assert ladders([], spot=spot).expected_buy_per_kwh[5] == pytest.approx(0.31 + HALF)
    # an hour's indicative price that outlived its ladder is no price of waiting: the mid is
    lingering = [
        tender("i_sell", HOUR, Side.SELL, "0.22", actionable=False),
        tender("i_buy", HOUR, Side.BUY, "0.18", actionable=False),
    ]
    both = ladders([*quotes, *lingering], spot=spot)
    assert list(both.expected_buy_per_kwh[5:8]) == pytest.approx([0.20 + HALF] * 3)
    assert list(ladders(lingering, spot=spot).expected_buy_per_kwh[5:8]) == pytest.approx([0.22] * 3)


def test_the_spot_spread_sets_the_gap_between_the_expected_sides() -> None:
    spot = [SpotPrice(IVS[0], Decimal("0.30"), "EUR")]
    lad = ladders([], spot=spot, spot_spread_per_kwh=0.004)
    assert lad.expected_buy_per_kwh[0] == pytest.approx(0.302)
    assert lad.expected_sell_per_kwh[0] == pytest.approx(0.298)


def test_an_expected_sell_price_above_the_buy_price_is_lowered() -> None:
    ind = [
        tender("s", IVS[3], Side.SELL, "0.20", actionable=False),
        tender("b", IVS[3], Side.BUY, "0.30", actionable=False),
    ]
    lad = ladders(ind)
    assert lad.expected_sell_per_kwh[3] == pytest.approx(0.20) == lad.expected_buy_per_kwh[3]


def test_transport_tenders_become_adders_by_direction() -> None:
    home = RULES.home_node

    def transport(tid: str, iv: Interval, price: str, src: str, dst: str) -> Tender:
        return tender(
            tid, iv, Side.SELL, price, party="dso", product=Product.TRANSPORT, from_node=src, to_node=dst
        )

    trans = [
        transport("imp", HOUR, "0.08", "grid", home),
        transport("exp", HOUR, "-0.10", home, "grid"),
        transport("other", IVS[1], "0.5", "a", "b"),
    ]
    g = ladders(trans).grid
    # The hour's charges also stand for the intervals no transport tender covers (carried from
    # the nearest earlier one, or the first): a network charge of 0 there made cycling free.
    assert list(g.import_adder_per_kwh) == pytest.approx([0.08] * N)
    # a -0.10 export adder with a 0.08 import adder would pay for importing and exporting at once
    assert list(g.export_adder_per_kwh) == pytest.approx([-0.08] * N)


def test_transport_charges_carry_forward_from_the_latest_tender() -> None:
    home = RULES.home_node

    def imports(tid: str, iv: Interval, price: str) -> Tender:
        return tender(
            tid, iv, Side.SELL, price, party="dso", product=Product.TRANSPORT, from_node="grid", to_node=home
        )

    g = ladders([imports("a", IVS[2], "0.05"), imports("b", IVS[5], "0.09")]).grid
    assert list(g.import_adder_per_kwh) == pytest.approx([0.05] * 5 + [0.09] * (N - 5))


def test_position_must_fit_the_horizon() -> None:
    from agent.planning.errors import PlanningInputError

    with pytest.raises(PlanningInputError) as e:
        ladders([], position_kw=np.zeros(N - 1))
    assert e.value.field == "position_kw"
