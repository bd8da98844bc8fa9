"""The electric vehicle and its plug-in sessions.

A session is (arrival, departure, energy needed by departure, kWh). While plugged the car takes
what the charger offers: ``P = limit_a · phases · V / 1000`` kW, capped by the car's on-board
charger, with charging efficiency η (grid energy × η reaches the battery), and nothing once it has
what it needs (or its battery is full). Unplugged it takes nothing. Power is +charging (kW).

``shortfall_kwh`` of a finished session is what it still needed at departure, the KPI the
closed loop reports.
"""

from __future__ import annotations

import bisect
import itertools
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta, tzinfo

from hil.errors import PlantDataError


@dataclass(frozen=True)
class Session:
    arrival: datetime
    departure: datetime
    energy_needed_kwh: float  # into the battery, by departure
    soc_at_arrival: float | None = None  # None: the car's usual (``Ev.soc_at_arrival``)

    def __post_init__(self) -> None:
        if self.departure <= self.arrival:
            raise PlantDataError("departure must be after arrival", field="ev.sessions")
        if self.energy_needed_kwh < 0:
            raise PlantDataError("energy_needed_kwh must be >= 0", field="ev.sessions")


@dataclass(frozen=True)
class EvStep:
    power_kw: float
    grid_kwh: float
    stored_kwh: float
    loss_kwh: float


@dataclass
class SessionRecord:
    session: Session
    delivered_kwh: float = 0.0  # into the battery
    grid_kwh: float = 0.0  # through the charger (what OpenEVSE shows as session energy)

    @property
    def shortfall_kwh(self) -> float:
        return max(0.0, self.session.energy_needed_kwh - self.delivered_kwh)


@dataclass
class Ev:
    battery_kwh: float
    max_charge_kw: float  # on-board charger
    sessions: Sequence[Session]
    phases: int = 1
    voltage_v: float = 230.0
    efficiency: float = 0.92
    soc_at_arrival: float = 0.3
    records: list[SessionRecord] = field(default_factory=list)
    _current: SessionRecord | None = None
    _ordered: tuple[Sequence[Session], int, list[datetime] | None] | None = field(
        default=None, repr=False, compare=False
    )

    def session_at(self, at: datetime) -> Session | None:
        arrivals = self._arrivals()
        if arrivals is not None:
            # Sessions in order and apart (the usual daily ones): at most the last to arrive
            # before ``at`` can hold it. A year has hundreds, asked for at every plant step.
            i = bisect.bisect_right(arrivals, at) - 1
            s = self.sessions[i] if i >= 0 else None
            return s if s is not None and at < s.departure else None
        for s in self.sessions:
            if s.arrival <= at < s.departure:
                return s
        return None

    def _arrivals(self) -> list[datetime] | None:
        """The sessions' arrivals if they follow one another without overlap, else None."""
        kept = self._ordered
        if kept is None or kept[0] is not self.sessions or kept[1] != len(self.sessions):
            ordered = all(s.arrival <= s.departure for s in self.sessions) and all(
                a.departure <= b.arrival for a, b in itertools.pairwise(self.sessions)
            )
            arrivals = [s.arrival for s in self.sessions] if ordered else None
            kept = self._ordered = (self.sessions, len(self.sessions), arrivals)
        return kept[2]

    def update(self, at: datetime) -> None:
        """Plug in or out according to the sessions (call at the start of each step)."""
        s = self.session_at(at)
        if self._current is not None and self._current.session is not s:
            self._current = None
        if s is not None and self._current is None:
            self._current = SessionRecord(s)
            self.records.append(self._current)

    @property
    def plugged(self) -> bool:
        return self._current is not None

    @property
    def current(self) -> SessionRecord | None:
        return self._current

    @property
    def soc(self) -> float:
        if self._current is None:
            return self.soc_at_arrival
        arrived = self._current.session.soc_at_arrival
        start = self.soc_at_arrival if arrived is None else arrived
        return min(1.0, start + self._current.delivered_kwh / self.battery_kwh)

    def wants_kwh(self) -> float:
        if self._current is None:
            return 0.0
        room = (1.0 - self.soc) * self.battery_kwh
        return max(0.0, min(self._current.shortfall_kwh, room))

    def offered_kw(self, limit_a: float) -> float:
        return max(0.0, limit_a) * self.phases * self.voltage_v / 1000.0

    def power_kw(self, limit_a: float, dt_s: float) -> float:
        """Grid power the car draws under ``limit_a`` for a step of ``dt_s``."""
        if self._current is None:
            return 0.0
        p = min(self.offered_kw(limit_a), self.max_charge_kw)
        h = dt_s / 3600.0
        return max(0.0, min(p, self.wants_kwh() / (self.efficiency * h)))

    def step(self, limit_a: float, dt_s: float) -> EvStep:
        h = dt_s / 3600.0
        p = self.power_kw(limit_a, dt_s)
        grid = p * h
        stored = grid * self.efficiency
        if self._current is not None:
            self._current.delivered_kwh += stored
            self._current.grid_kwh += grid
        return EvStep(p, grid, stored, grid - stored)


def daily_sessions(
    first_day: datetime,
    days: int,
    tz: tzinfo,
    *,
    arrival: time = time(18, 0),
    departure: time = time(7, 0),
    energy_kwh: float = 12.0,
) -> list[Session]:
    """An evening-to-morning session every day (commuting), in local time ``tz``."""
    out: list[Session] = []
    day0 = first_day.astimezone(tz).date()
    for d in range(days):
        day = day0 + timedelta(days=d)
        arr = datetime.combine(day, arrival, tz)
        dep = datetime.combine(day + timedelta(days=1) if departure <= arrival else day, departure, tz)
        out.append(Session(arr, dep, energy_kwh))
    return out
