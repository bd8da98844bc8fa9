"""The program's book: base rate outside events, time-weighted means, priorities, the hold time, the save."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from agent.clock import ManualClock
from agent.market.intervals import Duration
from agent.openadr import CACHE_FILE, PriceSpan, ProgramBook, ProgramCacheError, ProgramEvent

LA = ZoneInfo("America/Los_Angeles")
T0 = datetime(2026, 7, 15, 20, 0, tzinfo=UTC)  # 13:00 in Los Angeles
HOUR = timedelta(hours=1)
BASE = Decimal("0.14")


def _book(clock: ManualClock, tmp_path: Path | None = None, hold_h: float = 24) -> ProgramBook:
    return ProgramBook(BASE, "USD", LA, clock, step=Duration.PT15M, hold_s=hold_h * 3600, state_dir=tmp_path)


def _event(event_id: str, spans: list[PriceSpan], priority: int = 0, created: datetime = T0) -> ProgramEvent:
    return ProgramEvent(event_id, 0, priority, created, "oadr://u/p", "far", tuple(spans))


def _prices(book: ProgramBook, start: datetime, end: datetime) -> list[tuple[Decimal, str]]:
    return [(p.price_per_kwh, p.state) for p in asyncio.run(book.prices(start, end))]


def test_no_event_is_the_base_rate_and_firm() -> None:
    book = _book(ManualClock(T0))
    book.heard()
    assert _prices(book, T0, T0 + HOUR) == [(BASE, "firm")] * 4


def test_a_span_over_part_of_an_interval_is_weighted_by_time() -> None:
    clock = ManualClock(T0)
    book = _book(clock)
    book.heard()
    # 0.80 from 13:05 for 20 minutes: the 13:00 quarter has 10 min of it, the 13:15 quarter 10 min.
    book.put(
        _event(
            "e", [PriceSpan(T0 + timedelta(minutes=5), T0 + timedelta(minutes=25), "price", Decimal("0.80"))]
        )
    )
    # (5 x 0.14 + 10 x 0.80) / 15 = 0.58; (10 x 0.80 + 5 x 0.14) / 15 = 0.58
    assert _prices(book, T0, T0 + HOUR) == [
        (Decimal("0.58"), "indicative"),
        (Decimal("0.58"), "indicative"),
        (BASE, "firm"),
        (BASE, "firm"),
    ]


def test_the_higher_priority_event_wins_an_overlap_and_zero_is_the_lowest() -> None:
    book = _book(ManualClock(T0))
    book.heard()
    book.put(_event("none", [PriceSpan(T0, T0 + HOUR, "price", Decimal("0.90"))], priority=0))
    book.put(_event("two", [PriceSpan(T0, T0 + HOUR, "price", Decimal("0.50"))], priority=2))
    book.put(
        _event(
            "one", [PriceSpan(T0 + timedelta(minutes=30), T0 + HOUR, "price", Decimal("0.70"))], priority=1
        )
    )
    assert [p for p, _ in _prices(book, T0, T0 + HOUR)] == [Decimal("0.50")] * 2 + [Decimal("0.70")] * 2


def test_among_equal_priorities_the_newest_event_wins() -> None:
    book = _book(ManualClock(T0))
    book.heard()
    book.put(_event("old", [PriceSpan(T0, T0 + HOUR, "price", Decimal("0.90"))], created=T0 - HOUR))
    book.put(_event("new", [PriceSpan(T0, T0 + HOUR, "price", Decimal("0.60"))], created=T0))
    assert {p for p, _ in _prices(book, T0, T0 + HOUR)} == {Decimal("0.60")}


def test_prices_are_held_for_the_hold_time_then_the_base_rate_until_heard_again() -> None:
    clock = ManualClock(T0)
    book = _book(clock, hold_h=2)
    book.heard()
    book.put(_event("e", [PriceSpan(T0, T0 + 10 * HOUR, "price", Decimal("0.80"))]))
    later = T0 + 3 * HOUR
    clock.advance(2 * 3600)  # exactly the hold time: still held
    assert _prices(book, later, later + HOUR) == [(Decimal("0.80"), "indicative")] * 4
    clock.advance(1)
    assert _prices(book, later, later + HOUR) == [(BASE, "firm")] * 4
    book.heard()
    assert _prices(book, later, later + HOUR) == [(Decimal("0.80"), "indicative")] * 4


def test_a_book_never_heard_is_the_base_rate() -> None:
    book = _book(ManualClock(T0))
    book.put(_event("e", [PriceSpan(T0, T0 + HOUR, "price", Decimal("0.80"))]))
    assert _prices(book, T0, T0 + HOUR) == [(BASE, "firm")] * 4


def test_the_saved_program_is_read_back_by_a_new_book(tmp_path: Path) -> None:
    clock = ManualClock(T0)
    book = _book(clock, tmp_path)
    book.heard()
    book.put(_event("e", [PriceSpan(T0, T0 + HOUR, "relative", Decimal("0.25"))], priority=1))
    asyncio.run(book.save())
    clock.advance(600)
    again = _book(clock, tmp_path)
    again.load()
    assert again.last_heard == T0
    assert again.events == book.events
    assert _prices(again, T0, T0 + HOUR) == [(Decimal("0.39"), "indicative")] * 4


@pytest.mark.parametrize(
    "text",
    [
        "not json",
        json.dumps({"version": 99, "last_heard": None, "events": []}),
        json.dumps({"version": 1, "last_heard": None, "events": [{"event_id": "e"}]}),
        json.dumps(
            {
                "version": 1,
                "last_heard": None,
                "events": [
                    {
                        "event_id": "e",
                        "modification_number": 0,
                        "priority": 0,
                        "created": T0.isoformat(),
                        "market_context": "",
                        "status": "far",
                        "spans": [[T0.isoformat(), T0.isoformat(), "bogus", "1"]],
                    }
                ],
            }
        ),
    ],
)
def test_a_damaged_save_is_a_typed_error(tmp_path: Path, text: str) -> None:
    (tmp_path / CACHE_FILE).write_text(text)
    book = _book(ManualClock(T0), tmp_path)
    with pytest.raises(ProgramCacheError):
        book.load()
    assert book.events == []  # nothing half-loaded


def test_prune_keeps_ended_events_for_three_days_for_the_bill() -> None:
    clock = ManualClock(T0)
    book = _book(clock)
    book.put(_event("past", [PriceSpan(T0, T0 + HOUR, "price", Decimal("0.80"))]))
    book.put(_event("later", [PriceSpan(T0 + HOUR, T0 + 2 * HOUR, "price", Decimal("0.80"))]))
    clock.advance(3600 + 3 * 86400 - 1)
    book.prune()
    assert [e.event_id for e in book.events] == ["past", "later"]
    clock.advance(1)
    book.prune()
    assert [e.event_id for e in book.events] == ["later"]


def test_an_ended_interval_is_billed_at_the_event_in_force_once_the_vtn_was_heard_after_it() -> None:
    # Guards a bill at the base rate: an event's hour, asked for after it ended (as the settler
    # does), once fell back to the base rate marked firm.
    clock = ManualClock(T0)
    book = _book(clock, hold_h=1)
    book.heard()
    book.put(_event("cpp", [PriceSpan(T0, T0 + HOUR, "price", Decimal("0.80"))]))
    clock.advance(2 * 3600)  # the hour is over; the VTN last heard at its start, the hold has run out
    assert _prices(book, T0, T0 + HOUR) == [(Decimal("0.80"), "indicative")] * 4
    assert _prices(book, T0 + HOUR, T0 + 2 * HOUR) == [(BASE, "indicative")] * 4
    book.heard()  # heard again: the program as it stood is known, cancelled events gone
    assert _prices(book, T0, T0 + HOUR) == [(Decimal("0.80"), "firm")] * 4
    assert _prices(book, T0 + HOUR, T0 + 2 * HOUR) == [(BASE, "firm")] * 4


prices = st.decimals(min_value=Decimal("-1"), max_value=Decimal("5"), places=3)


@settings(max_examples=50, deadline=None)
@given(
    offset_min=st.integers(min_value=0, max_value=59),
    length_min=st.integers(min_value=1, max_value=180),
    price=prices,
)
def test_the_energy_over_the_day_is_conserved(offset_min: int, length_min: int, price: Decimal) -> None:
    """Whatever the span's alignment, the intervals' prices times their length add up to the
    base over the day plus the span's excess over its minutes (nothing lost or invented)."""
    book = _book(ManualClock(T0))
    book.heard()
    start = T0 + timedelta(minutes=offset_min)
    book.put(_event("e", [PriceSpan(start, start + timedelta(minutes=length_min), "price", price)]))
    got = asyncio.run(book.prices(T0, T0 + 6 * HOUR))
    total = sum((p.price_per_kwh * 15 for p in got), Decimal(0))
    expected = BASE * 6 * 60 + (price - BASE) * length_min
    assert abs(total - expected) < Decimal("1e-20")
    # Indicative exactly where the span has minutes: the quarters its minutes fall in.
    quarters = {(offset_min + m) // 15 for m in range(length_min)}
    assert {p.start for p in got if p.state == "indicative"} == {
        T0 + timedelta(minutes=15 * q) for q in quarters
    }
