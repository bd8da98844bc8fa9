"""Uniform nested intervals: examples for the awkward calendars, then properties over many zones."""

from __future__ import annotations

import itertools
import os
import pickle
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from agent.market.errors import IntervalError
from agent.market.intervals import (
    Duration,
    Interval,
    containing,
    horizon,
    interval_from_wire,
    intervals_between,
    parse_interval,
    zone,
)

BERLIN = ZoneInfo("Europe/Berlin")
KOLKATA = ZoneInfo("Asia/Kolkata")

# Zones chosen for their oddities: DST by 1 h, 30 min (Lord_Howe) and 2 h (Troll); negative DST
# (Dublin); half- and quarter-hour offsets (Kolkata, Kathmandu, Chatham, St_Johns, Adelaide);
# DST changes at midnight (Santiago, Havana, Beirut, Asuncion); a skipped day (Apia 2011).
ZONES = [
    "UTC",
    "Europe/Berlin",
    "Europe/London",
    "Europe/Dublin",
    "America/New_York",
    "America/St_Johns",
    "America/Santiago",
    "America/Havana",
    "America/Asuncion",
    "America/Sao_Paulo",
    "Asia/Kolkata",
    "Asia/Kathmandu",
    "Asia/Tehran",
    "Asia/Beirut",
    "Australia/Adelaide",
    "Australia/Lord_Howe",
    "Pacific/Chatham",
    "Pacific/Apia",
    "Pacific/Kiritimati",
    "Antarctica/Troll",
    "Africa/Casablanca",
]
SUBDAY = [Duration.PT1H, Duration.PT15M, Duration.PT5M, Duration.PT1M, Duration.PT4S]

instants = st.datetimes(
    min_value=datetime(1975, 1, 1), max_value=datetime(2090, 12, 31), timezones=st.just(UTC)
)
zones = st.sampled_from(ZONES).map(ZoneInfo)
durations = st.sampled_from(list(Duration))


def _offset_changes_at(t: datetime, tz: ZoneInfo) -> bool:
    return (t - timedelta(seconds=1)).astimezone(tz).utcoffset() != t.astimezone(tz).utcoffset()


# --- examples --------------------------------------------------------------------------------


def test_spring_forward_day_is_23_hours_in_berlin() -> None:
    day = containing(datetime(2026, 3, 29, 12, tzinfo=UTC), Duration.P1D, BERLIN)
    assert day.span == timedelta(hours=23)
    assert len(day.children(Duration.PT1H)) == 23
    assert len(day.children(Duration.PT15M)) == 92
    assert day.start.isoformat() == "2026-03-29T00:00:00+01:00"
    assert day.end.isoformat() == "2026-03-30T00:00:00+02:00"


def test_fall_back_day_is_25_hours_and_repeats_two_oclock() -> None:
    day = containing(datetime(2026, 10, 25, 12, tzinfo=UTC), Duration.P1D, BERLIN)
    assert day.span == timedelta(hours=25)
    starts = [h.start.isoformat() for h in day.children(Duration.PT1H)]
    assert "2026-10-25T02:00:00+02:00" in starts
    assert "2026-10-25T02:00:00+01:00" in starts
    assert len(set(day.children(Duration.PT1H))) == 25  # the two 02:00 hours are distinct


def test_kolkata_hours_start_at_half_past_utc() -> None:
    hour = containing(datetime(2026, 1, 1, 10, 40, tzinfo=UTC), Duration.PT1H, KOLKATA)
    assert hour.start_utc == datetime(2026, 1, 1, 10, 30, tzinfo=UTC)
    assert hour.start.minute == 0


def test_leap_years() -> None:
    assert containing(datetime(2024, 6, 1, tzinfo=UTC), Duration.P1Y, BERLIN).span == timedelta(days=366)
    assert containing(datetime(2023, 6, 1, tzinfo=UTC), Duration.P1Y, BERLIN).span == timedelta(days=365)
    feb = containing(datetime(2024, 2, 10, tzinfo=UTC), Duration.P1M, BERLIN)
    assert len(feb.children(Duration.P1D)) == 29
    feb_2100 = containing(datetime(2100, 2, 10, tzinfo=UTC), Duration.P1M, BERLIN)
    assert len(feb_2100.children(Duration.P1D)) == 28  # 2100 is not a leap year


def test_skipped_day_in_apia_is_stepped_over() -> None:
    apia = ZoneInfo("Pacific/Apia")
    december = containing(datetime(2011, 12, 15, tzinfo=UTC), Duration.P1M, apia)
    days = december.children(Duration.P1D)
    assert len(days) == 30
    assert all(d.start.day != 30 for d in days)
    assert sum((d.span for d in days), timedelta()) == december.span


def test_lord_howe_half_hour_shift_makes_a_short_hour_that_still_nests() -> None:
    tz = ZoneInfo("Australia/Lord_Howe")
    day = containing(datetime(2026, 4, 5, 3, tzinfo=UTC), Duration.P1D, tz)
    assert day.span == timedelta(hours=24, minutes=30)
    hours = day.children(Duration.PT1H)
    assert sorted({h.span for h in hours}) == [timedelta(minutes=30), timedelta(hours=1)]
    assert sum((h.span for h in hours), timedelta()) == day.span


def test_wire_round_trip_and_errors() -> None:
    interval = parse_interval("2026-03-29T03:00:00+02:00", "PT5M", BERLIN)
    assert interval.to_wire() == {"start": "2026-03-29T03:00:00+02:00", "duration": "PT5M"}
    # The same instant written in UTC is the same interval.
    assert parse_interval("2026-03-29T01:00:00+00:00", "PT5M", BERLIN) == interval
    with pytest.raises(IntervalError, match=r"interval\.start: .*not aligned"):
        parse_interval("2026-03-29T03:02:00+02:00", "PT5M", BERLIN)
    with pytest.raises(IntervalError, match=r"interval\.duration: unknown duration 'PT7M'"):
        parse_interval("2026-03-29T03:00:00+02:00", "PT7M", BERLIN)
    with pytest.raises(IntervalError, match="no UTC offset"):
        parse_interval("2026-03-29T03:00:00", "PT5M", BERLIN)
    with pytest.raises(IntervalError, match="not an ISO 8601"):
        parse_interval("yesterday", "PT5M", BERLIN)
    with pytest.raises(IntervalError, match="unknown field"):
        interval_from_wire({"start": "2026-03-29T03:00:00+02:00", "duration": "PT5M", "x": 1}, BERLIN)
    with pytest.raises(IntervalError, match="unknown time zone"):
        zone("Mars/Olympus")


def test_direct_construction_refuses_a_misaligned_start() -> None:
    with pytest.raises(IntervalError, match="not the start"):
        Interval(datetime(2026, 1, 1, 0, 1, tzinfo=UTC), Duration.PT5M, BERLIN)


def test_horizon_and_between() -> None:
    first = containing(datetime(2026, 3, 28, 23, tzinfo=UTC), Duration.PT15M, BERLIN)
    hours = horizon(first, 8)
    assert [b.start_utc - a.start_utc for a, b in itertools.pairwise(hours)] == [timedelta(minutes=15)] * 7
    span = intervals_between(
        datetime(2026, 3, 28, 23, 7, tzinfo=UTC),
        datetime(2026, 3, 29, 0, 0, tzinfo=UTC),
        Duration.PT15M,
        BERLIN,
    )
    assert [i.start_utc.minute for i in span] == [0, 15, 30, 45]


def test_parent_and_children_refuse_the_wrong_direction() -> None:
    hour = containing(datetime(2026, 5, 1, tzinfo=UTC), Duration.PT1H, BERLIN)
    with pytest.raises(IntervalError):
        hour.parent(Duration.PT5M)
    with pytest.raises(IntervalError):
        hour.children(Duration.P1D)


# --- properties ------------------------------------------------------------------------------


@settings(max_examples=400, deadline=None)
@given(t=instants, tz=zones, d=durations)
def test_containing_contains_and_is_aligned(t: datetime, tz: ZoneInfo, d: Duration) -> None:
    interval = containing(t, d, tz)
    assert interval.contains(t)
    assert interval.span > timedelta(0)
    assert containing(interval.start_utc, d, tz) == interval
    local = interval.start
    aligned_wall = (
        (local.hour, local.minute, local.second) == (0, 0, 0)
        if d.is_calendar
        else (local.hour * 3600 + local.minute * 60 + local.second) % int(d.nominal.total_seconds()) == 0
    )
    # A boundary is either on the wall-clock grid or the instant the UTC offset changed.
    assert aligned_wall or _offset_changes_at(interval.start_utc, tz)
    if d is Duration.P1M:
        assert local.day == 1 or _offset_changes_at(interval.start_utc, tz)


@settings(max_examples=400, deadline=None)
@given(t=instants, tz=zones, a=durations, b=durations)
def test_nesting(t: datetime, tz: ZoneInfo, a: Duration, b: Duration) -> None:
    longer, shorter = (a, b) if a.rank <= b.rank else (b, a)
    outer, inner = containing(t, longer, tz), containing(t, shorter, tz)
    assert outer.contains_interval(inner)
    assert inner.parent(longer) == outer


@settings(max_examples=300, deadline=None)
@given(t=instants, tz=zones, d=durations)
def test_neighbours_leave_no_gap_or_overlap(t: datetime, tz: ZoneInfo, d: Duration) -> None:
    interval = containing(t, d, tz)
    after, before = interval.next(), interval.previous()
    assert after.start_utc == interval.end_utc
    assert before.end_utc == interval.start_utc
    assert before.next() == interval


@settings(max_examples=150, deadline=None)
@given(t=instants, tz=zones, d=st.sampled_from([Duration.P1D, Duration.PT1H, Duration.PT15M]))
def test_children_tile_their_parent(t: datetime, tz: ZoneInfo, d: Duration) -> None:
    parent = containing(t, d, tz)
    child_duration = {
        Duration.P1D: Duration.PT1H,
        Duration.PT1H: Duration.PT5M,
        Duration.PT15M: Duration.PT4S,
    }[d]
    children = parent.children(child_duration)
    assert children[0].start_utc == parent.start_utc
    assert children[-1].end_utc == parent.end_utc
    assert all(x.end_utc == y.start_utc for x, y in itertools.pairwise(children))


@settings(max_examples=300, deadline=None)
@given(t=instants, tz=zones, d=durations)
def test_wire_round_trip(t: datetime, tz: ZoneInfo, d: Duration) -> None:
    interval = containing(t, d, tz)
    wire = interval.to_wire()
    assert parse_interval(wire["start"], wire["duration"], tz) == interval
    assert interval_from_wire(wire, tz).to_wire() == wire


@settings(max_examples=200, deadline=None)
@given(t=instants, tz=zones, d=st.sampled_from(SUBDAY), shift_s=st.integers(min_value=1, max_value=3))
def test_misaligned_starts_are_refused(t: datetime, tz: ZoneInfo, d: Duration, shift_s: int) -> None:
    interval = containing(t, d, tz)
    shifted = (interval.start_utc + timedelta(seconds=shift_s)).astimezone(tz).isoformat()
    with pytest.raises(IntervalError, match="not aligned"):
        parse_interval(shifted, d.value, tz)


def test_an_interval_pickled_into_another_process_keys_its_dicts() -> None:
    """An interval keeps its hash; unpickled in a process whose string hashes differ (a split
    run's parts), it must be rebuilt, not carry the hash it had here."""
    iv = containing(datetime(2026, 3, 29, 1, 30, tzinfo=UTC), Duration.PT1H, ZoneInfo("Europe/Berlin"))
    blob = pickle.dumps({iv: "found"})
    script = (
        "import pickle, sys\n"
        "from datetime import UTC, datetime\n"
        "from zoneinfo import ZoneInfo\n"
        "from agent.market.intervals import Duration, containing\n"
        "table = pickle.loads(sys.stdin.buffer.read())\n"
        "at = datetime(2026, 3, 29, 1, 30, tzinfo=UTC)\n"
        "iv = containing(at, Duration.PT1H, ZoneInfo('Europe/Berlin'))\n"
        "print(table.get(iv, 'missing'))\n"
    )
    for seed in ("1", "2"):
        out = subprocess.run(
            [sys.executable, "-c", script],
            input=blob,
            capture_output=True,
            check=True,
            env={**os.environ, "PYTHONHASHSEED": seed},
            timeout=60,
        )
        assert out.stdout.decode().strip() == "found"
