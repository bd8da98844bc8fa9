"""The home's heating/cooling changeover on the rig's side: the devices' own control, the
baseline and the perfect-foresight reference follow the same calendar rule as the agent."""

from __future__ import annotations

import dataclasses
from datetime import date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from agent.clock import ManualClock
from agent.config import Config
from agent.config.devices import Thermostat
from agent.config.loader import load_config
from agent.season import CoolingSeason, MonthDay
from hil.plant import WINTER, HomeParams, PlantInputs, build_plant
from hil.plant.house import COOLING_COP, HEATING_COP
from hil.plant.own_control import OwnControl
from hil.rig import Rig
from hil.rig_settings import RigSettings, free_port
from hil.sim.baseline import run_baseline
from hil.sim.foresight import _days_to_changeover, run_foresight
from hil.sim.scenario import load_scenario
from hil.sim.tariff import scenario_tariff

BERLIN = ZoneInfo("Europe/Berlin")
Days = float | None
YEAR = Path(__file__).parents[2] / "hil" / "scenarios" / "year_de_2015.yaml"
# The winter home, made to change over as the year scenario does: cooling 15 May .. 15 September.
AUTO = dataclasses.replace(
    WINTER,
    mode="auto",
    cooling_season=CoolingSeason(MonthDay(5, 15), MonthDay(9, 15)),
    cooling_target_c=24.5,
)


def test_the_home_knows_its_mode_and_band_by_the_calendar() -> None:
    assert AUTO.mode_at(datetime(2015, 5, 14, 23, 59, tzinfo=BERLIN)) == "heating"
    assert AUTO.mode_at(datetime(2015, 5, 15, 0, 0, tzinfo=BERLIN)) == "cooling"
    assert AUTO.comfort_at(datetime(2015, 1, 1, tzinfo=BERLIN)) == (21.0, 1.0)
    # no cooling_band_c: the heating band's width
    assert AUTO.comfort_at(datetime(2015, 7, 1, tzinfo=BERLIN)) == (24.5, 1.0)


def test_own_control_changes_the_heat_pump_over_at_local_midnight() -> None:
    start = datetime(2015, 5, 14, 23, 0, tzinfo=BERLIN)
    plant = build_plant(AUTO, start, days=1)
    assert plant.heat_pump is not None and plant.house is not None
    built_in = plant.heat_pump.mode  # the mode in force at its start
    own = OwnControl(AUTO)
    plant.house.indoor_c = 26.0
    # heating to 21 °C with the house at 26 °C: off
    assert own.heat_pump_kw(plant) == 0.0
    plant.step(3600.0, PlantInputs())
    plant.house.indoor_c = 26.0
    # 00:00 on 15 May: cooling to 24.5 °C, 1.5 K above it (>= band/2 = 0.25 K): full power
    assert own.heat_pump_kw(plant) == AUTO.heat_pump_max_kw
    assert (built_in, plant.heat_pump.mode) == ("heating", "cooling")


def test_the_agent_config_of_an_auto_home_carries_the_rule_both_bands_and_both_cops(tmp_path: Path) -> None:
    config = _agent_config(AUTO, tmp_path)
    dev = config.devices["thermostat"]
    assert isinstance(dev, Thermostat)
    assert (dev.mode, dev.cooling_season is not None) == ("auto", True)
    assert dev.mode_rule().mode_on(date(2015, 7, 1)) == "cooling"
    assert dev.mode_rule().mode_on(date(2015, 9, 15)) == "heating"
    assert (dev.comfort.target_c, dev.comfort_in("cooling").target_c) == (21.0, 24.5)
    assert dev.cop_curve is not None and dev.cooling_cop_curve is not None
    assert [(p.outdoor_c, p.cop) for p in dev.cop_curve] == list(HEATING_COP.points)
    assert [(p.outdoor_c, p.cop) for p in dev.cooling_cop_curve] == list(COOLING_COP.points)


def test_the_year_scenario_heats_in_winter_and_cools_in_summer() -> None:
    home = load_scenario(YEAR).home
    assert home.mode == "auto"
    assert home.cooling_season == CoolingSeason(MonthDay(5, 15), MonthDay(9, 15))
    assert (home.comfort_target_c, home.cooling_target_c) == (21.0, 24.5)


@pytest.mark.parametrize(
    ("start", "mode", "lo_c", "hi_c"),
    [
        ("2015-07-10T00:00:00+02:00", "cooling", 23.5, 25.5),
        ("2015-01-12T00:00:00+01:00", "heating", 20.0, 22.0),
    ],
)
def test_a_baseline_day_of_the_year_scenario_holds_the_seasons_band(
    start: str, mode: str, lo_c: float, hi_c: float
) -> None:
    sc = load_scenario(YEAR)
    at = datetime.fromisoformat(start)
    home = dataclasses.replace(sc.home, indoor_start_c=(lo_c + hi_c) / 2)
    result = run_baseline(home, at, 1.0, scenario_tariff(sc), bin_s=900.0)
    rec = result.recorder
    assert rec.plant.heat_pump is not None
    assert rec.plant.heat_pump.mode == mode
    assert sum(b.energy_kwh["heat_pump"] for b in rec.bins) > 1.0  # it worked
    assert all(lo_c - 0.3 <= b.indoor_c <= hi_c + 0.3 for b in rec.bins)
    assert rec.comfort_c_h < 0.5


def test_perfect_foresight_in_july_cools_in_the_cooling_band(tmp_path: Path) -> None:
    sc = load_scenario(YEAR)
    at = datetime(2015, 7, 10, tzinfo=BERLIN)
    home = dataclasses.replace(sc.home, indoor_start_c=24.5)
    config = _agent_config(home, tmp_path)
    july = run_foresight(config, home, at, 1.0, scenario_tariff(sc))
    # the same day planned as heating would leave the heat pump off (it is 25-33 °C outside):
    # cooling costs energy, so the reference's grid import exceeds the base load's alone
    always_heating = dataclasses.replace(home, mode="heating", cooling_season=None)
    heating = run_foresight(config, always_heating, at, 1.0, scenario_tariff(sc))
    assert july.cost > heating.cost


def _agent_config(home: HomeParams, tmp_path: Path) -> Config:
    """The agent config the rig writes for ``home`` (a rig with a broker has every device)."""
    rig = Rig(home, clock=ManualClock(datetime(2015, 7, 10, tzinfo=BERLIN)),
              settings=RigSettings(broker_host="127.0.0.1", broker_port=free_port()), days=1)  # fmt: skip
    path = rig.write_config(tmp_path / "hems.yaml", state_dir=tmp_path / "state")
    return load_config(path)


@pytest.mark.parametrize(
    ("start", "days", "expected"),
    [
        (datetime(2015, 5, 13, tzinfo=BERLIN), 7.0, 2.0),  # 13 and 14 May heat, the 15th cools
        (datetime(2015, 5, 14, 12, tzinfo=BERLIN), 7.0, 0.5),
        (datetime(2015, 5, 13, tzinfo=BERLIN), 1.5, None),  # the changeover lies beyond the window
        (datetime(2015, 7, 1, tzinfo=BERLIN), 7.0, None),
    ],
)
def test_foresight_windows_end_at_the_changeover(
    start: datetime, days: float, expected: float | None
) -> None:
    assert _days_to_changeover(AUTO, start, days, 900.0) == expected
    assert _days_to_changeover(WINTER, start, days, 900.0) is None  # heating all year
