"""The house: one thermal resistance and one capacity (1R1C), heated or cooled by a heat pump.

Units: temperatures °C, R in K/kW, C in kWh/K, powers kW, time in hours inside the formulas::

    C · dT/dt = (T_out − T_in) / R + Q_hp + Q_gains
    Q_hp      = +COP_heat(T_out) · P_el      (heating)
              = −COP_cool(T_out) · P_el      (cooling)
    Q_gains   = internal_kw + solar_aperture_m2 · GHI / 1000

With the inputs held for a step of h hours the equation is solved exactly (τ = R·C,
T_eq = T_out + R·(Q_hp + Q_gains))::

    T(h)  = T_eq + (T_0 − T_eq) · e^(−h/τ)
    loss  = ∫ (T − T_out)/R dt = [(T_eq − T_out)·h + (T_0 − T_eq)·τ·(1 − e^(−h/τ))] / R

so C·(T(h) − T_0) = (Q_hp + Q_gains)·h − loss holds to rounding (the energy balance the tests
check). P_el is the heat pump's electric power, a consumption (>= 0) per ``agent/units.py``.
"""

from __future__ import annotations

import bisect
import itertools
import math
from dataclasses import dataclass, field
from typing import Literal

from hil.errors import PlantDataError

Mode = Literal["heating", "cooling"]


@dataclass(frozen=True)
class CopCurve:
    """COP against outdoor temperature, piecewise linear, flat beyond the end points."""

    points: tuple[tuple[float, float], ...]  # (outdoor_c, cop), outdoor_c strictly increasing

    def __post_init__(self) -> None:
        temps = [p[0] for p in self.points]
        if not self.points or any(b <= a for a, b in itertools.pairwise(temps)):
            raise PlantDataError("outdoor_c must increase strictly", field="cop_curve")
        if any(c <= 0 for _, c in self.points):
            raise PlantDataError("COP must be > 0", field="cop_curve")

    def __call__(self, outdoor_c: float) -> float:
        temps = [p[0] for p in self.points]
        i = bisect.bisect_right(temps, outdoor_c)
        if i == 0:
            return self.points[0][1]
        if i == len(self.points):
            return self.points[-1][1]
        (t0, c0), (t1, c1) = self.points[i - 1], self.points[i]
        return c0 + (c1 - c0) * (outdoor_c - t0) / (t1 - t0)


# An air-to-water heat pump: better the warmer it is outside when heating, worse when cooling.
HEATING_COP = CopCurve(((-15.0, 1.9), (-7.0, 2.4), (2.0, 3.0), (7.0, 3.6), (15.0, 4.4)))
COOLING_COP = CopCurve(((20.0, 5.0), (27.0, 4.0), (35.0, 3.0), (43.0, 2.2)))


@dataclass
class HeatPump:
    max_electric_kw: float
    mode: Mode = "heating"
    heating_cop: CopCurve = HEATING_COP
    cooling_cop: CopCurve = COOLING_COP

    def clip(self, electric_kw: float) -> float:
        return max(0.0, min(electric_kw, self.max_electric_kw))

    def heat_kw(self, electric_kw: float, outdoor_c: float) -> float:
        """Heat into the house (negative when cooling)."""
        if self.mode == "heating":
            return self.heating_cop(outdoor_c) * electric_kw
        return -self.cooling_cop(outdoor_c) * electric_kw


@dataclass(frozen=True)
class HouseStep:
    indoor_c: float
    heat_pump_kwh: float  # heat delivered by the heat pump (negative when cooling)
    gains_kwh: float
    loss_kwh: float  # heat lost to outside (negative when the outside warms the house)
    stored_kwh: float  # C · ΔT


@dataclass
class House:
    r_k_per_kw: float
    c_kwh_per_k: float
    indoor_c: float = 20.0
    internal_gain_kw: float = 0.3
    solar_aperture_m2: float = 2.0  # effective window area letting in global irradiance
    history: list[HouseStep] = field(default_factory=list, repr=False)

    @property
    def tau_h(self) -> float:
        return self.r_k_per_kw * self.c_kwh_per_k

    def gains_kw(self, ghi_w_per_m2: float) -> float:
        return self.internal_gain_kw + self.solar_aperture_m2 * ghi_w_per_m2 / 1000.0

    def step(self, heat_pump_kw: float, gains_kw: float, outdoor_c: float, dt_s: float) -> HouseStep:
        h = dt_s / 3600.0
        r, tau = self.r_k_per_kw, self.tau_h
        t0 = self.indoor_c
        t_eq = outdoor_c + r * (heat_pump_kw + gains_kw)
        decay = math.exp(-h / tau)
        t1 = t_eq + (t0 - t_eq) * decay
        loss = ((t_eq - outdoor_c) * h + (t0 - t_eq) * tau * (1.0 - decay)) / r
        self.indoor_c = t1
        return HouseStep(t1, heat_pump_kw * h, gains_kw * h, loss, self.c_kwh_per_k * (t1 - t0))


def thermostat_electric_kw(
    pump: HeatPump, setpoint_c: float, indoor_c: float, *, band_k: float = 0.5
) -> float:
    """A modulating thermostat's heat-pump power: full at band/2 past the setpoint, off band/2 short.

    This is the device's own control (what a real thermostat does with the setpoint the agent writes).
    """
    error = setpoint_c - indoor_c if pump.mode == "heating" else indoor_c - setpoint_c
    fraction = min(1.0, max(0.0, (error + band_k / 2.0) / band_k))
    return pump.max_electric_kw * fraction
