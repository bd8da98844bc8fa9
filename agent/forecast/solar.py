"""Where the sun is, and how much sunlight reaches the ground and a tilted panel under a clear sky.

* Solar position: NOAA's "General Solar Position Calculations" (Spencer's Fourier series for the
  equation of time and declination); good to a few arc-minutes, far below what hourly or
  15-minute PV energy notices.
* Clear-sky GHI: Haurwitz (1945), ``1098 cos z exp(-0.059 / cos z)`` W/m². It needs no
  turbidity data, which a gateway does not have; measured sky is brighter than it only briefly
  (cloud-edge enhancement), which the TMY3 test in tests/forecast bounds.
* Beam/diffuse split: Erbs, Klein & Duffie (1982) from the clearness index, used for clear-sky
  and for forecast GHI alike so both go through one transposition.
* Plane of array: isotropic sky (Liu & Jordan): beam on the panel, diffuse seen by its tilt,
  ground reflection with a fixed albedo.

All functions take numpy arrays (epoch seconds in UTC) and are vectorised.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

import numpy as np

from agent.forecast.records import Vec

SOLAR_CONSTANT_W_PER_M2 = 1361.0
# Below ~86 deg zenith the clearness index divides by almost nothing; pvlib uses the same guard.
_MIN_COS_ZENITH = 0.065
# Beyond 87 deg the beam is ill-defined (air mass, refraction) and negligible in energy.
_MAX_BEAM_ZENITH_COS = float(np.cos(np.radians(87.0)))
GROUND_ALBEDO = 0.2


@dataclass(frozen=True)
class SunPosition:
    cos_zenith: Vec  # > 0 while the sun is above the horizon
    azimuth_deg: Vec  # clockwise from north
    extra_w_per_m2: Vec  # extraterrestrial irradiance normal to the beam

    @property
    def elevation_deg(self) -> Vec:
        return np.asarray(np.degrees(np.arcsin(np.clip(self.cos_zenith, -1.0, 1.0))), dtype=np.float64)


def epoch_seconds(instants: Sequence[datetime]) -> Vec:
    return np.array([t.timestamp() for t in instants], dtype=np.float64)


def sun_position(epoch_s: Vec, latitude_deg: float, longitude_deg: float) -> SunPosition:
    t = np.asarray(epoch_s, dtype=np.float64)
    stamp = (t * 1e6).astype("datetime64[us]")
    day = stamp.astype("datetime64[D]")
    year = stamp.astype("datetime64[Y]")
    day_of_year = (day - year).astype(np.int64) + 1
    hour_utc = (stamp - day) / np.timedelta64(1, "h")
    gamma = 2.0 * np.pi / 365.0 * (day_of_year - 1 + (hour_utc - 12.0) / 24.0)
    eqtime_min = 229.18 * (
        0.000075
        + 0.001868 * np.cos(gamma)
        - 0.032077 * np.sin(gamma)
        - 0.014615 * np.cos(2 * gamma)
        - 0.040849 * np.sin(2 * gamma)
    )
    decl = (
        0.006918
        - 0.399912 * np.cos(gamma)
        + 0.070257 * np.sin(gamma)
        - 0.006758 * np.cos(2 * gamma)
        + 0.000907 * np.sin(2 * gamma)
        - 0.002697 * np.cos(3 * gamma)
        + 0.00148 * np.sin(3 * gamma)
    )
    true_solar_min = hour_utc * 60.0 + eqtime_min + 4.0 * longitude_deg
    hour_angle = np.radians(true_solar_min / 4.0 - 180.0)
    lat = np.radians(latitude_deg)
    cos_z = np.sin(lat) * np.sin(decl) + np.cos(lat) * np.cos(decl) * np.cos(hour_angle)
    east = -np.cos(decl) * np.sin(hour_angle)
    north = np.sin(decl) * np.cos(lat) - np.cos(decl) * np.sin(lat) * np.cos(hour_angle)
    azimuth = np.degrees(np.arctan2(east, north)) % 360.0
    extra = SOLAR_CONSTANT_W_PER_M2 * (
        1.00011
        + 0.034221 * np.cos(gamma)
        + 0.00128 * np.sin(gamma)
        + 0.000719 * np.cos(2 * gamma)
        + 0.000077 * np.sin(2 * gamma)
    )
    return SunPosition(
        np.asarray(np.clip(cos_z, -1.0, 1.0), dtype=np.float64),
        np.asarray(azimuth, dtype=np.float64),
        np.asarray(extra, dtype=np.float64),
    )


def clear_sky_ghi(cos_zenith: Vec) -> Vec:
    """Haurwitz clear-sky global horizontal irradiance, W/m² (0 with the sun down)."""
    cz = np.asarray(cos_zenith, dtype=np.float64)
    up = cz > 0.0
    safe = np.where(up, cz, 1.0)
    return np.asarray(np.where(up, 1098.0 * safe * np.exp(-0.059 / safe), 0.0), dtype=np.float64)


def split_beam_diffuse(ghi: Vec, sun: SunPosition) -> tuple[Vec, Vec]:
    """(DNI, DHI) in W/m² from GHI by the Erbs correlation."""
    ghi = np.clip(np.asarray(ghi, dtype=np.float64), 0.0, None)
    cz = sun.cos_zenith
    kt = np.clip(ghi / (sun.extra_w_per_m2 * np.maximum(cz, _MIN_COS_ZENITH)), 0.0, 1.0)
    diffuse_fraction = np.where(
        kt <= 0.22,
        1.0 - 0.09 * kt,
        np.where(
            kt <= 0.8,
            0.9511 - 0.1604 * kt + 4.388 * kt**2 - 16.638 * kt**3 + 12.336 * kt**4,
            0.165,
        ),
    )
    dhi = ghi * diffuse_fraction
    beam_ok = cz > _MAX_BEAM_ZENITH_COS
    dni = np.where(beam_ok, (ghi - dhi) / np.where(beam_ok, cz, 1.0), 0.0)
    # A GHI beyond what the sun can give (bad forecast input) must not make a beam brighter than
    # the sun itself.
    dni = np.minimum(dni, sun.extra_w_per_m2)
    dhi = np.where(beam_ok, dhi, ghi)  # near the horizon all of it counts as diffuse
    return np.asarray(dni, dtype=np.float64), np.asarray(dhi, dtype=np.float64)


def plane_of_array(
    ghi: Vec, dni: Vec, dhi: Vec, sun: SunPosition, *, tilt_deg: float, azimuth_deg: float
) -> Vec:
    """Irradiance on a panel tilted ``tilt_deg`` facing ``azimuth_deg`` (isotropic sky), W/m²."""
    tilt = np.radians(tilt_deg)
    cz = sun.cos_zenith
    sz = np.sqrt(np.clip(1.0 - cz**2, 0.0, 1.0))
    cos_aoi = cz * np.cos(tilt) + sz * np.sin(tilt) * np.cos(np.radians(sun.azimuth_deg - azimuth_deg))
    beam = dni * np.clip(cos_aoi, 0.0, None) * (cz > 0.0)
    sky = dhi * (1.0 + np.cos(tilt)) / 2.0
    ground = ghi * GROUND_ALBEDO * (1.0 - np.cos(tilt)) / 2.0
    return np.asarray(np.clip(beam + sky + ground, 0.0, None), dtype=np.float64)
