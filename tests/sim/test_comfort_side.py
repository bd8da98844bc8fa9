"""The comfort KPI counts the side of the band the heat pump works against in the mode in force."""

from __future__ import annotations

import dataclasses
import math
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from agent.season import CoolingSeason, ModeSetting, MonthDay
from hil.plant import HomeParams, PlantInputs
from hil.plant.build import build_plant
from hil.sim.recorder import Recorder, comfort_limits_c

BERLIN = ZoneInfo("Europe/Berlin")
JULY = datetime(2015, 7, 10, tzinfo=BERLIN)
JANUARY = datetime(2015, 1, 12, tzinfo=BERLIN)
SEASONS = HomeParams(
    mode="auto",
    cooling_season=CoolingSeason(MonthDay(5, 15), MonthDay(9, 15)),
    comfort_target_c=21.0,
    comfort_band_c=1.0,
    cooling_target_c=24.5,
)


@pytest.mark.parametrize(
    ("at", "lo_c", "hi_c"),
    [(JULY, -math.inf, 25.5), (JANUARY, 20.0, math.inf)],
)
def test_the_limits_are_the_defended_edge_of_the_season_band(at: datetime, lo_c: float, hi_c: float) -> None:
    assert comfort_limits_c(SEASONS, at) == (lo_c, hi_c)


def test_a_cooling_home_counts_heat_only_and_a_heating_home_cold_only() -> None:
    cooling = dataclasses.replace(SEASONS, mode="cooling")
    heating = dataclasses.replace(SEASONS, mode="heating")
    assert comfort_limits_c(cooling, JANUARY) == (-math.inf, 25.5)
    assert comfort_limits_c(heating, JULY) == (20.0, math.inf)


@pytest.mark.parametrize(
    ("start_c", "mode", "at", "uncomfortable"),
    [
        (19.0, "cooling", JULY, False),  # a cool July night: below the cooling band, no discomfort
        (27.0, "cooling", JULY, True),  # too warm while cooling
        (18.0, "heating", JANUARY, True),  # too cold while heating
        (24.0, "heating", JANUARY, False),  # warmer than the heating band: the sun's doing
    ],
)
def test_an_idle_hour_counts_only_on_the_defended_side(
    start_c: float, mode: ModeSetting, at: datetime, uncomfortable: bool
) -> None:
    params = dataclasses.replace(SEASONS, mode=mode, indoor_start_c=start_c)
    plant = build_plant(params, at)
    rec = Recorder(plant, params, start=at, end=at.replace(hour=23), bin_s=900.0)
    idle = PlantInputs()  # the heat pump off: the house drifts with the weather
    for _ in range(120):  # an hour of 30 s steps
        rec(plant.step(30.0, idle), idle)
    # over a degree outside the defended edge for the whole hour, or nothing counted at all
    assert (rec.comfort_c_h > 1.0) if uncomfortable else (rec.comfort_c_h == 0.0)
