"""Learning how spot settles against the retailer's forward quotes, by hour of day."""

from __future__ import annotations

import dataclasses
from datetime import timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import numpy as np
import pytest

from agent.market.intervals import Duration, Interval, containing
from agent.market.records import Side, SpotPrice, Tender
from agent.planning.market import MarketRules
from agent.trading.spot_premium import SpotPremium
from tests.planning.helpers import NOW, tender

BERLIN = ZoneInfo("Europe/Berlin")
RULES = MarketRules("home", "shop", "EUR", Decimal("-1"), Decimal("5"), Decimal("10"), "home")
HOUR = containing(NOW, Duration.PT1H, BERLIN).next()  # 10:00-11:00 Berlin


def quotes(ask: str, bid: str, hour: Interval = HOUR) -> list[Tender]:
    return [tender("a", hour, Side.SELL, ask), tender("b", hour, Side.BUY, bid)]


def spots(price: str, hour: Interval = HOUR) -> list[SpotPrice]:
    return [SpotPrice(iv, Decimal(price), "EUR") for iv in hour.children(Duration.PT5M)]


def test_spot_below_the_quotes_mid_is_learned_for_that_hour_and_shrunk_by_the_documented_rule() -> None:
    learn = SpotPremium(RULES, BERLIN)
    learn.observe(quotes("0.30", "0.28"), [], NOW)  # mid 0.29, seen before the hour began
    # The hour's twelve 5-minute spot prices at 0.27: twelve samples of -0.02, each counted once
    # although the book shows them again on the next plans.
    for _ in range(3):
        learn.observe([], spots("0.27"), HOUR.end_utc)
    table = learn.by_hour()
    # mean -0.02 x 12 / (12 + 12)
    assert table[10] == pytest.approx(-0.01)
    assert np.count_nonzero(table) == 1
    tomorrow = list(HOUR.next().children(Duration.PT15M))
    next_day_10 = containing(HOUR.start_utc + timedelta(days=1), Duration.PT15M, BERLIN)
    offsets = learn.offsets([*tomorrow, next_day_10])
    assert offsets.tolist() == pytest.approx([0.0] * 4 + [-0.01])


def test_quotes_seen_only_after_their_hour_began_and_other_parties_teach_nothing() -> None:
    learn = SpotPremium(RULES, BERLIN)
    learn.observe(quotes("0.30", "0.28"), [], HOUR.start_utc)  # too late: the hour has begun
    other = [dataclasses.replace(t, party="someone") for t in quotes("0.50", "0.48")]
    learn.observe(other, [], NOW)
    learn.observe([], spots("0.27"), HOUR.end_utc)
    assert not learn.by_hour().any()


def test_old_samples_are_forgotten() -> None:
    learn = SpotPremium(RULES, BERLIN, keep=timedelta(days=1))
    learn.observe(quotes("0.30", "0.28"), [], NOW)
    learn.observe([], spots("0.31"), HOUR.end_utc)
    assert learn.by_hour()[10] == pytest.approx(0.02 * 12 / 24)
    learn.observe([], [], HOUR.end_utc + timedelta(days=2))
    assert not learn.by_hour().any()
