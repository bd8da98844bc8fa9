"""A recorder measuring from a later instant counts nothing before it and starts from the plant as it is."""

from __future__ import annotations

import dataclasses
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from hil.plant import HomeParams, PlantInputs
from hil.plant.build import build_plant
from hil.sim.recorder import Recorder

BERLIN = ZoneInfo("Europe/Berlin")
JANUARY = datetime(2015, 1, 12, tzinfo=BERLIN)
STEP_S = 30.0


def test_the_window_starts_where_the_warm_up_left_the_plant() -> None:
    # A cold house (comfort counted all along) and a battery charging at 2 kW for two hours.
    params = dataclasses.replace(HomeParams(mode="heating"), indoor_start_c=17.0)
    plant = build_plant(params, JANUARY)
    hour = JANUARY + timedelta(hours=1)
    end = JANUARY + timedelta(hours=2)
    whole = Recorder(plant, params, start=JANUARY, end=end, bin_s=900.0)
    first = Recorder(plant, params, start=JANUARY, end=hour, bin_s=900.0)
    second = Recorder(plant, params, start=JANUARY, end=end, bin_s=900.0, measure_from=hour)
    charge = PlantInputs(battery_kw=2.0)
    for _ in range(int(7200 / STEP_S)):
        step = plant.step(STEP_S, charge)
        for rec in (whole, first, second):
            rec(step, charge)
    for rec in (whole, first, second):
        rec.finish()
    assert [b.to_json() for b in second.bins] == [b.to_json() for b in whole.bins[4:]]
    assert second.bins[0].start == hour
    # The stores where the window begins: the first hour's last bin; the battery charged meanwhile.
    assert second.start_state["battery_soc"] == pytest.approx(first.bins[-1].battery_soc, abs=1e-12)
    assert second.start_state["battery_soc"] > params.soc_start + 0.1
    assert second.start_state["tank_c"] == pytest.approx(first.bins[-1].tank_c, abs=1e-12)
    assert first.comfort_c_h > 1.0
    assert second.comfort_c_h == pytest.approx(whole.comfort_c_h - first.comfort_c_h, abs=1e-9)
    assert second.energy_balance_error_kwh == pytest.approx(0.0, abs=1e-9)
    assert whole.start_state["battery_soc"] == params.soc_start
