"""A heat pump that heats and cools: dispatch puts its thermostat in the plan's mode, holds the
setpoint in that mode's band, and falls back to the season's mode when there is no plan."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from agent.clock import ManualClock
from agent.config.model import Config
from agent.dispatch import Dispatcher, DispatchSettings, DispatchTarget, ThermalTarget
from drivers.base import Capabilities, ModeSwitching, Reading, ThermostatMode
from tests.dispatch.conftest import HOME_YAML, FakeDevice, FakeOutputs, fake_home, home_config, snapshot

AUTO = """    comfort: {target_c: 21, band_c: 1}
    mode: auto
    cooling_season: {from: "05-15", to: "09-15"}
    cooling_comfort: {target_c: 24.5, band_c: 1}
    cooling_cop: 4.0
"""
JULY = datetime(2026, 7, 10, 12, 0, tzinfo=UTC)


class FakeSwitchingThermostat(FakeOutputs):
    """A thermostat that can be put in heating or cooling (ModeSwitching)."""

    async def set_mode(self, mode: ThermostatMode) -> None:
        await self._set("mode", mode)

    def mode(self) -> Reading[Any]:
        return self._get("mode")


def auto_config() -> Config:
    block = "    comfort: {target_c: 21, band_c: 1}\n"
    assert block in HOME_YAML
    return home_config(HOME_YAML.replace(block, AUTO, 1))


def switching_dispatcher(at: datetime, mode: ThermostatMode) -> tuple[Dispatcher, FakeSwitchingThermostat]:
    clock = ManualClock(at)
    devices, _ = fake_home(clock)
    trv = FakeSwitchingThermostat("heat_pump", clock)
    trv.values["mode"] = mode
    devices["heat_pump"] = FakeDevice("heat_pump", Capabilities(thermostat=trv), clock)
    return Dispatcher(auto_config(), devices, clock, DispatchSettings()), trv


def test_the_fake_is_a_switching_thermostat() -> None:
    assert isinstance(FakeSwitchingThermostat("x", ManualClock(JULY)), ModeSwitching)


async def test_a_cooling_plan_switches_a_heating_thermostat_to_cool_before_the_setpoint() -> None:
    d, trv = switching_dispatcher(JULY, ThermostatMode.HEAT)
    target = DispatchTarget({"heat_pump": ThermalTarget(setpoint_c=24.0, mode="cooling")})
    snap = snapshot({"heat_pump": {"thermostat.indoor_c": 25.0, "thermostat.mode": "heat"}}, at=JULY)
    report = await d.dispatch(target, snap)
    # the mode first: a cooling setpoint given to a heating thermostat would heat
    assert trv.writes == [("mode", ThermostatMode.COOL), ("setpoint_c", 24.0)]
    assert report.devices["heat_pump"].limited_by == ()


async def test_a_setpoint_is_held_in_the_band_of_the_plans_mode() -> None:
    d, trv = switching_dispatcher(JULY, ThermostatMode.COOL)
    # 21 °C is inside heating's band but below cooling's 23.5..25.5: clipped to 23.5
    target = DispatchTarget({"heat_pump": ThermalTarget(setpoint_c=21.0, mode="cooling")})
    snap = snapshot({"heat_pump": {"thermostat.indoor_c": 25.0, "thermostat.mode": "cool"}}, at=JULY)
    report = await d.dispatch(target, snap)
    assert trv.writes == [("setpoint_c", 23.5)]  # already cooling: no mode write
    assert report.devices["heat_pump"].limited_by == ("comfort_min",)


async def test_without_a_plan_the_thermostat_holds_the_seasons_target_in_the_seasons_mode() -> None:
    january = datetime(2026, 1, 10, 12, 0, tzinfo=UTC)
    for at, was, wanted_mode, wanted_c in (
        (JULY, ThermostatMode.HEAT, ThermostatMode.COOL, 24.5),
        (january, ThermostatMode.COOL, ThermostatMode.HEAT, 21.0),
    ):
        d, trv = switching_dispatcher(at, was)
        snap = snapshot({"heat_pump": {"thermostat.indoor_c": 22.0, "thermostat.mode": was.value}}, at=at)
        await d.dispatch(None, snap)
        assert trv.writes == [("mode", wanted_mode), ("setpoint_c", wanted_c)]


async def test_a_mode_change_is_written_even_when_the_setpoint_is_already_there() -> None:
    # guards the deadband: the setpoint alone matching must not hide a mode that is wrong
    d, trv = switching_dispatcher(JULY, ThermostatMode.HEAT)
    trv.values["setpoint_c"] = 24.0
    target = DispatchTarget({"heat_pump": ThermalTarget(setpoint_c=24.0, mode="cooling")})
    snap = snapshot(
        {
            "heat_pump": {
                "thermostat.indoor_c": 25.0,
                "thermostat.setpoint_c": 24.0,
                "thermostat.mode": "heat",
            }
        },
        at=JULY,
    )
    await d.dispatch(target, snap)
    assert trv.writes == [("mode", ThermostatMode.COOL), ("setpoint_c", 24.0)]


async def test_safe_stop_leaves_the_thermostat_at_the_seasons_target_and_mode() -> None:
    d, trv = switching_dispatcher(JULY, ThermostatMode.HEAT)
    await d.safe_stop()
    assert trv.writes == [("mode", ThermostatMode.COOL), ("setpoint_c", 24.5)]
