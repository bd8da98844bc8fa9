"""Householder settings reach planning (comfort) and dispatch (water-heater boost and hold, EV
charge mode and current limit)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import SimpleNamespace

from agent.config import load_config, parse_config
from agent.config.devices import EvCharger, HeatPump, Thermostat, WaterHeater
from agent.dispatch import BatteryTarget, DispatchTarget, WaterHeaterTarget
from agent.dispatch.snapshot import Sample, Snapshot
from agent.dispatch.target import EvTarget
from agent.planning import planned_devices
from agent.runtime.cycle import ControlCycle
from agent.runtime.overrides import effective_config, ev_target, water_heater_target
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


def test_comfort_override_holds_in_both_seasons_of_an_auto_heat_pump() -> None:
    text = REFERENCE.read_text(encoding="utf-8")
    fixed = "    mode: heating\n    # Largest electric input power"
    assert fixed in text
    auto = (
        "    mode: auto\n"
        '    cooling_season: {from: "05-15", to: "09-15"}\n'
        "    cooling_comfort: {target_c: 24.5, band_c: 1.5}\n"
        "    cooling_cop: 4.0\n"
        "    # Largest electric input power"
    )
    config = parse_config(text.replace(fixed, auto, 1), env={})
    changed = effective_config(config, Overrides(comfort_target_c=23.0))
    after = changed.devices["heat_pump"]
    assert isinstance(after, HeatPump)
    # what the householder wants now holds whichever mode is in force; each band keeps its width
    assert (after.comfort_in("heating").target_c, after.comfort_in("cooling").target_c) == (23.0, 23.0)
    assert (after.comfort_in("heating").band_c, after.comfort_in("cooling").band_c) == (1.0, 1.5)


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


def _ev(config_path: Path = REFERENCE) -> tuple[str, float]:
    config = load_config(config_path)
    name = next(n for n, d in config.devices.items() if isinstance(d, EvCharger))
    return name, config.devices[name].max_kw  # type: ignore[union-attr]


def test_ev_charge_now_off_and_current_limit() -> None:
    config = load_config(REFERENCE)
    ev, max_kw = _ev()
    assert max_kw == 11.0  # the reference charger: 3 phases at 230 V
    plan = DispatchTarget({"battery": BatteryTarget(1.5), ev: EvTarget(power_kw=2.0)})
    assert ev_target(config, Overrides(), plan) is plan
    now = ev_target(config, Overrides(ev_mode="now"), plan)
    assert now is not None
    assert now.devices[ev] == EvTarget(power_kw=11.0)
    assert now.devices["battery"] == BatteryTarget(1.5)
    limited_now = ev_target(config, Overrides(ev_mode="now", ev_current_limit_a=10.0), None)
    assert limited_now is not None
    assert limited_now.devices == {ev: EvTarget(current_a=10.0)}
    off = ev_target(config, Overrides(ev_mode="off"), plan)
    assert off is not None
    assert off.devices[ev] == EvTarget(power_kw=0.0)
    # smart with a limit: 2 kW on 3 x 230 V is 2.9 A, under 8 A: the plan stands.
    assert ev_target(config, Overrides(ev_current_limit_a=8.0), plan) is plan
    fast = DispatchTarget({ev: EvTarget(power_kw=11.0)})  # 15.9 A per phase
    capped = ev_target(config, Overrides(ev_current_limit_a=8.0), fast)
    assert capped is not None
    assert capped.devices[ev] == EvTarget(current_a=8.0)
    assert "current limit" in capped.label
    # With no plan, a limit alone leaves the dispatcher's safe rule in charge.
    assert ev_target(config, Overrides(ev_current_limit_a=8.0), None) is None


def test_ev_charging_off_plans_as_if_no_car_were_there() -> None:
    config = load_config(REFERENCE)
    roles = planned_devices(config)
    ev = roles["ev"]
    snapshot = Snapshot(NOW, 0.0, {ev: {"ev.plugged": Sample(True, "", 0.0)}})
    for mode, plugged in (("smart", True), ("now", True), ("off", False)):
        cycle = SimpleNamespace(
            config=config, roles=roles, state=SimpleNamespace(overrides=Overrides(ev_mode=mode))
        )
        measured = ControlCycle._measured(cycle, snapshot)  # type: ignore[arg-type]
        assert measured.ev_plugged is plugged, mode
