"""Property: over any horizon, in any zone (DST days included), every interval gets exactly one
import and one export price, and becomes exactly one sell and one buy tender at those prices."""

from __future__ import annotations

import asyncio
from collections import Counter
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from agent.config import Config
from agent.market.intervals import Duration, containing, intervals_between
from agent.market.records import Side
from agent.tariff import TariffCounterparty

ZONES = ("America/Los_Angeles", "Europe/Berlin", "Asia/Kolkata", "Australia/Lord_Howe")
PERIOD_NAMES = ("peak", "shoulder", "night")
DAY_KINDS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun", "weekday", "weekend", "holiday")

clock_times = st.builds(lambda h, m: f"{h:02d}:{m:02d}", st.integers(0, 23), st.sampled_from((0, 15, 30, 45)))
month_days = st.builds(lambda m, d: f"{m:02d}-{d:02d}", st.integers(1, 12), st.integers(1, 28))
# Three parts of at most these, times VAT up to 1.3, stay within the default caps [-1, 5].
prices = st.decimals(min_value=Decimal("-0.25"), max_value=Decimal("1.2"), places=4)


@st.composite
def periods(draw: st.DrawFn) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for _ in range(draw(st.integers(0, 5))):
        p: dict[str, Any] = {"name": draw(st.sampled_from(PERIOD_NAMES))}
        if draw(st.booleans()):
            p["seasons"] = draw(st.lists(st.sampled_from(("summer", "winter")), min_size=1, max_size=2))
        if draw(st.booleans()):
            p["days"] = draw(st.lists(st.sampled_from(DAY_KINDS), min_size=1, max_size=3))
        if draw(st.booleans()):
            p["from"], p["to"] = draw(clock_times), draw(clock_times)
        out.append(p)
    return [*out, {"name": "base"}]


@st.composite
def configs(draw: st.DrawFn) -> Config:
    plist = draw(periods())
    names = sorted({p["name"] for p in plist})
    source: dict[str, Any] = {
        "type": "tariff",
        "periods": plist,
        "seasons": {
            "summer": {"from": draw(month_days), "to": draw(month_days)},
            "winter": {"from": "01-01", "to": "12-31"},
        },
        "holidays": {"country": "US"},
        "energy_per_kwh": {"energy": {n: str(draw(prices)) for n in names}, "adder": str(draw(prices))},
        "network_per_kwh": {"grid": {n: str(draw(prices)) for n in names}},
        "vat_multiplier": str(draw(st.decimals(min_value=1, max_value=Decimal("1.3"), places=2))),
        "export": draw(
            st.sampled_from(
                (
                    {"type": "none"},
                    {"type": "fixed", "price_per_kwh": "0.08"},
                    {"type": "market_share", "share": "0.9"},
                )
            )
        ),
    }
    doc = {
        "site": {"id": "home", "timezone": draw(st.sampled_from(ZONES)), "latitude": 0, "longitude": 0},
        "planner": {"step": draw(st.sampled_from(("PT15M", "PT1H")))},
        "market": {"source": source},
        "devices": {"grid": {"role": "meter", "driver": {"type": "simulated"}}},
    }
    return Config.model_validate(doc, context={"env": {}})


@settings(max_examples=40, deadline=None)
@given(
    config=configs(),
    start=st.datetimes(
        min_value=datetime(2026, 1, 1), max_value=datetime(2027, 12, 31), timezones=st.just(UTC)
    ),
    hours=st.integers(1, 72),
)
def test_every_interval_has_one_import_and_one_export_price(
    config: Config, start: datetime, hours: int
) -> None:
    step = config.planner.step
    first = containing(start, step, config.zone)
    intervals = intervals_between(first.start_utc, start + timedelta(hours=hours), step, config.zone)
    cp = TariffCounterparty(config)
    quoted = asyncio.run(cp.quote(intervals))
    assert [p.interval for p in quoted.prices] == intervals
    names = {p.name for p in config.market.tariff.periods} if config.market.tariff else set()
    for p in quoted.prices:
        assert p.period in names
        assert sum(p.import_parts.values(), Decimal(0)) == p.import_per_kwh
    sides = Counter((t.interval, t.side) for t in quoted.tenders)
    assert sides == Counter({(iv, side): 1 for iv in intervals for side in (Side.SELL, Side.BUY)})
    by_interval = {p.interval: p for p in quoted.prices}
    for t in quoted.tenders:
        price = by_interval[t.interval]
        assert t.price_per_kwh == (price.import_per_kwh if t.side is Side.SELL else price.export_per_kwh)
        assert not t.actionable and t.party == "tariff" and t.counterparty == "home"
    assert all(iv.duration is Duration(step) for iv in intervals)
