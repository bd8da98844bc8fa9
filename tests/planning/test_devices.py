"""The config's devices as planner parameters: units, fractions to kWh, defaults, refusals."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
import yaml

from agent.config import load_config
from agent.config.devices import EvCharger
from agent.config.drivers import MqttDriver
from agent.config.thermal import CopPoint
from agent.planning.charger import discharge_refusal, v2g_notes
from agent.planning.devices import (
    DEFAULT_BASE_ALLOWANCE_KW,
    DEFAULT_DELIVERY_C,
    cop_line,
    devices_from_config,
    planned_devices,
)
from agent.planning.errors import PlanningInputError
from drivers.mqtt.topicmap import MAPS_DIR
from tests.planning.helpers import BROKER, V2G_EV, WATER_HEATER, config

CONFIGS = Path(__file__).resolve().parents[2] / "configs"


def test_demo_config_maps_units_and_fractions() -> None:
    d = devices_from_config(load_config(CONFIGS / "demo.yaml"))
    assert d.battery is not None and d.ev is not None and d.heat_pump is not None
    assert d.water_heater is not None
    # soc fractions of a 10 kWh battery become kWh (a bug here would plan on 0.05 kWh floors)
    assert (d.battery.soc_min_kwh, d.battery.max_kwh, d.battery.reserve_kwh) == pytest.approx((0.5, 9.5, 1.5))
    assert d.battery.wear_per_kwh == pytest.approx(0.03)
    assert d.ev.charge_max_kw == 11 and d.ev.capacity_kwh == 60 and not d.ev.v2g
    # ua is W/K in the config, kW/K in the planner
    assert d.water_heater.standing_loss_kw_per_k == pytest.approx(0.002)
    assert d.water_heater.delivery_c == DEFAULT_DELIVERY_C
    assert (d.grid.import_limit_kw, d.grid.export_limit_kw) == (30, 10)
    assert d.pv


def test_reference_config_plans_the_heat_pump_and_leaves_the_thermostat() -> None:
    cfg = load_config(CONFIGS / "reference.yaml")
    d = devices_from_config(cfg)
    assert d.heat_pump is not None
    assert planned_devices(cfg)["heat_pump"] == "heat_pump"


def test_minimal_config_has_only_a_grid() -> None:
    d = devices_from_config(load_config(CONFIGS / "minimal.yaml"))
    assert d.battery is None and d.ev is None and d.heat_pump is None and not d.pv


def test_a_linear_cop_curve_is_reproduced_exactly() -> None:
    cop, ref, slope = cop_line(None, [CopPoint(outdoor_c=-10, cop=2.0), CopPoint(outdoor_c=10, cop=4.0)])
    assert (cop, ref, slope) == pytest.approx((3.0, 0.0, 0.1))
    assert cop_line(3.2, None) == (3.2, 7.0, 0.0)


def test_v2g_on_a_bidirectional_charger_sets_discharge_and_a_floor() -> None:
    cfg = config(extra=V2G_EV, top=BROKER)
    assert v2g_notes(cfg) == {}
    d = devices_from_config(cfg)
    assert d.ev is not None
    assert d.ev.discharge_max_kw == 5 and d.ev.v2g_floor_kwh == pytest.approx(10.0)
    assert d.ev.v2g_wear_per_kwh > 0


@pytest.mark.parametrize(
    ("driver", "why"),
    [
        ("{type: simulated}", "the simulated driver cannot discharge"),
        (
            "{type: mqtt, broker: home, topic_map: openevse, base_topic: openevse-55ad}",
            "topic map 'openevse' has no discharge_current_a write",
        ),
    ],
)
def test_v2g_on_a_charge_only_charger_plans_no_discharge_and_says_so_once(
    driver: str, why: str, caplog: pytest.LogCaptureFixture
) -> None:
    # Guards V2G planned but never dispatched: sell tenders for energy the charger cannot give.
    cfg = config(extra=V2G_EV.replace(V2G_EV.splitlines()[-1], f"    driver: {driver}"), top=BROKER)
    with caplog.at_level(logging.WARNING, logger="agent.planning"):
        d = devices_from_config(cfg)
    assert d.ev is not None
    assert (d.ev.discharge_max_kw, d.ev.v2g_floor_kwh, d.ev.v2g_wear_per_kwh) == (0.0, 0.0, 0.0)
    assert d.ev.charge_max_kw == 7
    assert d.grid.export_limit_kw == 10  # the configured fuse, not widened by a discharge
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1
    assert warnings[0].startswith("devices.car.v2g: true, but ") and why in warnings[0]
    assert list(v2g_notes(cfg)) == ["devices.car.v2g"]
    assert why in v2g_notes(cfg)["devices.car.v2g"]


def test_v2g_off_plans_no_discharge_and_says_nothing(caplog: pytest.LogCaptureFixture) -> None:
    no_v2g = V2G_EV.replace("v2g: true", "v2g: false").replace("    v2g_max_kw: 5\n", "")
    cfg = config(extra=no_v2g, top=BROKER)
    with caplog.at_level(logging.WARNING, logger="agent.planning"):
        d = devices_from_config(cfg)
    assert d.ev is not None and d.ev.discharge_max_kw == 0.0
    assert caplog.records == []
    assert v2g_notes(cfg) == {}


def test_missing_meter_limits_default_to_what_the_devices_can_draw() -> None:
    cfg = config(extra=WATER_HEATER)
    text_free = cfg.model_copy(
        update={
            "devices": {
                **cfg.devices,
                "grid": cfg.devices["grid"].model_copy(update={"import_max_kw": None, "export_max_kw": None}),
            }
        }
    )
    d = devices_from_config(text_free)
    assert d.grid.import_limit_kw == pytest.approx(DEFAULT_BASE_ALLOWANCE_KW + 4 + 2)  # battery + element
    assert d.grid.export_limit_kw == pytest.approx(6 + 4)  # PV peak + battery discharge


def test_a_second_battery_is_refused_by_name() -> None:
    extra = """
  battery2:
    role: battery
    capacity_kwh: 5
    charge_max_kw: 2
    discharge_max_kw: 2
    driver: {type: simulated}
"""
    with pytest.raises(PlanningInputError) as e:
        devices_from_config(config(extra=extra))
    assert e.value.field == "devices.battery2"


def test_a_cop_below_one_is_refused_by_name() -> None:
    extra = """
  hp:
    role: heat_pump
    electric_max_kw: 2
    cop: 0.8
    house: {r_k_per_kw: 5, c_kwh_per_k: 8}
    driver: {type: simulated}
"""
    with pytest.raises(PlanningInputError) as e:
        devices_from_config(config(extra=extra))
    assert e.value.field == "devices.hp.cop"


def test_ladder_steps_must_leave_room_for_the_expected_price() -> None:
    with pytest.raises(PlanningInputError) as e:
        devices_from_config(config(), buy_steps=0)
    assert e.value.field == "buy_steps"
    assert devices_from_config(config(), buy_steps=2, sell_steps=5).grid.sell_steps == 5


def test_a_bidirectional_map_without_the_cars_soc_is_not_planned_to_discharge(tmp_path: Path) -> None:
    # Dispatch never discharges a car whose SoC it does not know: the plan must not count on it.
    raw = yaml.safe_load((MAPS_DIR / "everest_bidirectional.yaml").read_text())
    del raw["values"]["vehicle_soc_pct"]
    site_map = tmp_path / "everest_no_soc.yaml"
    site_map.write_text(yaml.safe_dump(raw))
    charger = config(extra=V2G_EV, top=BROKER).devices["car"]
    assert isinstance(charger, EvCharger) and isinstance(charger.driver, MqttDriver)
    with_site_map = charger.model_copy(
        update={"driver": charger.driver.model_copy(update={"topic_map": str(site_map)})}
    )
    assert discharge_refusal(charger) is None
    why = discharge_refusal(with_site_map)
    assert why is not None and "has no vehicle_soc_pct" in why
