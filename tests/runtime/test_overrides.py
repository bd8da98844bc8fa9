"""Householder settings reach planning (comfort) and dispatch (water-heater boost and hold)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from agent.config import load_config
from agent.config.devices import HeatPump, Thermostat, WaterHeater
from agent.dispatch import BatteryTarget, DispatchTarget, WaterHeaterTarget
from agent.runtime.overrides import effective_config, water_heater_target
from agent.runtime.state import Overrides

REFERENCE = Path(__file__).parents[2] / "configs" / "reference.yaml"
NOW = datetime(2026, 6, 1, 12, tzinfo=UTC)


def test_comfort_override_replaces_every_thermal_devices_comfort_only() -> None:
    config = load_config(REFERENCE)
    changed = effective_config(config, Overrides(comfort_target_c=19.5))
    thermal = [n for n, d in config.devices.items() if isinstance(d, HeatPump | Thermostat)]
    assert thermal
    for name in thermal:
        before, after = config.devices[name], changed.devices[name]
        assert isinstance(before, HeatPump | Thermostat)
        assert isinstance(after, HeatPump | Thermostat)
        assert after.comfort.target_c == 19.5
        assert after.comfort.band_c == before.comfort.band_c
        assert after.house == before.house
    assert effective_config(config, Overrides()) is config


def test_boost_then_hold_override_the_water_heater_only() -> None:
    config = load_config(REFERENCE)
    heater = next(n for n, d in config.devices.items() if isinstance(d, WaterHeater))
    element_kw = config.devices[heater].element_kw  # type: ignore[union-attr]
    plan = DispatchTarget({"battery": BatteryTarget(1.5), heater: WaterHeaterTarget(power_kw=0.0)})
    boosted = water_heater_target(
        config, Overrides(water_heater_boost_until=NOW + timedelta(hours=1)), NOW, plan
    )
    assert boosted is not None
    assert boosted.devices[heater] == WaterHeaterTarget(power_kw=element_kw)
    assert boosted.devices["battery"] == BatteryTarget(1.5)
    # A boost that has run out no longer applies.
    assert water_heater_target(config, Overrides(water_heater_boost_until=NOW), NOW, plan) is plan
    held = water_heater_target(config, Overrides(water_heater_hold=True), NOW, None)
    assert held is not None
    assert held.devices == {heater: WaterHeaterTarget(power_kw=0.0)}
    assert "hold" in held.label
