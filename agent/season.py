"""Which way the heat pump works on a given day: heating, cooling, or by the calendar (``auto``).

Many heat pumps have a heating/cooling changeover that the installer sets by calendar ("summer
mode from mid-May to mid-September"); that is the rule here, because a householder can read it
off a wall calendar and a plan can know it a day ahead (a changeover on the outdoor temperature
flips with the weather forecast). The cooling season is half-open like every interval of the
product: ``from`` is the first day of cooling, ``to`` the first day back in heating, both local
calendar days (``"MM-DD"``), changing over at local midnight. A season whose ``from`` lies after
its ``to`` wraps the new year (the southern hemisphere's summer).

A plan uses one mode for its whole horizon: the mode in force at the start of its first interval
(:meth:`ModeRule.mode_at`). A horizon that crosses the changeover is planned in the old mode;
the first plan made on the new day plans in the new one, so the house changes over within one
planning interval of midnight.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, tzinfo
from typing import Literal

from agent.errors import HemsError

Mode = Literal["heating", "cooling"]
ModeSetting = Literal["heating", "cooling", "auto"]
MODE_SETTINGS: tuple[ModeSetting, ...] = ("heating", "cooling", "auto")
# A leap year, so that "02-29" is a day a season may start or end on.
_LEAP_YEAR = 2000


class SeasonError(HemsError):
    """A season or mode that cannot be used; ``field`` names the offending key."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


@dataclass(frozen=True, order=True)
class MonthDay:
    month: int
    day: int

    def __post_init__(self) -> None:
        try:
            date(_LEAP_YEAR, self.month, self.day)
        except (TypeError, ValueError) as e:
            raise SeasonError("month_day", f"no such calendar day {self.month!r}-{self.day!r}") from e

    @classmethod
    def parse(cls, field: str, text: object) -> MonthDay:
        """``"MM-DD"`` (e.g. ``"05-15"``); anything else is a :class:`SeasonError` on ``field``."""
        match = re.fullmatch(r"(\d\d)-(\d\d)", text.strip()) if isinstance(text, str) else None
        if match is None:
            raise SeasonError(field, f"must be a calendar day 'MM-DD', e.g. '05-15' (got {text!r})")
        try:
            return cls(int(match[1]), int(match[2]))
        except SeasonError as e:
            raise SeasonError(field, f"no such calendar day {text!r}") from e

    @classmethod
    def of(cls, day: date) -> MonthDay:
        return cls(day.month, day.day)

    def __str__(self) -> str:
        return f"{self.month:02d}-{self.day:02d}"


@dataclass(frozen=True)
class CoolingSeason:
    """Cooling from ``start`` (inclusive) to ``end`` (exclusive), local calendar days."""

    start: MonthDay
    end: MonthDay

    def __post_init__(self) -> None:
        if self.start == self.end:
            raise SeasonError("to", f"must differ from 'from' {self.start} (the season would be empty)")

    def contains(self, day: date) -> bool:
        md = MonthDay.of(day)
        if self.start < self.end:
            return self.start <= md < self.end
        return md >= self.start or md < self.end  # wraps the new year


@dataclass(frozen=True)
class ModeRule:
    """``heating`` or ``cooling`` all year, or ``auto``: cooling inside ``cooling`` season."""

    setting: ModeSetting
    cooling: CoolingSeason | None = None

    def __post_init__(self) -> None:
        if self.setting not in MODE_SETTINGS:
            raise SeasonError("mode", f"must be one of {', '.join(MODE_SETTINGS)} (got {self.setting!r})")
        if self.setting == "auto" and self.cooling is None:
            raise SeasonError("cooling_season", "is required when mode is auto")
        if self.setting != "auto" and self.cooling is not None:
            raise SeasonError("cooling_season", f"is only used with mode auto (mode is {self.setting})")

    @classmethod
    def fixed(cls, mode: Mode) -> ModeRule:
        return cls(mode)

    def mode_on(self, day: date) -> Mode:
        """The mode in force on the local calendar ``day``."""
        if self.setting == "auto":
            assert self.cooling is not None  # __post_init__
            return "cooling" if self.cooling.contains(day) else "heating"
        return self.setting

    def mode_at(self, when: datetime, zone: tzinfo) -> Mode:
        """The mode in force at the instant ``when`` (aware), by the site's calendar."""
        return self.mode_on(when.astimezone(zone).date())

    def modes(self) -> tuple[Mode, ...]:
        """The modes this rule can be in."""
        return ("heating", "cooling") if self.setting == "auto" else (self.setting,)


HEATING_ALL_YEAR = ModeRule("heating")


def cooling_season(field: str, doc: object) -> CoolingSeason:
    """``{from: "MM-DD", to: "MM-DD"}`` from config or a scenario; errors name ``field``'s keys."""
    if not isinstance(doc, dict) or set(doc) != {"from", "to"}:
        raise SeasonError(field, f"must be {{from: 'MM-DD', to: 'MM-DD'}} (got {doc!r})")
    start = MonthDay.parse(f"{field}.from", doc["from"])
    end = MonthDay.parse(f"{field}.to", doc["to"])
    try:
        return CoolingSeason(start, end)
    except SeasonError as e:
        raise SeasonError(f"{field}.{e.field}", e.message) from e
