"""Reading events as openleadr parses them (the dict shape captured from its VTN) into price spans."""

from __future__ import annotations

import itertools
import re
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from agent.openadr import PriceSpan, SignalError, read_event

T0 = datetime(2026, 7, 16, 0, 0, tzinfo=UTC)
HOUR = timedelta(hours=1)
LEVELS = {1: Decimal("0.40"), 3: Decimal("1.20")}


def _event(*signals: dict[str, Any], start: datetime = T0) -> dict[str, Any]:
    return {
        "event_descriptor": {
            "event_id": "ev1",
            "modification_number": 2,
            "priority": 1,
            "market_context": "oadr://u/p",
            "created_date_time": T0 - HOUR,
            "event_status": "far",
        },
        "active_period": {"dtstart": start, "duration": 2 * HOUR},
        "event_signals": list(signals),
        "response_required": "always",
    }


def _signal(name: str, kind: str, *payloads: Any, starts: bool = True, **extra: Any) -> dict[str, Any]:
    intervals = []
    for i, payload in enumerate(payloads):
        interval: dict[str, Any] = {"duration": HOUR, "uid": i, "signal_payload": payload}
        if starts:
            interval["dtstart"] = T0 + i * HOUR
        intervals.append(interval)
    return {"signal_name": name, "signal_type": kind, "signal_id": "s", "intervals": intervals, **extra}


def test_an_electricity_price_signal_gives_one_span_per_interval() -> None:
    event = read_event(_event(_signal("ELECTRICITY_PRICE", "price", 0.42, 0.55)), LEVELS, "USD")
    assert (event.event_id, event.modification_number, event.priority) == ("ev1", 2, 1)
    assert event.spans == (
        PriceSpan(T0, T0 + HOUR, "price", Decimal("0.42")),
        PriceSpan(T0 + HOUR, T0 + 2 * HOUR, "price", Decimal("0.55")),
    )


def test_intervals_without_a_start_follow_on_from_the_active_period() -> None:
    # OpenADR 2.0b intervals carry only durations; openleadr's VTN adds starts, others may not.
    start = T0 + timedelta(minutes=30)
    event = read_event(
        _event(_signal("ENERGY_PRICE", "priceRelative", 0.1, -0.05, starts=False), start=start), LEVELS, "USD"
    )
    assert [(s.start, s.end, s.kind, s.value) for s in event.spans] == [
        (start, start + HOUR, "relative", Decimal("0.1")),
        (start + HOUR, start + 2 * HOUR, "relative", Decimal("-0.05")),
    ]


def test_a_price_signal_is_read_before_a_simple_level() -> None:
    event = read_event(
        _event(_signal("SIMPLE", "level", 3), _signal("ELECTRICITY_PRICE", "priceMultiplier", 3)),
        LEVELS,
        "USD",
    )
    assert event.spans == (PriceSpan(T0, T0 + HOUR, "multiplier", Decimal("3")),)


def test_simple_levels_use_the_map_and_level_zero_is_the_base() -> None:
    event = read_event(_event(_signal("SIMPLE", "level", 0, 1, 3)), LEVELS, "USD")
    assert [(s.kind, s.value) for s in event.spans] == [
        ("relative", Decimal(0)),
        ("price", Decimal("0.40")),
        ("price", Decimal("1.20")),
    ]
    assert [s.applied_to(Decimal("0.14")) for s in event.spans] == [
        Decimal("0.14"),
        Decimal("0.40"),
        Decimal("1.20"),
    ]


def test_prices_in_the_contracts_currency_per_kwh_are_read() -> None:
    unit = {"name": "currencyPerKWh", "description": "currencyPerKWh", "unit": "USD", "scale": "none"}
    event = read_event(_event(_signal("ELECTRICITY_PRICE", "price", 0.3, measurement=unit)), LEVELS, "USD")
    assert event.spans[0].value == Decimal("0.3")


@pytest.mark.parametrize(
    ("signal", "message"),
    [
        (_signal("SIMPLE", "level", 2), "SIMPLE level 2 has no price"),
        (_signal("SIMPLE", "level", 1.5), "is not 0, 1, 2 or 3"),
        (_signal("LOAD_DISPATCH", "setpoint", 5.0), "no price signal (has LOAD_DISPATCH)"),
        (_signal("ELECTRICITY_PRICE", "level", 1), "is not a price"),
        (_signal("ELECTRICITY_PRICE", "price", float("nan")), "is not finite"),
        (_signal("ELECTRICITY_PRICE", "price", "cheap"), "is not a number"),
        (_signal("ELECTRICITY_PRICE", "price", True), "is not a number"),
        (_signal("ELECTRICITY_PRICE", "priceMultiplier", -1), "below zero"),
        (
            _signal(
                "ELECTRICITY_PRICE",
                "price",
                0.3,
                measurement={"name": "currencyPerKWh", "unit": "EUR", "scale": "none"},
            ),
            "currencyPerKWh EUR",
        ),
        (
            _signal(
                "ELECTRICITY_PRICE",
                "price",
                30,
                measurement={"name": "currencyPerKWh", "unit": "USD", "scale": "k"},
            ),
            "scale k",
        ),
        (_signal("ELECTRICITY_PRICE", "price", 0.3) | {"intervals": []}, "has no intervals"),
    ],
)
def test_what_cannot_be_a_price_is_refused_by_name(signal: dict[str, Any], message: str) -> None:
    with pytest.raises(SignalError, match=re.escape(message)):
        read_event(_event(signal), LEVELS, "USD")


def test_an_interval_without_a_positive_duration_is_refused() -> None:
    signal = _signal("ELECTRICITY_PRICE", "price", 0.3)
    signal["intervals"][0]["duration"] = timedelta(0)
    with pytest.raises(SignalError, match="no positive duration"):
        read_event(_event(signal), LEVELS, "USD")


def test_a_naive_start_is_refused() -> None:
    with pytest.raises(SignalError, match="not a time with a zone"):
        read_event(
            _event(_signal("ELECTRICITY_PRICE", "price", 0.3), start=T0.replace(tzinfo=None)), LEVELS, "USD"
        )


@settings(max_examples=60, deadline=None)
@given(
    parts=st.lists(
        st.tuples(
            st.integers(min_value=1, max_value=24 * 60),
            st.decimals(min_value=Decimal("-1"), max_value=Decimal("5"), places=4),
        ),
        min_size=1,
        max_size=30,
    )
)
def test_spans_follow_on_without_gaps_and_keep_every_value(parts: list[tuple[int, Decimal]]) -> None:
    intervals = [
        {"duration": timedelta(minutes=m), "uid": i, "signal_payload": float(v)}
        for i, (m, v) in enumerate(parts)
    ]
    signal = {"signal_name": "ELECTRICITY_PRICE", "signal_type": "price", "intervals": intervals}
    spans = read_event(_event(signal), LEVELS, "USD").spans
    assert spans[0].start == T0
    assert all(a.end == b.start for a, b in itertools.pairwise(spans))
    assert spans[-1].end == T0 + timedelta(minutes=sum(m for m, _ in parts))
    assert [s.value for s in spans] == [v for _, v in parts]
