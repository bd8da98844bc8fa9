"""The calendar changeover between heating and cooling (agent/season.py), hand-computed."""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from agent.season import CoolingSeason, ModeRule, MonthDay, SeasonError, cooling_season

BERLIN = ZoneInfo("Europe/Berlin")
SUMMER = ModeRule("auto", CoolingSeason(MonthDay(5, 15), MonthDay(9, 15)))


def test_changeover_days_are_half_open() -> None:
    days = ((1, 1), (5, 14), (5, 15), (7, 1), (9, 14), (9, 15))
    assert [SUMMER.mode_on(date(2015, m, d)) for m, d in days] == [
        "heating", "heating", "cooling", "cooling", "cooling", "heating",
    ]  # fmt: skip


def test_changeover_is_at_local_midnight() -> None:
    # 2015-05-14 22:30 UTC is 2015-05-15 00:30 in Berlin (CEST): already the first cooling day
    assert SUMMER.mode_at(datetime(2015, 5, 14, 21, 59, tzinfo=UTC), BERLIN) == "heating"
    assert SUMMER.mode_at(datetime(2015, 5, 14, 22, 0, tzinfo=UTC), BERLIN) == "cooling"


def test_a_season_across_new_year_wraps() -> None:
    south = ModeRule("auto", CoolingSeason(MonthDay(11, 15), MonthDay(3, 1)))
    assert [south.mode_on(date(2016, m, d)) for m, d in ((11, 14), (11, 15), (1, 10), (2, 29), (3, 1))] == [
        "heating", "cooling", "cooling", "cooling", "heating",
    ]  # fmt: skip


def test_fixed_modes_ignore_the_calendar() -> None:
    assert ModeRule("cooling").mode_on(date(2015, 1, 1)) == "cooling"
    assert ModeRule("heating").mode_on(date(2015, 7, 1)) == "heating"


@pytest.mark.parametrize(
    ("doc", "field", "fragment"),
    [
        ({"from": "05-15"}, "cooling_season", "must be {from"),
        ({"from": "5-15", "to": "09-15"}, "cooling_season.from", "'MM-DD'"),
        ({"from": "05-15", "to": "13-01"}, "cooling_season.to", "no such calendar day"),
        ({"from": "05-15", "to": "05-15"}, "cooling_season.to", "must differ"),
    ],
)
def test_season_errors_name_the_key(doc: object, field: str, fragment: str) -> None:
    with pytest.raises(SeasonError) as info:
        cooling_season("cooling_season", doc)
    assert info.value.field == field
    assert fragment in info.value.message


def test_rule_errors() -> None:
    with pytest.raises(SeasonError, match="cooling_season: is required"):
        ModeRule("auto")
    with pytest.raises(SeasonError, match="cooling_season: is only used"):
        ModeRule("heating", CoolingSeason(MonthDay(5, 15), MonthDay(9, 15)))


@given(st.dates(min_value=date(2000, 1, 1), max_value=date(2100, 12, 31)))
def test_a_day_cools_exactly_when_it_lies_in_the_season(day: date) -> None:
    # the same season spelt as its complement (heating season) flips every day's answer
    winter = CoolingSeason(MonthDay(9, 15), MonthDay(5, 15))
    assert SUMMER.mode_on(day) != ModeRule("auto", winter).mode_on(day)
    assert (SUMMER.mode_on(day) == "cooling") == ((5, 15) <= (day.month, day.day) < (9, 15))
