"""Parameters of a heated (or cooled) house: the 1R1C model and the comfort band."""

from __future__ import annotations

from typing import Annotated, Any, ClassVar

from pydantic import AfterValidator, Field

from agent.config.base import Check, Finding, Strict
from agent.config.types import Celsius
from agent.season import CoolingSeason, MonthDay, SeasonError


def _month_day(value: str) -> str:
    try:
        MonthDay.parse("day", value)
    except SeasonError as e:
        raise ValueError(e.message) from e
    return value


# A local calendar day "MM-DD", e.g. "05-15".
MonthDayText = Annotated[str, AfterValidator(_month_day)]


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


def _season_not_empty(v: Any) -> Finding | None:
    if v["from_"] == v["to"]:
        return "to", f"must differ from 'from' {v['from_']} (the season would be empty)"
    return None


class CoolingSeasonDays(Strict):
    """The heat pump cools from ``from`` (inclusive) to ``to`` (the first day back in heating)."""

    checks: ClassVar[tuple[Check, ...]] = (_season_not_empty,)
    from_: MonthDayText = Field(alias="from")
    to: MonthDayText

    def season(self) -> CoolingSeason:
        return CoolingSeason(MonthDay.parse("from", self.from_), MonthDay.parse("to", self.to))
