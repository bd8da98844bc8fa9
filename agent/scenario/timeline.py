"""Where a run's instants fall in the data, and the day-by-day events (EV trips, hot-water draws).

Without ``replay`` the data are read at the run's own instants. With ``replay: {from, days}``
the run's first local day shows the data of ``from`` at the same wall-clock time, the next day
the day after, and so on, starting again at ``from`` every ``days`` days (a recorded week can be
replayed in any year; the loop is by whole local days).
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from agent.scenario.devices import DailyEv, Draw, EvTrip
from agent.scenario.spec import Replay


def data_instants(
    instants: list[datetime], start: datetime, replay: Replay | None, tz: ZoneInfo
) -> list[datetime]:
    if replay is None:
        return instants
    first = start.astimezone(tz).date()
    out = []
    for at in instants:
        local = at.astimezone(tz)
        offset = (local.date() - first).days % replay.days
        wall = datetime.combine(replay.from_day + timedelta(days=offset), local.time())
        out.append(wall.replace(tzinfo=tz, fold=local.fold))
    return out


def daily_trips(daily: DailyEv, first: datetime, last: datetime, tz: ZoneInfo) -> tuple[EvTrip, ...]:
    """A trip home every local evening whose stay overlaps ``[first, last)`` (from the day before)."""
    out = []
    first, last = first.astimezone(UTC), last.astimezone(UTC)
    day = first.astimezone(tz).date() - timedelta(days=1)
    while (arrive := _at(day, daily.arrive, tz)) < last:
        leave_day = day + timedelta(days=1) if daily.depart <= daily.arrive else day
        depart = _at(leave_day, daily.depart, tz)
        if depart > first:
            out.append(EvTrip(arrive, depart, daily.arrival_kwh, daily.target_kwh))
        day += timedelta(days=1)
    return tuple(out)


def draw_litres(
    draws: tuple[Draw, ...], starts: list[datetime], step: timedelta, tz: ZoneInfo
) -> list[float]:
    """Litres of the daily draws falling in each interval (a draw spreads evenly over its minutes)."""
    out = [0.0] * len(starts)
    if not draws or not starts:
        return out
    starts = [s.astimezone(UTC) for s in starts]
    day = starts[0].astimezone(tz).date() - timedelta(days=1)
    end = starts[-1] + step
    events = []
    while _at(day, time(0), tz) < end:
        for d in draws:
            a = _at(day, d.at, tz)
            events.append((a, a + timedelta(minutes=d.minutes), d.litres))
        day += timedelta(days=1)
    for i, s in enumerate(starts):
        e = s + step
        for a, b, litres in events:
            overlap = (min(b, e) - max(a, s)).total_seconds()
            if overlap > 0:
                out[i] += litres * overlap / (b - a).total_seconds()
    return out


def _at(day: date, t: time, tz: ZoneInfo) -> datetime:
    """Local wall-clock ``t`` on ``day`` as a UTC instant (a time skipped by DST falls an hour
    later, as clocks do). UTC, because Python subtracts and compares two datetimes of one zone by
    their wall clocks, which is an hour off across a DST change."""
    return datetime.combine(day, t).replace(tzinfo=tz).astimezone(UTC)
