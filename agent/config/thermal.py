"""Parameters of a heated (or cooled) house: the 1R1C model and the comfort band."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field

from agent.config.base import Strict
from agent.config.types import Celsius


class House(Strict):
    """1R1C model: C dT/dt = (T_out - T_in) / R + heat from the heat pump."""

    # Thermal resistance between inside and outside: kelvin of difference per kW of loss.
    r_k_per_kw: Annotated[float, Field(gt=0.0, le=100.0)]
    # Thermal capacity: kWh to warm the house by one kelvin.
    c_kwh_per_k: Annotated[float, Field(gt=0.0, le=1_000.0)]
    # Heat the house gains without the heat pump: people and appliances (a constant), and sun
    # through the windows, as the effective glazed area that turns global horizontal irradiance
    # into heat (kW = m² × W/m² / 1000). Both 0 by default: then sun and people are left to the
    # forecast error (a cooled house in summer is then planned too warm-tolerant).
    internal_gain_kw: Annotated[float, Field(ge=0.0, le=50.0)] = 0.0
    solar_aperture_m2: Annotated[float, Field(ge=0.0, le=200.0)] = 0.0


class Comfort(Strict):
    target_c: Annotated[float, Field(ge=5.0, le=35.0)] = 21.0
    # Half-width of the band around target_c inside which no comfort penalty applies.
    band_c: Annotated[float, Field(gt=0.0, le=10.0)] = 1.0


class CopPoint(Strict):
    outdoor_c: Celsius
    cop: Annotated[float, Field(gt=0.0, le=15.0)]
