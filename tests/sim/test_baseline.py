"""The ordinary rules (hil/plant/own_control.py) on hand-computed cases, the three places that
run them (the baseline, the simulated driver's home, the rig without a broker), and the baseline's
billing."""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from agent.clock import ManualClock
from hil.plant import SUMMER, WINTER, Plant, PlantInputs, PlantStep, build_plant
from hil.plant.own_control import TANK_HYSTERESIS_K, OwnControl, tank_thermostat_on
from hil.rig import Rig
from hil.sim.baseline import BaselineController, run_baseline
from hil.sim.scenario import parse_scenario
from hil.sim.tariff import Tariff, scenario_tariff
from hil.simulated.home import SimulatedHome

BERLIN = ZoneInfo("Europe/Berlin")
# A scenario of a preset home replaying its shipped week (hil/plant/params.py).
PRESET_SCENARIO = {"site": {"tz": "Europe/Berlin"}, "grid": {"import_limit_kw": 17, "export_limit_kw": 10}}
WINTER_NIGHT = datetime(2026, 1, 12, 3, tzinfo=BERLIN)


def test_the_tank_thermostat_restarts_five_kelvin_below_its_target() -> None:
    assert TANK_HYSTERESIS_K == 5.0


@pytest.mark.parametrize(
    ("tank_c", "was_on", "on"),
    [
        (61.0, True, False),  # above the target: off
        (60.0, True, False),  # at the target: off
        (59.9, True, True),  # heating up: stays on
        (55.0, True, True),
        (59.9, False, False),  # cooling down inside the differential: stays off
        (55.0, False, False),  # exactly target - 5 K is not below it
        (54.9, False, True),  # below target - 5 K: on
        (20.0, False, True),
    ],
)
def test_tank_thermostat_table(tank_c: float, was_on: bool, on: bool) -> None:
    assert tank_thermostat_on(tank_c, 60.0, was_on) is on


def _step(at: datetime, element_on: bool, window: tuple[float, float]) -> PlantStep:
    plant = build_plant(SUMMER, at, days=1)
    return plant.step(30.0, PlantInputs(element_on=element_on, battery_window_kw=window))


NOON = datetime(2026, 6, 15, 12, tzinfo=BERLIN)
NIGHT = datetime(2026, 6, 15, 2, tzinfo=BERLIN)


def test_self_consumption_follows_the_loads_of_the_same_step() -> None:
    # The 3 kW element switched on in the very step is served by the battery at once, by day
    # (less charge) and by night (discharge): no step of import while an inverter would catch up.
    for at in (NOON, NIGHT):
        for element_on in (False, True):
            step = _step(at, element_on, (-math.inf, math.inf))
            assert step.powers_kw["water_heater"] == (3.0 if element_on else 0.0)
            assert abs(step.powers_kw["battery"]) < SUMMER.battery_charge_kw  # inside its power
            assert step.grid_kw == pytest.approx(0.0, abs=1e-9)


def test_a_window_holds_self_consumption_to_its_limits() -> None:
    # Night, element on: more than 3 kW short, but the window lets the battery give 0.5 kW only.
    night = _step(NIGHT, True, (-0.5, 2.0))
    assert night.powers_kw["battery"] == pytest.approx(-0.5)
    assert night.grid_kw > 2.5
    # Noon, nothing on: kilowatts of surplus, but the window takes 0.2 kW; the rest is exported.
    noon = _step(NOON, False, (-0.5, 0.2))
    assert noon.powers_kw["battery"] == pytest.approx(0.2)
    assert noon.grid_kw < -1.0


def test_heat_pump_modulates_over_half_a_kelvin_around_the_setpoint() -> None:
    plant = build_plant(WINTER, WINTER_NIGHT, days=1)
    assert plant.house is not None
    own = OwnControl(WINTER)
    target = WINTER.comfort_target_c
    cases = [
        (target - 0.3, None, 1.0),  # more than 0.25 K cold: full power
        (target - 0.125, None, 0.75),  # (0.125 + 0.25) / 0.5
        (target, None, 0.5),
        (target + 0.25, None, 0.0),
        (target + 1.0, target + 1.0, 0.5),  # a written setpoint replaces the comfort target
    ]
    for indoor_c, setpoint_c, fraction in cases:
        plant.house.indoor_c = indoor_c
        assert own.heat_pump_kw(plant, setpoint_c) == pytest.approx(fraction * WINTER.heat_pump_max_kw)


# Each place that runs the devices' own control, as "inputs for this plant state".
def _baseline(plant: Plant) -> Callable[[], PlantInputs]:
    control = BaselineController(WINTER)
    return lambda: control.inputs(plant)


def _simulated_home(plant: Plant) -> Callable[[], PlantInputs]:
    home = SimulatedHome(ManualClock(WINTER_NIGHT), WINTER)  # nothing commanded
    return lambda: home.inputs(plant)


def _rig(plant: Plant) -> Callable[[], PlantInputs]:
    rig = Rig(WINTER, clock=ManualClock(WINTER_NIGHT), days=1)  # no broker: no MQTT devices
    rig.plant = plant
    return rig.inputs


@pytest.mark.parametrize("user", [_baseline, _simulated_home, _rig], ids=["baseline", "simulated", "rig"])
def test_every_home_runs_the_same_rules(user: Callable[[Plant], Callable[[], PlantInputs]]) -> None:
    # Guards against the copies that disagreed: the rig had no tank hysteresis at all.
    plant = build_plant(WINTER, WINTER_NIGHT, days=1)
    assert plant.tank is not None and plant.house is not None
    inputs = user(plant)
    target = WINTER.tank_target_c
    element = []
    for tank_c in (target - 6.0, target - 3.0, target, target - 3.0, target - 5.5):
        plant.tank.tank_c = tank_c
        element.append(inputs().element_on)
    assert element == [True, True, False, False, True]
    plant.house.indoor_c = WINTER.comfort_target_c - 0.125
    now = inputs()
    assert now.heat_pump_kw == pytest.approx(0.75 * WINTER.heat_pump_max_kw)
    assert now.ev_limit_a == WINTER.ev_max_a
    assert now.pv_limit_kw is None
    # The battery is left to self-consumption, with no window of its own.
    assert (now.battery_kw, now.battery_window_kw) == (0.0, (-math.inf, math.inf))


class FlatSpot(Tariff):
    """The scenario's network charges with one spot price all day, so the bill is hand-computable."""

    def spot_per_kwh(self, at: datetime) -> float:
        return 0.25


def test_baseline_day_keeps_comfort_and_bills_every_kwh_at_spot_plus_network() -> None:
    sc = parse_scenario(
        {**PRESET_SCENARIO, "simulate": {"preset": "winter"}, "start": "2026-01-12T00:00:00+01:00", "days": 1}
    )
    real = scenario_tariff(sc)
    flat = FlatSpot(real.rules, real.wholesale)
    result = run_baseline(sc.home, sc.start, 1.0, flat, bin_s=900.0)
    rec = result.recorder
    assert len(rec.bins) == 96
    assert rec.comfort_c_h < 0.5
    assert rec.ev_shortfall_kwh() == 0.0
    assert abs(rec.energy_balance_error_kwh) < 1e-6
    imp = sum(b.import_kwh for b in rec.bins)
    exp = sum(b.export_kwh for b in rec.bins)
    assert imp > 10.0  # a winter day with a heat pump imports
    expected = imp * (0.25 + flat.import_adder_per_kwh) - exp * (0.25 - flat.export_adder_per_kwh)
    assert math.isclose(result.cost, expected, rel_tol=1e-9)


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


def test_summer_noon_surplus_goes_into_the_battery() -> None:
    plant = build_plant(SUMMER, datetime(2026, 6, 15, 12, tzinfo=BERLIN), days=1)
    assert plant.battery is not None
    control = BaselineController(SUMMER)
    plant.step(30.0, PlantInputs())  # a sunny noon with nothing switched on
    last = plant.last
    assert last is not None and last.powers_kw["pv"] > last.powers_kw["base"]
    before = plant.battery.soc
    plant.step(30.0, control.inputs(plant))
    assert plant.battery.soc > before
