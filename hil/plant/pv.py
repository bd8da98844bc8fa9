"""PV array and inverter from irradiance and air temperature.

Sun position: the NOAA/Spencer series (declination, equation of time), good to about half a
degree, which is far inside the uncertainty of hourly irradiance.

Plane-of-array irradiance (isotropic sky, W/m²), with tilt β, angle of incidence θ, albedo ρ::

    POA = DNI · max(cos θ, 0) + DHI · (1 + cos β)/2 + GHI · ρ · (1 − cos β)/2
    cos θ = cos z · cos β + sin z · sin β · cos(A_sun − A_panel)

Cell temperature (NOCT model) and power (kW)::

    T_cell = T_air + POA · (NOCT − 20) / 800
    P_dc   = P_peak · POA / 1000 · (1 + γ · (T_cell − 25))
    P_ac   = min(η_inv · P_dc, P_rated_ac, P_limit)        >= 0

``P_limit`` is the curtailment limit commanded by the agent (``None``: no limit). PV power is a
production (>= 0) as in ``agent/units.py``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import UTC, datetime

from hil.plant.weather import WeatherSample

# The emulated array loses nothing but its inverter's share: no wiring, soiling or mismatch.
INVERTER_EFFICIENCY = 0.96


def solar_position(at: datetime, latitude_deg: float, longitude_deg: float) -> tuple[float, float]:
    """(zenith, azimuth) in degrees; azimuth clockwise from north."""
    u = at.astimezone(UTC)
    day = u.timetuple().tm_yday
    hour = u.hour + u.minute / 60.0 + u.second / 3600.0
    g = 2.0 * math.pi / 365.0 * (day - 1 + (hour - 12.0) / 24.0)
    eqtime_min = 229.18 * (
        0.000075 + 0.001868 * math.cos(g) - 0.032077 * math.sin(g)
        - 0.014615 * math.cos(2 * g) - 0.040849 * math.sin(2 * g)
    )  # fmt: skip
    decl = (
        0.006918 - 0.399912 * math.cos(g) + 0.070257 * math.sin(g) - 0.006758 * math.cos(2 * g)
        + 0.000907 * math.sin(2 * g) - 0.002697 * math.cos(3 * g) + 0.00148 * math.sin(3 * g)
    )  # fmt: skip
    true_solar_min = hour * 60.0 + eqtime_min + 4.0 * longitude_deg
    ha = math.radians(true_solar_min / 4.0 - 180.0)
    lat = math.radians(latitude_deg)
    cos_z = math.sin(lat) * math.sin(decl) + math.cos(lat) * math.cos(decl) * math.cos(ha)
    zenith = math.degrees(math.acos(max(-1.0, min(1.0, cos_z))))
    azimuth = math.degrees(
        math.atan2(math.sin(ha), math.cos(ha) * math.sin(lat) - math.tan(decl) * math.cos(lat))
    )
    return zenith, (azimuth + 180.0) % 360.0


@dataclass
class PvArray:
    peak_kw: float  # DC nameplate at 1000 W/m², 25 °C
    rated_ac_kw: float
    tilt_deg: float = 30.0
    azimuth_deg: float = 180.0
    albedo: float = 0.2
    noct_c: float = 45.0
    gamma_per_k: float = -0.0037
    inverter_efficiency: float = INVERTER_EFFICIENCY
    energy_kwh: float = 0.0  # lifetime AC energy counter

    def poa_w_per_m2(self, w: WeatherSample, latitude_deg: float, longitude_deg: float) -> float:
        if w.dni_w_per_m2 == 0.0 and w.dhi_w_per_m2 == 0.0 and w.ghi_w_per_m2 == 0.0:
            return 0.0  # night: every term below is nought, wherever the sun stands
        zenith, sun_az = solar_position(w.at_station, latitude_deg, longitude_deg)
        beta = math.radians(self.tilt_deg)
        z = math.radians(zenith)
        cos_aoi = math.cos(z) * math.cos(beta) + math.sin(z) * math.sin(beta) * math.cos(
            math.radians(sun_az - self.azimuth_deg)
        )
        beam = w.dni_w_per_m2 * max(cos_aoi, 0.0) if zenith < 90.0 else 0.0
        sky = w.dhi_w_per_m2 * (1.0 + math.cos(beta)) / 2.0
        ground = w.ghi_w_per_m2 * self.albedo * (1.0 - math.cos(beta)) / 2.0
        return beam + sky + ground

    def available_kw(self, w: WeatherSample, latitude_deg: float, longitude_deg: float) -> float:
        """AC power the array would deliver without curtailment."""
        poa = self.poa_w_per_m2(w, latitude_deg, longitude_deg)
        t_cell = w.temp_air_c + poa * (self.noct_c - 20.0) / 800.0
        dc_kw = self.peak_kw * poa / 1000.0 * (1.0 + self.gamma_per_k * (t_cell - 25.0))
        return max(0.0, min(self.inverter_efficiency * dc_kw, self.rated_ac_kw))

    def step(self, available_kw: float, limit_kw: float | None, dt_s: float) -> float:
        """Deliver for ``dt_s`` under the curtailment limit; returns the AC power (kW)."""
        power_kw = available_kw if limit_kw is None else max(0.0, min(available_kw, limit_kw))
        self.energy_kwh += power_kw * dt_s / 3600.0
        return power_kw
