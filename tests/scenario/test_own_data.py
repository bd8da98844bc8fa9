"""A home on data that ship nowhere in the repository: files written here at 5 minutes (load, in
Berlin offsets), 15 minutes (weather, UTC) and hourly (prices, New York offsets: a zone with its
own DST), over Berlin's 25-hour autumn day. ``hems plan`` plans it; the rig builds its plant and
tariff from it (what ``hems simulate`` runs)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from agent.cli.main import main
from agent.scenario import load_spec
from agent.scenario.plan_inputs import plan_problem
from hil.plant import PlantInputs, build_plant
from hil.sim.scenario import load_scenario
from hil.sim.tariff import scenario_tariff
from tests.scenario.helpers import instants, write_csv, write_yaml

BERLIN, NEW_YORK = ZoneInfo("Europe/Berlin"), ZoneInfo("America/New_York")
FILE_START = datetime(2015, 10, 23, 22, tzinfo=UTC)  # two days of data before and after the run
RUN_START = datetime(2015, 10, 24, 22, tzinfo=UTC)  # 2015-10-25 00:00 in Berlin (CEST)
FIVE, QUARTER, HOUR = timedelta(minutes=5), timedelta(minutes=15), timedelta(hours=1)


def load_kw(k: int) -> float:
    return round(0.2 + 0.01 * (k % 12) + 0.003 * (k // 12 % 24), 5)


def price_eur_per_mwh(k: int) -> float:
    return 20.0 + 1.5 * (k % 24) - 0.25 * (k // 24)


def write_data(d: Path) -> None:
    write_csv(
        d / "load_5min.csv",
        ["time", "load_kw"],
        ((t, load_kw(k)) for k, t in enumerate(instants(FILE_START, FIVE, 3 * 288, BERLIN))),
    )
    write_csv(
        d / "prices_hourly.csv", ["time", "price_eur_per_mwh"],
        ((t, price_eur_per_mwh(k)) for k, t in enumerate(instants(FILE_START, HOUR, 72, NEW_YORK))),
    )  # fmt: skip
    rows = []
    for k, t in enumerate(instants(FILE_START, QUARTER, 3 * 96, UTC)):
        hour = (k // 4 + 22) % 24
        ghi = 400.0 if 8 <= hour < 15 else 0.0
        rows.append((t, 8.0 + 0.1 * (k % 96), ghi, 0.5 * ghi, 0.3 * ghi))
    write_csv(d / "weather_15min.csv", ["time", "temp_c", "ghi", "dni", "dhi"], rows)
    write_csv(
        d / "trips.csv", ["time", "depart", "arrival_kwh", "target_kwh"],
        [("2015-10-25T17:00:00+01:00", "2015-10-26T07:00:00+01:00", 20, 40)],
    )  # fmt: skip


def scenario(**extra: Any) -> dict[str, Any]:
    def weather(column: str, **kw: Any) -> dict[str, Any]:
        return {"csv": "data/weather_15min.csv", "column": column, **kw}

    doc: dict[str, Any] = {
        "name": "own data",
        "site": {"tz": "Europe/Berlin", "latitude_deg": 52.5, "longitude_deg": 13.4},
        "start": "2015-10-25T00:00:00+02:00",
        "days": 1,
        "step": "PT15M",
        "data": {
            "forward_price_per_kwh": {
                "csv": "data/prices_hourly.csv", "column": "price_eur_per_mwh", "scale": 0.001,
            },
            "base_load_kw": {"csv": "data/load_5min.csv", "column": "load_kw"},
            "outdoor_c": weather("temp_c"),
            "ghi_w_per_m2": weather("ghi"),
            "dni_w_per_m2": weather("dni"),
            "dhi_w_per_m2": weather("dhi"),
        },
        "grid": {"import_limit_kw": 17, "export_limit_kw": 10},
        "devices": {
            "battery": {"capacity_kwh": 8, "charge_max_kw": 4, "discharge_max_kw": 4, "energy_kwh": 4},
            "ev": {"capacity_kwh": 50, "charge_max_kw": 11, "phases": 3, "trips": {"csv": "data/trips.csv"}},
            "heat_pump": {
                "mode": "heating", "max_kw": 3, "r_k_per_kw": 6, "c_kwh_per_k": 6, "indoor_c": 20.5,
                "target_c": 21,
            },
            "water_heater": {
                "volume_l": 150, "element_kw": 2, "tank_c": 55,
                "daily_draws": [{"at": "07:00", "litres": 50}],
            },
            "pv": {"peak_kw": 5},
        },
    }  # fmt: skip
    return doc | extra


@pytest.fixture
def home(tmp_path: Path) -> Path:
    (tmp_path / "data").mkdir()
    write_data(tmp_path / "data")
    return tmp_path


def test_hems_plan_plans_a_dst_day_of_own_data(home: Path, capsys: pytest.CaptureFixture[str]) -> None:
    tariff = {
        "retail_adder_per_kwh": 0.15,
        "tax_multiplier": 1.19,
        "network": {
            "import_per_kwh": 0.06, "export_per_kwh": 0.0,
            "periods": [{"from": "17:00", "to": "20:00", "import_per_kwh": 0.12}],
        },
        "export": {"rule": "fixed", "price_per_kwh": 0.08},
        "fixed_per_day": 0.35,
    }  # fmt: skip
    path = write_yaml(home / "own.yaml", scenario(tariff=tariff))
    assert main(["plan", "--scenario", str(path), "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["horizon"] == 100  # 25 hours of quarter hours
    starts = out["intervals"]
    assert starts[0] == "2015-10-25T00:00:00+02:00" and starts[-1] == "2015-10-25T23:45:00+01:00"
    assert "2015-10-25T02:00:00+02:00" in starts and "2015-10-25T02:00:00+01:00" in starts
    assert out["solver"]["max_violation"] <= 1e-3

    p = plan_problem(load_spec(path))
    for q in (0, 9, 10, 11, 12, 47, 99):  # 02:15 CEST, 02:30, 02:45, 02:00 CET, ... the last quarter
        k = 288 + 3 * q  # 5-minute rows since the file's start (a day earlier)
        assert p.inputs.base_kw[q] == pytest.approx(sum(load_kw(k + i) for i in range(3)) / 3, abs=1e-12)
        hour = 24 + q // 4  # hourly rows since the file's start, by absolute time
        energy = (price_eur_per_mwh(hour) / 1000 + 0.15) * 1.19
        assert p.inputs.grid.buy_price_per_kwh[q, 0] == pytest.approx(energy, abs=1e-12)
        assert p.inputs.grid.sell_price_per_kwh[q, 0] == pytest.approx(0.08)
    peak = [p.inputs.grid.import_adder_per_kwh[q] for q in range(100)]
    # 17:00 CET is 18 h after 00:00 CEST (the day repeats 02:00-03:00): quarters 72..83 pay the peak
    assert [q for q, v in enumerate(peak) if v == pytest.approx(0.12)] == list(range(72, 84))
    assert p.inputs.ev is not None
    assert (p.inputs.ev.sessions[0].arrival, p.inputs.ev.sessions[0].departure) == (72, 128)
    assert p.inputs.water_heater is not None
    draws = p.inputs.water_heater.draw_l
    # ten minutes from 07:00 CET, 8 h after the start: within quarter 32
    assert float(draws.sum()) == pytest.approx(50.0) and draws[32] == pytest.approx(50.0)


def test_the_rig_builds_its_plant_and_tariff_from_the_same_files(home: Path) -> None:
    sc = load_scenario(write_yaml(home / "own.yaml", scenario(simulate={"speed": 600})))
    assert sc.days == pytest.approx(25 / 24)
    assert (sc.home.ev_phases, sc.home.battery_kwh, sc.home.pv_peak_kw) == (3, 8.0, 5.0)
    plant = build_plant(sc.home, sc.start, days=2)
    tariff = scenario_tariff(sc)
    second_two = datetime(2015, 10, 25, 2, 7, tzinfo=BERLIN).replace(fold=1)  # 02:07 CET, the repeated hour
    assert second_two.utcoffset() == timedelta(hours=1)
    k = int((second_two - FILE_START) / FIVE)
    assert plant.base_load.kw(second_two) == pytest.approx(load_kw(k))
    hour = int((second_two - FILE_START) / HOUR)
    assert tariff.wholesale.at(second_two) == Decimal(str(price_eur_per_mwh(hour))) / 1000
    noon = datetime(2015, 10, 25, 12, tzinfo=UTC)
    q = int((noon - FILE_START) / QUARTER)
    assert plant.weather.at(noon).temp_air_c == pytest.approx(8.0 + 0.1 * (q % 96))
    assert plant.ev is not None
    session = plant.ev.sessions[0]
    assert (session.arrival, session.energy_needed_kwh, session.soc_at_arrival) == (
        datetime(2015, 10, 25, 16, tzinfo=UTC), 20.0, 0.4,
    )  # fmt: skip
    steps = plant.advance_to(sc.start + timedelta(hours=25), PlantInputs(), max_step_s=900.0)
    assert len(steps) == 100
    assert sum(s.powers_kw["pv"] for s in steps) > 0  # the sun of the file reached the array


def test_the_rig_draws_hot_water_from_a_series(home: Path) -> None:
    # litres per hour over each quarter hour of the run's day, in UTC rows
    rate = [60.0 if k % 8 == 0 else 0.0 for k in range(3 * 96)]
    write_csv(
        home / "data" / "draws.csv", ["time", "l_per_h"],
        zip(instants(FILE_START, QUARTER, 3 * 96, UTC), rate, strict=True),
    )  # fmt: skip
    doc = scenario(simulate={"speed": 600})
    doc["data"]["hot_water_l_per_h"] = {"csv": "data/draws.csv", "column": "l_per_h"}
    doc["devices"]["water_heater"]["daily_draws"] = []
    sc = load_scenario(write_yaml(home / "draws.yaml", doc))
    plant = build_plant(sc.home, sc.start, days=1)
    assert plant.draws is not None
    day = plant.draws.litres_between(sc.start, sc.start + timedelta(hours=25))
    q0 = int((sc.start - FILE_START) / QUARTER)
    assert day == pytest.approx(sum(rate[q0 : q0 + 100]) * 0.25)
    assert plant.draws.litres_between(RUN_START, RUN_START + QUARTER) == pytest.approx(rate[q0] * 0.25)
