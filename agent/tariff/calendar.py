"""Which time-of-use period an interval falls in: seasons, day kinds, public holidays, clock windows.

An interval is classified by its *local* start (the site's time zone), so on a DST day the hour
02:00 simply does not occur (23 h) or 01:00 occurs twice (25 h), each priced as its wall clock says.
"""

from __future__ import annotations

from collections.abc import Container
from datetime import date, datetime, time
from zoneinfo import ZoneInfo

import holidays

from agent.config.tariff import Season, TariffSource, TouPeriod
from agent.market.intervals import Interval

_WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


def _month_day(text: str) -> tuple[int, int]:
    month, day = text.split("-")
    return int(month), int(day)


def in_season(season: Season, day: date) -> bool:
    """Both ends inclusive; a season whose end comes before its start wraps the new year."""
    first, last, md = _month_day(season.start), _month_day(season.end), (day.month, day.day)
    if first <= last:
        return first <= md <= last
    return md >= first or md <= last


def in_window(start: time, end: time, wall: time) -> bool:
    """``[start, end)`` of local clock time; ``end <= start`` wraps past midnight."""
    if start < end:
        return start <= wall < end
    return wall >= start or wall < end


class TariffCalendar:
    def __init__(self, tariff: TariffSource, zone: ZoneInfo) -> None:
        self._tariff = tariff
        self._zone = zone
        cal = tariff.holidays
        # Names in English whatever the gateway's locale, so output and logs do not change with it.
        self._holidays: Container[date] = (
            holidays.country_holidays(cal.country, subdiv=cal.subdivision, language="en_US")
            if cal is not None
            else frozenset()
        )

    @property
    def zone(self) -> ZoneInfo:
        return self._zone

    def holiday_name(self, day: date) -> str | None:
        if isinstance(self._holidays, holidays.HolidayBase):
            return self._holidays.get(day)
        return None

    def seasons_of(self, day: date) -> frozenset[str]:
        return frozenset(name for name, s in (self._tariff.seasons or {}).items() if in_season(s, day))

    def day_kinds(self, day: date) -> frozenset[str]:
        if day in self._holidays:
            return frozenset({"holiday"})
        name = _WEEKDAYS[day.weekday()]
        return frozenset({name, "weekend" if day.weekday() >= 5 else "weekday"})

    def period_at(self, local_start: datetime) -> str:
        """The first period that matches; the config guarantees the last one matches anything."""
        day = local_start.date()
        seasons, kinds, wall = self.seasons_of(day), self.day_kinds(day), local_start.time()
        for period in self._tariff.periods:
            if _matches(period, seasons, kinds, wall):
                return period.name
        return self._tariff.periods[-1].name

    def period_of(self, interval: Interval) -> str:
        return self.period_at(interval.start_utc.astimezone(self._zone))


def _matches(period: TouPeriod, seasons: frozenset[str], kinds: frozenset[str], wall: time) -> bool:
    if period.seasons is not None and not seasons.intersection(period.seasons):
        return False
    if period.days is not None and not kinds.intersection(period.days):
        return False
    if period.start is not None and period.end is not None:
        return in_window(period.start, period.end, wall)
    return True
