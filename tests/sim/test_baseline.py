"""The baseline controller's rules and its billing, on the plant directly."""

from __future__ import annotations

import dataclasses
import math
from datetime import datetime
from zoneinfo import ZoneInfo

from hil.plant import SUMMER, WINTER, build_plant
from hil.sim.baseline import TANK_HYSTERESIS_K, BaselineController, run_baseline
from hil.sim.scenario import parse_scenario
from hil.sim.tariff import scenario_tariff

BERLIN = ZoneInfo("Europe/Berlin")

# A scenario of a preset home replaying its shipped week (hil/plant/params.py).
PRESET_SCENARIO = {"site": {"tz": "Europe/Berlin"}, "grid": {"import_limit_kw": 17, "export_limit_kw": 10}}


def test_water_heater_runs_on_its_thermostat_with_hysteresis() -> None:
    plant = build_plant(WINTER, datetime(2026, 1, 12, 3, tzinfo=BERLIN), days=1)
    assert plant.tank is not None
    control = BaselineController(WINTER)
    plant.tank.tank_c = WINTER.tank_target_c - TANK_HYSTERESIS_K + 0.5  # inside the hysteresis, was off
    assert not control.inputs(plant).element_on
    plant.tank.tank_c = WINTER.tank_target_c - TANK_HYSTERESIS_K - 0.5
    assert control.inputs(plant).element_on
    plant.tank.tank_c = WINTER.tank_target_c - 1.0  # still heating up: stays on
    assert control.inputs(plant).element_on
    plant.tank.tank_c = WINTER.tank_target_c
    assert not control.inputs(plant).element_on


def test_heat_pump_holds_the_target_and_the_ev_charges_at_once() -> None:
    plant = build_plant(WINTER, datetime(2026, 1, 12, 3, tzinfo=BERLIN), days=1)
    assert plant.house is not None
    control = BaselineController(WINTER)
    plant.house.indoor_c = WINTER.comfort_target_c - 2.0
    inputs = control.inputs(plant)
    assert math.isclose(inputs.heat_pump_kw, WINTER.heat_pump_max_kw)
    plant.house.indoor_c = WINTER.comfort_target_c + 2.0
    assert control.inputs(plant).heat_pump_kw == 0.0
    assert math.isclose(inputs.ev_limit_a, WINTER.ev_max_a)
    assert inputs.pv_limit_kw is None


def test_battery_follows_self_consumption() -> None:
    plant = build_plant(SUMMER, datetime(2026, 6, 15, 12, tzinfo=BERLIN), days=1)
    control = BaselineController(SUMMER)
    from hil.plant import PlantInputs

    plant.step(30.0, PlantInputs())  # a sunny noon with nothing switched on: surplus
    last = plant.last
    assert last is not None
    surplus = last.powers_kw["pv"] - last.powers_kw["base"]
    assert surplus > 0
    assert math.isclose(control.inputs(plant).battery_kw, surplus)


def test_baseline_day_keeps_comfort_and_bills_at_spot_plus_transport() -> None:
    sc = parse_scenario(
        {**PRESET_SCENARIO, "simulate": {"preset": "winter"}, "start": "2026-01-12T00:00:00+01:00", "days": 1}
    )
    tariff = scenario_tariff(sc)
    result = run_baseline(sc.home, sc.start, 1.0, tariff, bin_s=900.0)
    rec = result.recorder
    assert len(rec.bins) == 96
    assert rec.comfort_c_h < 0.5
    assert rec.ev_shortfall_kwh() == 0.0
    assert abs(rec.energy_balance_error_kwh) < 1e-6
    expected = sum(tariff.metered_cost(b.start, b.import_kwh, b.export_kwh) for b in rec.bins)
    assert math.isclose(result.cost, expected)
    # Billing independently: net kWh at spot plus the adders on each flow.
    imp = sum(b.import_kwh for b in rec.bins)
    assert result.cost > imp * tariff.import_adder_per_kwh > 0


def test_a_smaller_battery_changes_the_bill() -> None:
    # Guards against a baseline that ignores the home's parameters.
    sc = parse_scenario(
        {**PRESET_SCENARIO, "simulate": {"preset": "summer"}, "start": "2026-06-15T00:00:00+02:00", "days": 1}
    )
    tariff = scenario_tariff(sc)
    big = run_baseline(sc.home, sc.start, 1.0, tariff, bin_s=900.0).cost
    small = run_baseline(
        dataclasses.replace(sc.home, battery_kwh=2.0), sc.start, 1.0, tariff, bin_s=900.0
    ).cost
    assert small > big
