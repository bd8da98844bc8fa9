"""Scenario files for the rig: the shipped ones load; the weeks are the same homes and the same
plant inputs as the recorded weeks; a bad key is named."""

from __future__ import annotations

import csv
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from hil.plant import SUMMER, WINTER, build_plant
from hil.sim.scenario import ScenarioError, load_scenario, parse_scenario
from hil.sim.tariff import scenario_tariff
from hil.sim.world import installer_spread_per_kwh

ROOT = Path(__file__).parents[2]
SCENARIOS = ROOT / "hil" / "scenarios"
DATA = ROOT / "scenarios" / "data"
BERLIN = ZoneInfo("Europe/Berlin")


def csv_value(name: str, time: str, column: str) -> float:
    """One cell read straight from a shipped data file (not through the scenario loader)."""
    with (DATA / name).open(newline="") as f:
        for row in csv.DictReader(f):
            if row["time"] == time:
                return float(row[column])
    raise AssertionError(f"{time} not in {name}")


@pytest.mark.parametrize(
    "name",
    [
        "smoke",
        "summer_week",
        "winter_week",
        "demo",
        "year_de_2015",
        "volatile_spot_week",
        "negative_price_week",
        "price_spike_week",
    ],
)
def test_shipped_scenarios_load(name: str) -> None:
    sc = load_scenario(SCENARIOS / f"{name}.yaml")
    assert sc.start.tzinfo is not None
    assert sc.days > 0
    assert sc.spec is not None


def test_week_scenarios_are_the_preset_homes() -> None:
    summer = load_scenario(SCENARIOS / "summer_week.yaml")
    winter = load_scenario(SCENARIOS / "winter_week.yaml")
    assert summer.days == winter.days == 7
    # every device parameter, the replayed week and the draws written out equal the presets
    assert summer.home == SUMMER
    assert winter.home == WINTER


@pytest.mark.parametrize(
    ("name", "sim", "data_day", "offset"),
    [
        ("summer_week", datetime(2026, 6, 17, 13, 7, tzinfo=BERLIN), "2015-06-17", "+02:00"),
        ("winter_week", datetime(2026, 1, 16, 9, 52, tzinfo=BERLIN), "2015-01-16", "+01:00"),
        # day 7 of the run loops back to the week's first day
        ("summer_week", datetime(2026, 6, 22, 3, 20, tzinfo=BERLIN), "2015-06-15", "+02:00"),
    ],
)
def test_week_plant_inputs_are_the_recorded_week(
    name: str, sim: datetime, data_day: str, offset: str
) -> None:
    sc = load_scenario(SCENARIOS / f"{name}.yaml")
    plant = build_plant(sc.home, sc.start, days=8)
    quarter = f"{sim.hour:02d}:{sim.minute // 15 * 15:02d}"
    assert plant.base_load.kw(sim) == pytest.approx(
        csv_value("load_h0_2015.csv", f"{data_day}T{quarter}:00{offset}", "load_kw"), abs=1e-12
    )
    hour = datetime(sim.year, sim.month, sim.day, sim.hour, tzinfo=BERLIN)
    expected = Decimal(
        str(csv_value("prices_de_2015.csv", f"{data_day}T{sim.hour:02d}:00:00{offset}", "price_eur_per_mwh"))
    )
    assert scenario_tariff(sc).wholesale.at(hour) == expected / 1000
    # weather at the same wall clock in Greensboro: the air temperature observed at the end of
    # the hour before stands at the full hour; the hour's irradiance at its middle
    w = plant.weather.at(hour)
    prev = f"{data_day}T{sim.hour - 1:02d}:00:00-05:00"
    assert w.temp_air_c == pytest.approx(csv_value("weather_greensboro_2015.csv", prev, "temp_air_c"))
    mid = plant.weather.at(hour.replace(minute=30))
    this = f"{data_day}T{sim.hour:02d}:00:00-05:00"
    assert mid.ghi_w_per_m2 == pytest.approx(csv_value("weather_greensboro_2015.csv", this, "ghi_w_per_m2"))


def test_the_year_reads_its_own_dates_and_the_weather_at_standard_time() -> None:
    sc = load_scenario(SCENARIOS / "year_de_2015.yaml")
    assert sc.days == 365 and sc.start == datetime(2015, 1, 1, tzinfo=BERLIN)
    assert sc.spec is not None and sc.spec.starts()[-1].isoformat() == "2015-12-31T23:45:00+01:00"
    plant = build_plant(sc.home, sc.start, days=366)
    # 13:30 summer time is 12:30 Berlin standard time: the middle of Greensboro's 12:00 hour
    july = datetime(2015, 7, 1, 13, 30, tzinfo=BERLIN)
    assert plant.weather.at(july).ghi_w_per_m2 == pytest.approx(
        csv_value("weather_greensboro_2015.csv", "2015-07-01T12:00:00-05:00", "ghi_w_per_m2")
    )
    assert plant.base_load.kw(july) == csv_value("load_h0_2015.csv", "2015-07-01T13:30:00+02:00", "load_kw")
    tariff = scenario_tariff(sc)
    price = csv_value("prices_de_2015.csv", "2015-07-01T13:00:00+02:00", "price_eur_per_mwh")
    assert tariff.wholesale.at(july) == Decimal(str(price)) / 1000
    # the first four days have no price in the file: the same hour a week later (documented fill)
    later = csv_value("prices_de_2015.csv", "2015-01-09T18:00:00+01:00", "price_eur_per_mwh")
    assert tariff.wholesale.at(datetime(2015, 1, 2, 18, 10, tzinfo=BERLIN)) == Decimal(str(later)) / 1000


START = "2026-06-15T00:00:00+02:00"
SITE = {"tz": "Europe/Berlin"}
GRID = {"import_limit_kw": 17, "export_limit_kw": 10}


def doc(**extra: object) -> dict[str, object]:
    base: dict[str, object] = {
        "site": SITE,
        "start": START,
        "days": 1,
        "grid": GRID,
        "simulate": {"preset": "summer"},
    }
    return base | extra


@pytest.mark.parametrize(
    ("d", "field"),
    [
        ({"site": SITE, "start": "2026-06-15T00:00:00", "days": 1, "grid": GRID}, "start"),
        (doc(simulate={"preset": "spring"}), "simulate.preset"),
        (doc(devices={"battery": {"batt_kwh": 3}}), "devices.battery.batt_kwh"),
        (doc(dayz=1), "dayz"),
        (doc(home={"preset": "summer"}), "home"),  # the old format: refused with the new key
        (
            doc(simulate={"preset": "summer", "faults": [{"at_h": 1, "kind": "meteor"}]}),
            "simulate.faults[0].kind",
        ),
        (
            doc(simulate={"preset": "summer", "faults": [{"at_h": 1, "kind": "modbus_gone", "device": "x"}]}),
            "simulate.faults[0].device",
        ),
        (
            doc(
                simulate={
                    "faults": [{"at_h": 1, "kind": "mqtt_silent", "device": "thermostat"}],
                    "preset": "summer",
                }
            ),
            "simulate.faults[0].duration_s",
        ),
        (
            doc(simulate={"preset": "summer", "faults": [{"at_h": 1, "kind": "clock_jump"}]}),
            "simulate.faults[0].seconds",
        ),
        (doc(simulate={"preset": "summer", "speed": "fast"}), "simulate.speed"),
        (doc(simulate={}), "devices.battery"),  # no preset: the rig needs every device named
        (doc(tariff={"tax_multiplier": 1.19}), "tariff.tax_multiplier"),  # not billed by the rig
    ],
)
def test_bad_scenarios_name_the_key(d: dict[str, object], field: str) -> None:
    with pytest.raises(ScenarioError) as e:
        parse_scenario(d)
    assert e.value.field == field


def test_the_rigs_agent_leaves_to_spot_what_a_quote_would_not_make_cheaper() -> None:
    week = load_scenario(SCENARIOS / "summer_week.yaml")
    rules = scenario_tariff(week).rules
    gap = float(2 * rules.half_spread_per_kwh)  # between the retailer's best ask and bid; spot is the mid
    spread = installer_spread_per_kwh(rules)
    assert 0.0 < spread < gap  # half of it short of the best ask: a quote no better than spot stays unbought
    assert float(rules.sell_price(Decimal("0.05"), 0)) > 0.05 + float(rules.retail_adder_per_kwh) + spread / 2
