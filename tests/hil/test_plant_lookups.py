"""The plant's kept look-ups answer as the plain ones: the car's session at an instant, and the
heat pump's mode by the local calendar (zones whose midnight falls in a DST change included)."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from hypothesis import given, settings
from hypothesis import strategies as st

from agent.season import CoolingSeason, MonthDay
from hil.plant import WINTER
from hil.plant.ev import Ev, Session

T0 = datetime(2026, 1, 1, tzinfo=UTC)


def _linear(sessions: list[Session], at: datetime) -> Session | None:
    return next((s for s in sessions if s.arrival <= at < s.departure), None)


session = st.tuples(st.integers(0, 500), st.integers(1, 60)).map(
    lambda p: Session(T0 + timedelta(minutes=p[0]), T0 + timedelta(minutes=p[0] + p[1]), 1.0)
)


@settings(max_examples=200, deadline=None)
@given(
    st.lists(session, max_size=12),
    st.booleans(),
    st.lists(st.integers(-10, 600), min_size=1, max_size=30),
)
def test_the_session_at_an_instant_is_the_first_that_holds_it(
    sessions: list[Session], in_order: bool, minutes: list[int]
) -> None:
    if in_order:  # the usual case: one after another, apart
        sessions = sorted(sessions, key=lambda s: s.arrival)
        apart: list[Session] = []
        for s in sessions:
            if not apart or apart[-1].departure <= s.arrival:
                apart.append(s)
        sessions = apart
    ev = Ev(60.0, 7.4, sessions)
    for m in minutes:
        at = T0 + timedelta(minutes=m)
        assert ev.session_at(at) is _linear(sessions, at)


def test_sessions_changed_in_place_are_read_again() -> None:
    first = Session(T0, T0 + timedelta(hours=1), 1.0)
    sessions = [first]
    ev = Ev(60.0, 7.4, sessions)
    assert ev.session_at(T0 + timedelta(minutes=90)) is None
    later = Session(T0 + timedelta(hours=1), T0 + timedelta(hours=2), 1.0)
    sessions.append(later)
    assert ev.session_at(T0 + timedelta(minutes=90)) is later


@settings(max_examples=60, deadline=None)
@given(
    st.sampled_from(["Europe/Berlin", "America/Santiago", "America/Havana", "Asia/Kolkata", "Pacific/Apia"]),
    st.lists(st.integers(0, 3 * 365 * 24 * 4), min_size=1, max_size=40),
)
def test_the_mode_kept_for_a_day_is_the_calendars(zone: str, quarters: list[int]) -> None:
    home = dataclasses.replace(
        WINTER, mode="auto", cooling_season=CoolingSeason(MonthDay(5, 15), MonthDay(9, 15)), timezone=zone
    )
    rule, tz = home.mode_rule(), ZoneInfo(zone)
    start = datetime(2014, 1, 1, tzinfo=UTC)
    for q in sorted(quarters) + quarters:  # forward in time, then in any order
        at = start + timedelta(minutes=15 * q)
        assert home.mode_at(at) == rule.mode_at(at, tz)


def test_the_mode_changes_over_at_the_local_midnight() -> None:
    berlin = ZoneInfo("Europe/Berlin")
    home = dataclasses.replace(
        WINTER, mode="auto", cooling_season=CoolingSeason(MonthDay(5, 15), MonthDay(9, 15))
    )
    before = datetime(2015, 5, 14, 23, 59, 59, tzinfo=berlin)
    assert home.mode_at(before) == "heating"
    assert home.mode_at(before + timedelta(seconds=1)) == "cooling"
    assert home.mode_at(before) == "heating"
