"""PV power of one or more arrays from irradiance and air temperature, averaged over intervals.

Power of an array: ``peak_kw * poa / 1000 * (1 + gamma (T_cell - 25)) * (1 - losses)``, clipped
to ``[0, peak_kw]``, with the cell temperature from the NOCT rule
``T_cell = T_air + poa * (NOCT - 20) / 800`` (NOCT 45 °C, gamma -0.37 %/K: typical crystalline
silicon data-sheet values). ``losses`` lumps wiring, soiling, mismatch and the inverter.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from agent.forecast.records import Vec
from agent.forecast.solar import SunPosition, plane_of_array, split_beam_diffuse

NOCT_C = 45.0
TEMP_COEFF_PER_K = -0.0037
DEFAULT_LOSSES = 0.14


@dataclass(frozen=True)
class PvArray:
    name: str
    peak_kw: float
    tilt_deg: float = 30.0
    azimuth_deg: float = 180.0
    losses: float = DEFAULT_LOSSES

    def power_kw(self, ghi: Vec, sun: SunPosition, air_c: Vec) -> Vec:
        dni, dhi = split_beam_diffuse(ghi, sun)
        poa = plane_of_array(ghi, dni, dhi, sun, tilt_deg=self.tilt_deg, azimuth_deg=self.azimuth_deg)
        cell_c = air_c + poa * (NOCT_C - 20.0) / 800.0
        dc = self.peak_kw * poa / 1000.0 * (1.0 + TEMP_COEFF_PER_K * (cell_c - 25.0))
        return np.asarray(np.clip(dc * (1.0 - self.losses), 0.0, self.peak_kw), dtype=np.float64)


def total_power_kw(arrays: Sequence[PvArray], ghi: Vec, sun: SunPosition, air_c: Vec) -> Vec:
    total = np.zeros_like(np.asarray(ghi, dtype=np.float64))
    for array in arrays:
        total = total + array.power_kw(ghi, sun, air_c)
    return total
