"""Energy conservation of the whole plant over simulated days with the real data."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from hil.plant import SUMMER, WINTER, HomeParams, PlantInputs, build_plant
from hil.plant.house import thermostat_electric_kw
from hil.plant.plant import DEVICES, Plant

BERLIN = ZoneInfo("Europe/Berlin")


def rule_inputs(plant: Plant, hour: int) -> PlantInputs:
    """Ordinary rules that exercise every device: thermostat, tank thermostat, battery both ways."""
    assert plant.heat_pump is not None and plant.house is not None and plant.tank is not None
    target = 21.0 if plant.heat_pump.mode == "heating" else 24.0
    return PlantInputs(
        heat_pump_kw=thermostat_electric_kw(plant.heat_pump, target, plant.house.indoor_c),
        element_on=plant.tank.tank_c < 55.0,
        battery_kw=3.0 if 10 <= hour < 15 else -2.0,
        ev_limit_a=16.0,
        pv_limit_kw=3.0 if 12 <= hour < 13 else None,
    )


@pytest.mark.parametrize("params", [SUMMER, WINTER], ids=["summer", "winter"])
def test_meter_equals_sum_of_devices_every_step_for_a_day(params: HomeParams) -> None:
    plant = build_plant(params, datetime(2026, 6, 15, tzinfo=BERLIN))
    meter0 = plant.meter.import_kwh - plant.meter.export_kwh
    stored0 = {
        "battery": plant.battery.energy_kwh if plant.battery else 0.0,
    }
    for _ in range(24 * 360):  # a day in 10 s steps
        before = plant.meter.import_kwh - plant.meter.export_kwh
        s = plant.step(10.0, rule_inputs(plant, plant.now.astimezone(BERLIN).hour))
        net = plant.meter.import_kwh - plant.meter.export_kwh
        devices_kwh = sum(s.powers_kw[d] for d in DEVICES if d != "pv") - s.powers_kw["pv"]
        assert net - before == pytest.approx(devices_kwh * 10.0 / 3600.0, abs=1e-9)
        assert s.house is not None and s.tank is not None and s.battery is not None and s.ev is not None
        assert s.house.stored_kwh == pytest.approx(
            s.house.heat_pump_kwh + s.house.gains_kwh - s.house.loss_kwh, abs=1e-9
        )
        assert s.tank.stored_kwh == pytest.approx(
            s.tank.element_kwh - s.tank.standing_loss_kwh - s.tank.draw_kwh, abs=1e-9
        )
        assert s.battery.grid_kwh == pytest.approx(s.battery.stored_kwh + s.battery.loss_kwh, abs=1e-12)
        assert s.ev.grid_kwh == pytest.approx(s.ev.stored_kwh + s.ev.loss_kwh, abs=1e-12)
        assert 0.0 <= s.powers_kw["pv"] <= s.pv_available_kw + 1e-12
    # Over the day: the counters moved by exactly the sum of the devices' energies.
    total = sum(plant.energy_kwh[d] for d in DEVICES if d != "pv") - plant.energy_kwh["pv"]
    assert plant.meter.import_kwh - plant.meter.export_kwh - meter0 == pytest.approx(total, abs=1e-6)
    assert plant.battery is not None
    assert plant.energy_kwh["battery"] > plant.battery.energy_kwh - stored0["battery"]  # losses are positive
    # The real data did something: PV produced, the house was held near its target, water was drawn.
    assert plant.energy_kwh["pv"] > 5.0
    assert plant.energy_kwh["heat_pump"] > 0.5
    assert plant.ev is not None and plant.ev.records
    assert (
        plant.house is not None
        and abs(plant.house.indoor_c - (21.0 if params.mode == "heating" else 24.0)) < 1.5
    )


def test_curtailment_caps_pv() -> None:
    plant = build_plant(SUMMER, datetime(2026, 6, 15, 12, tzinfo=BERLIN))
    s = plant.step(10.0, PlantInputs(pv_limit_kw=1.0))
    assert s.pv_available_kw > 1.0
    assert s.powers_kw["pv"] == pytest.approx(1.0)
    s = plant.step(10.0, PlantInputs(pv_limit_kw=0.0))
    assert s.powers_kw["pv"] == 0.0
