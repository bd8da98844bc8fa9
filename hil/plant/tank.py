"""The water heater: one fully mixed tank with a resistive element, standing loss and hot-water draws.

Units: °C, kW, litres, hours inside the formulas; c_p is ``WATER_KWH_PER_L_K`` (kWh per litre
per kelvin) from ``agent/units.py``; C = volume_l · c_p (kWh/K)::

    C · dT/dt = P_el − UA · (T − T_amb) − draw_l_per_h · c_p · (T − T_inlet)

With P_el, draw flow and temperatures held over a step of h hours the equation is linear with
k = UA + draw·c_p and T_eq = (P_el + UA·T_amb + draw·c_p·T_inlet) / k, solved exactly::

    T(h) = T_eq + (T_0 − T_eq) · e^(−k·h/C)

and the integrals of the two loss terms follow from ∫T dt = T_eq·h + (T_0 − T_eq)·(C/k)·(1 − e^(−k·h/C)),
so C·ΔT = P_el·h − standing_loss − draw_energy closes (the tests check it). The element has its
own safety thermostat: no power at or above ``cutout_c``. Element power is a consumption (>= 0).

The taps sit behind a thermostatic mixing valve set to ``mixing_c`` (the anti-scald valve a tank
stored above 50 °C needs): a draw asks for litres *at the valve's temperature*, and while the
tank is hotter the valve blends in cold water, so the tank gives up the same heat
``Q = draw_l_per_h · c_p · (mixing_c − T_inlet)`` whatever its temperature (fewer of its own
litres, the hotter it is). With Q constant the step is again linear (k = UA,
T_eq = (P_el + UA·T_amb − Q) / UA). A tank at or below the valve's setting passes its own water
straight through (the formula above: the shower runs cooler). ``mixing_c=None``: no valve.
"""

from __future__ import annotations

import bisect
import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from agent.units import WATER_KWH_PER_L_K


@dataclass(frozen=True)
class DrawEvent:
    start: datetime
    litres: float
    duration_s: float

    @property
    def end(self) -> datetime:
        return self.start + timedelta(seconds=self.duration_s)


class DrawProfile:
    """Hot-water draw events; ``litres_between`` is exact for any step."""

    def __init__(self, events: Sequence[DrawEvent]) -> None:
        self.events = sorted(events, key=lambda e: e.start)
        self._starts = [e.start for e in self.events]
        self._longest = timedelta(seconds=max((e.duration_s for e in self.events), default=0.0))

    def litres_between(self, start: datetime, end: datetime) -> float:
        total = 0.0
        first = bisect.bisect_left(self._starts, start - self._longest)
        for e in self.events[first:]:
            if e.start >= end:
                break
            overlap_s = (min(end, e.end) - max(start, e.start)).total_seconds()
            if overlap_s > 0:
                total += e.litres * overlap_s / e.duration_s
        return total

    @classmethod
    def daily(
        cls, first_day: datetime, days: int, pattern: Sequence[tuple[int, int, float, float]]
    ) -> DrawProfile:
        """``pattern``: (hour, minute, litres, duration_s), every day from ``first_day`` (local midnight)."""
        events = [
            DrawEvent(first_day + timedelta(days=d, hours=h, minutes=m), litres, dur)
            for d in range(days)
            for h, m, litres, dur in pattern
        ]
        return cls(events)


# A household of three: two morning showers, dish washing, an evening shower and small draws,
# in litres at the mixing valve's 40 °C (about 230 l/day: the heat of 150 l from a 55 °C tank).
DEFAULT_DRAWS: tuple[tuple[int, int, float, float], ...] = (
    (6, 45, 61.0, 600.0),
    (7, 15, 54.0, 600.0),
    (8, 0, 8.0, 120.0),
    (12, 30, 12.0, 180.0),
    (19, 0, 31.0, 300.0),
    (21, 30, 61.0, 600.0),
)
DEFAULT_MIXING_C = 40.0


@dataclass(frozen=True)
class TankStep:
    tank_c: float
    element_kwh: float
    standing_loss_kwh: float
    draw_kwh: float  # heat carried out by hot water replaced with inlet water
    stored_kwh: float  # C · ΔT
    litres: float  # drawn from the tank (fewer than the taps' litres while the valve mixes)


@dataclass
class Tank:
    volume_l: float
    element_kw: float
    tank_c: float = 55.0
    ua_kw_per_k: float = 0.002
    ambient_c: float = 20.0
    inlet_c: float = 12.0
    cutout_c: float = 75.0
    mixing_c: float | None = DEFAULT_MIXING_C

    @property
    def capacity_kwh_per_k(self) -> float:
        return self.volume_l * WATER_KWH_PER_L_K

    def element_power_kw(self, on: bool) -> float:
        """What the element draws when switched ``on`` (its thermostat may have cut it out)."""
        return self.element_kw if on and self.tank_c < self.cutout_c else 0.0

    def step(self, element_kw: float, litres: float, dt_s: float) -> TankStep:
        """``litres``: what the taps draw over the step (at the valve's temperature, if any)."""
        if self.mixing_c is not None and litres > 0 and dt_s > 0 and self.tank_c > self.mixing_c:
            mixed = self._step_mixed(element_kw, litres, dt_s, self.mixing_c)
            if mixed is not None:
                return mixed
        return self._step_straight(element_kw, litres, dt_s)

    def _step_mixed(self, element_kw: float, litres: float, dt_s: float, mixing_c: float) -> TankStep | None:
        """The valve blends: constant heat out. None if the tank would end below the valve's
        setting (then the step is taken as a straight draw, which keeps energy exact)."""
        h = dt_s / 3600.0
        cap = self.capacity_kwh_per_k
        q_kw = litres / h * WATER_KWH_PER_L_K * (mixing_c - self.inlet_c)
        t0, ua = self.tank_c, self.ua_kw_per_k
        t1, integral_t = _relax(t0, element_kw + ua * self.ambient_c - q_kw, ua, h, cap)
        if t1 <= mixing_c:
            return None
        standing = ua * (integral_t - self.ambient_c * h)
        draw = q_kw * h
        mean_c = integral_t / h
        tank_litres = draw / (WATER_KWH_PER_L_K * (mean_c - self.inlet_c))
        self.tank_c = t1
        return TankStep(t1, element_kw * h, standing, draw, cap * (t1 - t0), tank_litres)

    def _step_straight(self, element_kw: float, litres: float, dt_s: float) -> TankStep:
        h = dt_s / 3600.0
        cap = self.capacity_kwh_per_k
        flow_k = litres / h * WATER_KWH_PER_L_K if h > 0 else 0.0  # kW/K carried by the draw
        k = self.ua_kw_per_k + flow_k
        t0 = self.tank_c
        gain_kw = element_kw + self.ua_kw_per_k * self.ambient_c + flow_k * self.inlet_c
        t1, integral_t = _relax(t0, gain_kw, k, h, cap)
        standing = self.ua_kw_per_k * (integral_t - self.ambient_c * h)
        draw = flow_k * (integral_t - self.inlet_c * h)
        self.tank_c = t1
        return TankStep(t1, element_kw * h, standing, draw, cap * (t1 - t0), litres)


def _relax(t0: float, gain_kw: float, k: float, h: float, cap: float) -> tuple[float, float]:
    """C dT/dt = gain - k T over ``h`` hours from ``t0``: (T(h), the integral of T dt in °C·h)."""
    if k <= 1e-12:  # no loss at all: a straight line
        t1 = t0 + gain_kw * h / cap
        return t1, (t0 + t1) / 2.0 * h
    t_eq = gain_kw / k
    decay = math.exp(-k * h / cap)
    return t_eq + (t0 - t_eq) * decay, t_eq * h + (t0 - t_eq) * (cap / k) * (1.0 - decay)
