"""Uniform nested intervals on the site's local civil calendar.

The ladder is year, month, day, hour, 15 min, 5 min, 1 min and 4 s. Intervals are half-open
``[start, end)`` and nest: every shorter interval lies inside exactly one interval of each longer
duration.

Boundaries are defined on the site's wall clock:

* a day starts at the first instant whose local date is that day (local midnight, or the end of a
  DST gap that swallows midnight); months and years start at the start of their first day. A day
  is therefore 23 or 25 hours on DST days, and may even be empty (Pacific/Apia skipped
  2011-12-30), in which case no instant lies in it and iteration steps over it;
* a sub-day interval of length D starts where the wall time is a multiple of D, so hours start at
  :30 UTC in Asia/Kolkata. Every change of UTC offset is also a boundary at every sub-day level,
  which keeps the nesting exact when an offset changes by less than D (Australia/Lord_Howe shifts
  by 30 min and so has a 30-min "hour" twice a year).

Instants are compared in UTC; ``start`` is shown in the site zone. Equality, ordering and hashing
use the UTC start because Python compares datetimes of one zone by wall time and ignores ``fold``.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime, time, timedelta
from enum import StrEnum
from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from agent.market.errors import IntervalError

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_US = timedelta(microseconds=1)


class Duration(StrEnum):
    """The interval ladder, longest first; values are the ISO 8601 wire form."""

    P1Y = "P1Y"
    P1M = "P1M"
    P1D = "P1D"
    PT1H = "PT1H"
    PT15M = "PT15M"
    PT5M = "PT5M"
    PT1M = "PT1M"
    PT4S = "PT4S"

    @classmethod
    def parse(cls, text: object, field: str = "duration") -> Duration:
        if not isinstance(text, str):
            raise IntervalError(f"must be an ISO 8601 duration string, got {type(text).__name__}", field)
        try:
            return cls(text)
        except ValueError:
            allowed = ", ".join(d.value for d in cls)
            raise IntervalError(f"unknown duration {text!r}; allowed: {allowed}", field) from None

    @property
    def rank(self) -> int:
        """Position on the ladder: 0 for a year, larger for shorter durations."""
        return _ORDER.index(self)

    @property
    def is_calendar(self) -> bool:
        """True for day and longer: lengths that vary with the calendar and DST."""
        return self in (Duration.P1Y, Duration.P1M, Duration.P1D)

    @property
    def nominal(self) -> timedelta:
        """Usual length (a 365-day year, 30-day month, 24-hour day); exact below a day."""
        return _NOMINAL[self]

    def is_longer_than(self, other: Duration) -> bool:
        return self.rank < other.rank


_ORDER: tuple[Duration, ...] = tuple(Duration)
_NOMINAL = {
    Duration.P1Y: timedelta(days=365),
    Duration.P1M: timedelta(days=30),
    Duration.P1D: timedelta(days=1),
    Duration.PT1H: timedelta(hours=1),
    Duration.PT15M: timedelta(minutes=15),
    Duration.PT5M: timedelta(minutes=5),
    Duration.PT1M: timedelta(minutes=1),
    Duration.PT4S: timedelta(seconds=4),
}


def zone(name: str) -> ZoneInfo:
    """The IANA zone ``name``, or an IntervalError naming it."""
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as e:
        raise IntervalError(f"unknown time zone {name!r}", "timezone") from e


# --- instants -------------------------------------------------------------------------------


def _utc(instant: datetime) -> datetime:
    if instant.tzinfo is None or instant.utcoffset() is None:
        raise IntervalError("instant must be timezone-aware", "instant")
    return instant.astimezone(UTC)


def _offset(t_utc: datetime, tz: ZoneInfo) -> timedelta:
    off = t_utc.astimezone(tz).utcoffset()
    assert off is not None  # a ZoneInfo always answers
    return off


def _transition(lo: datetime, hi: datetime, tz: ZoneInfo) -> datetime:
    """First whole second in (lo, hi] carrying hi's UTC offset, where lo's offset differs.

    Offsets change on whole seconds, so a bisection over seconds finds the change exactly.
    """
    old = _offset(lo, tz)
    left = int((lo - _EPOCH) // timedelta(seconds=1))
    right = int((hi - _EPOCH) // timedelta(seconds=1))
    while right - left > 1:
        mid = (left + right) // 2
        if _offset(_EPOCH + timedelta(seconds=mid), tz) == old:
            left = mid
        else:
            right = mid
    return _EPOCH + timedelta(seconds=right)


# --- sub-day boundaries ---------------------------------------------------------------------


def _subday_start(t_utc: datetime, tz: ZoneInfo, step: timedelta) -> datetime:
    off = _offset(t_utc, tz)
    remainder = (t_utc - _EPOCH + off) % step
    candidate = t_utc - remainder
    if _offset(candidate, tz) != off:
        # No wall-aligned instant of the current offset since the offset changed: the change is it.
        return _transition(candidate, t_utc, tz)
    return candidate


def _subday_end(start_utc: datetime, tz: ZoneInfo, step: timedelta) -> datetime:
    off = _offset(start_utc, tz)
    candidate = start_utc + step - (start_utc - _EPOCH + off) % step
    if _offset(candidate, tz) != off:
        return _transition(start_utc, candidate, tz)
    return candidate


# --- calendar boundaries --------------------------------------------------------------------


@lru_cache(maxsize=8192)
def _day_start(day: date, tz: ZoneInfo) -> datetime:
    """The first instant whose local date is ``day`` (or, for a skipped day, the next day's start)."""
    wall = datetime.combine(day, time(0))
    candidates = [wall.replace(tzinfo=tz, fold=fold).astimezone(UTC) for fold in (0, 1)]
    real = [u for u in candidates if u.astimezone(tz).replace(tzinfo=None) == wall]
    if real:
        return min(real)
    # Midnight falls in a gap: the day begins when the clock jumps past it.
    lo, hi = min(candidates), max(candidates)
    return _transition(lo, hi, tz)


def _calendar_key(local: date, duration: Duration) -> date:
    if duration is Duration.P1Y:
        return date(local.year, 1, 1)
    if duration is Duration.P1M:
        return date(local.year, local.month, 1)
    return local


def _step_key(key: date, duration: Duration, steps: int) -> date:
    if duration is Duration.P1D:
        return key + timedelta(days=steps)
    if duration is Duration.P1M:
        months = key.year * 12 + key.month - 1 + steps
        return date(months // 12, months % 12 + 1, 1)
    return date(key.year + steps, 1, 1)


def _calendar_start(t_utc: datetime, tz: ZoneInfo, duration: Duration) -> datetime:
    key = _calendar_key(t_utc.astimezone(tz).date(), duration)
    # A fall-back across midnight can put an instant's local date outside [start, end): step.
    while _day_start(key, tz) > t_utc:
        key = _step_key(key, duration, -1)
    while _day_start(_step_key(key, duration, 1), tz) <= t_utc:
        key = _step_key(key, duration, 1)
    return _day_start(key, tz)


def _calendar_end(start_utc: datetime, tz: ZoneInfo, duration: Duration) -> datetime:
    key = _calendar_key(start_utc.astimezone(tz).date(), duration)
    while _day_start(key, tz) > start_utc:
        key = _step_key(key, duration, -1)
    end = _day_start(_step_key(key, duration, 1), tz)
    while end <= start_utc:  # skipped days have zero length
        key = _step_key(key, duration, 1)
        end = _day_start(_step_key(key, duration, 1), tz)
    return end


def _start_of(t_utc: datetime, tz: ZoneInfo, duration: Duration) -> datetime:
    if duration.is_calendar:
        return _calendar_start(t_utc, tz, duration)
    return _subday_start(t_utc, tz, duration.nominal)


def _end_of(start_utc: datetime, tz: ZoneInfo, duration: Duration) -> datetime:
    if duration.is_calendar:
        return _calendar_end(start_utc, tz, duration)
    return _subday_end(start_utc, tz, duration.nominal)


# --- the interval ---------------------------------------------------------------------------


class Interval:
    """One interval of the ladder in one zone. Build it with :func:`containing` or :func:`parse_interval`."""

    __slots__ = ("_end_utc", "_hash", "_key_cached", "duration", "start_utc", "tz")

    def __init__(self, start_utc: datetime, duration: Duration, tz: ZoneInfo) -> None:
        start_utc = _utc(start_utc)
        if _start_of(start_utc, tz, duration) != start_utc:
            raise IntervalError(
                f"{start_utc.astimezone(tz).isoformat()} is not the start of a {duration.value} "
                f"interval in {tz.key}",
                "interval.start",
            )
        self.start_utc = start_utc
        self.duration = duration
        self.tz = tz
        self._end_utc = _end_of(start_utc, tz, duration)
        # Intervals key dicts all over a plan (ladders, positions, acceptances): the key and its
        # hash are worked out once. The hash is of this process only (a zone's name hashes
        # differently elsewhere), so pickling rebuilds the interval (__reduce__).
        self._key_cached = (start_utc, duration.rank, tz.key)
        self._hash = hash(self._key_cached)

    @property
    def start(self) -> datetime:
        return self.start_utc.astimezone(self.tz)

    @property
    def end_utc(self) -> datetime:
        return self._end_utc

    @property
    def end(self) -> datetime:
        return self._end_utc.astimezone(self.tz)

    @property
    def span(self) -> timedelta:
        return self._end_utc - self.start_utc

    @property
    def hours(self) -> float:
        return self.span.total_seconds() / 3600.0

    def contains(self, instant: datetime) -> bool:
        t = _utc(instant)
        return self.start_utc <= t < self._end_utc

    def contains_interval(self, other: Interval) -> bool:
        return self.start_utc <= other.start_utc and other.end_utc <= self._end_utc

    def overlaps(self, other: Interval) -> bool:
        return self.start_utc < other.end_utc and other.start_utc < self._end_utc

    def parent(self, duration: Duration) -> Interval:
        if not duration.is_longer_than(self.duration) and duration is not self.duration:
            raise IntervalError(f"{duration.value} is shorter than {self.duration.value}", "duration")
        return Interval(_start_of(self.start_utc, self.tz, duration), duration, self.tz)

    def children(self, duration: Duration) -> list[Interval]:
        if not self.duration.is_longer_than(duration):
            raise IntervalError(f"{duration.value} is not shorter than {self.duration.value}", "duration")
        return list(_walk(self.start_utc, self._end_utc, duration, self.tz))

    def next(self) -> Interval:
        return containing(self._end_utc, self.duration, self.tz)

    def previous(self) -> Interval:
        return containing(self.start_utc - _US, self.duration, self.tz)

    def to_wire(self) -> dict[str, str]:
        return {"start": self.start.isoformat(), "duration": self.duration.value}

    def _key(self) -> tuple[datetime, int, str]:
        return self._key_cached

    def __eq__(self, other: object) -> bool:
        if self is other:
            return True
        if not isinstance(other, Interval):
            return NotImplemented
        return self._key_cached == other._key_cached

    def __lt__(self, other: Interval) -> bool:
        return self._key() < other._key()

    def __le__(self, other: Interval) -> bool:
        return self._key() <= other._key()

    def __hash__(self) -> int:
        return self._hash

    def __reduce__(self) -> tuple[type[Interval], tuple[datetime, Duration, ZoneInfo]]:
        return (Interval, (self.start_utc, self.duration, self.tz))

    def __repr__(self) -> str:
        return f"Interval({self.start.isoformat()} {self.duration.value} {self.tz.key})"


def containing(instant: datetime, duration: Duration, tz: ZoneInfo) -> Interval:
    """The interval of ``duration`` that contains ``instant``."""
    return _containing_utc(_utc(instant), duration, tz)


@lru_cache(maxsize=4096)
def _containing_utc(t_utc: datetime, duration: Duration, tz: ZoneInfo) -> Interval:
    # Intervals are immutable, and the same ones are asked for over and over (each plan walks
    # its horizon with next(), the link and the trading step look up the interval under way);
    # building one works out its start twice and its end in the zone's calendar.
    return Interval(_start_of(t_utc, tz, duration), duration, tz)


def _walk(start_utc: datetime, end_utc: datetime, duration: Duration, tz: ZoneInfo) -> Iterator[Interval]:
    current = containing(start_utc, duration, tz)
    while current.start_utc < end_utc:
        yield current
        current = containing(current.end_utc, duration, tz)


def intervals_between(start: datetime, end: datetime, duration: Duration, tz: ZoneInfo) -> list[Interval]:
    """Every interval of ``duration`` that overlaps ``[start, end)``, in order."""
    return list(_walk(_utc(start), _utc(end), duration, tz))


def horizon(first: Interval, count: int) -> list[Interval]:
    """``count`` consecutive intervals starting with ``first``."""
    if count < 0:
        raise IntervalError("count must be >= 0", "count")
    out: list[Interval] = []
    current = first
    for _ in range(count):
        out.append(current)
        current = current.next()
    return out


MAX_INSTANT_CHARS = 64
EARLIEST = datetime(1970, 1, 1, tzinfo=UTC)
LATEST = datetime(3000, 1, 1, tzinfo=UTC)


def parse_instant(text: object, field: str = "start") -> datetime:
    """An ISO 8601 instant that must carry a UTC offset."""
    if not isinstance(text, str):
        raise IntervalError(f"must be an ISO 8601 string, got {type(text).__name__}", field)
    if len(text) > MAX_INSTANT_CHARS or not text.isascii():
        raise IntervalError(f"not an ISO 8601 date-time: {text[:MAX_INSTANT_CHARS]!r}", field)
    try:
        value = datetime.fromisoformat(text)
    except ValueError:
        raise IntervalError(f"not an ISO 8601 date-time: {text!r}", field) from None
    if value.tzinfo is None:
        raise IntervalError(f"{text!r} has no UTC offset", field)
    # Far from the calendar's edges, so that an interval's end or a zone conversion never
    # overflows (9999-12-31T23:00-05:00 is past datetime.max in UTC).
    if not EARLIEST.year < value.year < LATEST.year:
        raise IntervalError(
            f"{text!r} is outside the supported years {EARLIEST.year + 1}..{LATEST.year - 1}", field
        )
    return value.astimezone(UTC)


def parse_interval(start: object, duration: object, tz: ZoneInfo, field: str = "interval") -> Interval:
    """The interval given on the wire; it must be aligned on the site's calendar."""
    d = Duration.parse(duration, f"{field}.duration")
    t = parse_instant(start, f"{field}.start")
    aligned = _start_of(t, tz, d)
    if aligned != t:
        raise IntervalError(
            f"{start} is not aligned to {d.value} in {tz.key} (the interval containing it starts "
            f"{aligned.astimezone(tz).isoformat()})",
            f"{field}.start",
        )
    return Interval(t, d, tz)


def interval_from_wire(obj: Any, tz: ZoneInfo, field: str = "interval") -> Interval:
    """Decode ``{"start": ..., "duration": ...}`` strictly."""
    if not isinstance(obj, dict):
        raise IntervalError(f"must be an object with start and duration, got {type(obj).__name__}", field)
    extra = set(obj) - {"start", "duration"}
    if extra:
        raise IntervalError(f"unknown field(s) {sorted(extra)}; allowed: start, duration", field)
    for key in ("start", "duration"):
        if key not in obj:
            raise IntervalError("missing", f"{field}.{key}")
    return parse_interval(obj["start"], obj["duration"], tz, field)
