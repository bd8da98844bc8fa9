"""The car's charging sessions over the horizon: the one plugged in now, and the ones expected.

A car plugged in now has one session from now to its departure (see :mod:`agent.planning.inputs`
for the fallbacks). A car expected home (``arrival_time`` configured) has a session from each
usual arrival inside the horizon to the usual departure after it, arriving at ``arrival_soc``:
without them a plan made while the car is away sees no night charge, exports the midday surplus
it would rather have kept in the home battery for the car, and imports it back at night with
the network charge on top. A car later than its usual arrival is still expected (in the next
interval) for :data:`LATE_WINDOW`; after that it is taken as away for the night.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, MutableMapping
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from agent.config.devices import EvCharger
from agent.market.intervals import Interval
from agent.optimizer import EvInputs, EvParams, EvSession
from agent.planning.errors import PlanningInputError

DEFAULT_EV_SOC = 0.5
# A car still plugged in up to this long after its usual departure time is late to leave, not
# parked until tomorrow: what it still lacks is charged at once. (Later, a plugged car is taken
# as back for the next departure: the charger does not say when it was plugged in.)
OVERDUE_WINDOW = timedelta(hours=1)
# A car not home this long after its usual arrival is away for the night: the plan stops
# keeping energy for it.
LATE_WINDOW = timedelta(hours=3)


def measured(name: str, value: float | None) -> float | None:
    if value is not None and not math.isfinite(value):
        raise PlanningInputError(f"state.{name}", f"must be a finite number, got {value}")
    return value


class SessionBuilder:
    def __init__(
        self,
        cfg: EvCharger,
        params: EvParams,
        *,
        ivs: tuple[Interval, ...],
        now: datetime,
        zone: ZoneInfo,
        fallbacks: MutableMapping[str, str],
    ) -> None:
        self.cfg = cfg
        self.params = params
        self.ivs = ivs
        self.now = now
        self.zone = zone
        self.fb = fallbacks

    def build(
        self,
        plugged: bool | None,
        energy_kwh: float | None,
        target_kwh: float | None,
        departure: datetime | None,
    ) -> EvInputs:
        if plugged is None:
            self.fb["ev_plugged"] = "not plugged in"
        sessions: list[EvSession] = []
        if plugged:
            sessions.append(self._plugged(energy_kwh, target_kwh, departure))
        sessions.extend(self._expected(sessions[-1].departure if sessions else None))
        return EvInputs(tuple(sessions))

    def _plugged(self, energy: float | None, target: float | None, departure: datetime | None) -> EvSession:
        p, cfg, fb = self.params, self.cfg, self.fb
        energy = measured("ev_energy_kwh", energy)
        known = energy is not None
        if energy is None:
            energy = DEFAULT_EV_SOC * p.capacity_kwh
            fb["ev_energy_kwh"] = f"{energy:g} kWh" + (", not discharged" if p.v2g else "")
        target = measured("ev_target_kwh", target)
        if target is None:
            target = cfg.target_soc * p.capacity_kwh
            fb["ev_target_kwh"] = f"{target:g} kWh (target_soc)"
        if departure is None:
            overdue = self._overdue_departure()
            if overdue is not None and energy < target - 1e-6:
                # Still plugged in and short of its target after the usual departure: the car is
                # late to leave, so finish now rather than by tomorrow's departure.
                departure = overdue
                fb["ev_departure"] = f"{overdue.isoformat()} passed, still plugged in: charging now"
            else:
                departure = self._next(self.now, cfg.departure_time)
                fb["ev_departure"] = departure.isoformat()
        target = min(max(target, 0.0), p.capacity_kwh)
        return EvSession(0, max(1, self._index(departure)), max(energy, 0.0), target, discharge=known)

    def _expected(self, after_index: int | None) -> Iterator[EvSession]:
        cfg = self.cfg
        if cfg.arrival_time is None:
            return
        arrival_kwh = cfg.arrival_soc * self.params.capacity_kwh
        target_kwh = min(cfg.target_soc * self.params.capacity_kwh, self.params.capacity_kwh)
        local = self.now.astimezone(self.zone)
        last = after_index
        for day in range(-1, math.ceil(len(self.ivs) * self._step_h() / 24.0) + 1):
            arrival = datetime.combine(local.date() + timedelta(days=day), cfg.arrival_time, tzinfo=self.zone)
            departure = self._next(arrival, cfg.departure_time)
            if departure <= self.now:
                continue
            if arrival <= self.now and (after_index is not None or self.now - arrival >= LATE_WINDOW):
                continue  # the car that came home is plugged in now, or this one is away tonight
            start = max(1, self._index(arrival))
            if start >= len(self.ivs):
                return
            if last is not None and start <= last:
                continue
            end = max(start + 1, self._index(departure))
            if after_index is None and "ev_arrival" not in self.fb:
                self.fb["ev_arrival"] = (
                    f"expected {max(arrival, self.now).isoformat()} at {cfg.arrival_soc:g} SoC"
                )
            yield EvSession(start, end, arrival_kwh, target_kwh)
            last = end

    def _overdue_departure(self) -> datetime | None:
        """Today's configured departure if it passed less than :data:`OVERDUE_WINDOW` ago."""
        local = self.now.astimezone(self.zone)
        at = datetime.combine(local.date(), self.cfg.departure_time, tzinfo=self.zone)
        return at if at <= local < at + OVERDUE_WINDOW else None

    def _next(self, after: datetime, at: time) -> datetime:
        """The first local clock time ``at`` strictly after ``after``."""
        local = after.astimezone(self.zone)
        out = datetime.combine(local.date(), at, tzinfo=self.zone)
        return (
            out if out > local else datetime.combine(local.date() + timedelta(days=1), at, tzinfo=self.zone)
        )

    def _index(self, at: datetime) -> int:
        return (at - self.ivs[0].start_utc) // self.ivs[0].span

    def _step_h(self) -> float:
        return self.ivs[0].span.total_seconds() / 3600.0
