"""The ``simulated`` driver type: configs/minimal.yaml runs, and a fully simulated home balances."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from agent.clock import ManualClock
from agent.config import load_config
from agent.config.drivers import DRIVER_TYPES
from drivers.assembly import build_devices
from drivers.base import DeviceContext
from drivers.errors import DriverConfigError, StaleValue
from drivers.registry import BUILTIN, default_registry, prepare_drivers, unavailable
from hil.simulated.device import SimulatedDevice
from hil.simulated.home import SimulatedHome, prepare
from tests.hil.conftest import NOON

REPO = Path(__file__).resolve().parents[2]


def test_every_config_driver_type_is_registered() -> None:
    # Guards against a config that validates but cannot be built ("unknown driver type simulated").
    assert set(DRIVER_TYPES) <= set(BUILTIN)
    assert "simulated" in default_registry().types()


async def test_minimal_config_meter_counts_the_base_load() -> None:
    config = load_config(REPO / "configs" / "minimal.yaml")
    clock = ManualClock(NOON)
    ctx = DeviceContext(clock=clock)
    devices = build_devices(config, ctx)
    grid = devices["grid"]
    assert isinstance(grid, SimulatedDevice) and grid.role == "meter"
    meter = grid.capabilities.energy_meter
    assert meter is not None
    with pytest.raises(StaleValue):
        meter.import_kwh()  # nothing read yet
    await grid.refresh()
    first = meter.import_kwh().value
    clock.advance(3600.0)
    await grid.refresh()
    imported = meter.import_kwh().value - first
    home = ctx.links.get_or_create("simulated:home", SimulatedHome, lambda: pytest.fail("no home"))
    assert home.plant is not None
    assert imported == pytest.approx(home.plant.energy_kwh["base"], rel=1e-9)
    assert 0.1 < imported < 1.5  # an hour of a household's base load, from the H0 profile
    assert meter.power_w().value > 0
    assert grid.health.snapshot().state.value == "ok"


def full_config(tmp_path: Path) -> Path:
    sim = {"type": "simulated"}
    doc = {
        "site": {"id": "sim", "timezone": "Europe/Berlin", "latitude": 52.5, "longitude": 13.4},
        "state_dir": str(tmp_path / "state"),
        "devices": {
            "grid": {"role": "meter", "driver": sim},
            "pv": {"role": "pv_inverter", "peak_kw": 5, "curtailable": True, "driver": sim},
            "battery": {
                "role": "battery", "capacity_kwh": 8, "charge_max_kw": 4, "discharge_max_kw": 4,
                "driver": sim,
            },
            "ev": {
                "role": "ev_charger", "max_kw": 7.4, "phases": 1, "voltage_v": 230, "battery_kwh": 50,
                "driver": sim,
            },
            "thermostat": {
                "role": "thermostat", "cop": 3.5, "electric_max_kw": 2,
                "house": {"r_k_per_kw": 8, "c_kwh_per_k": 5}, "driver": sim,
            },
            "water_heater": {"role": "water_heater", "tank_l": 150, "element_kw": 2, "driver": sim},
        },
    }  # fmt: skip
    path = tmp_path / "sim.yaml"
    path.write_text(yaml.safe_dump(doc))
    return path


@pytest.mark.parametrize("prepared", [True, False], ids=["roles-from-config", "roles-inferred"])
async def test_fully_simulated_home_obeys_writes_and_meter_balances(tmp_path: Path, prepared: bool) -> None:
    config = load_config(full_config(tmp_path))
    clock = ManualClock(NOON)
    ctx = DeviceContext(clock=clock)
    if prepared:
        prepare(config, ctx)
    devices = build_devices(config, ctx)
    roles = {n: d.role for n, d in devices.items() if isinstance(d, SimulatedDevice)}
    assert roles == {n: config.devices[n].role for n in devices}
    battery = devices["battery"].capabilities.battery
    pv = devices["pv"].capabilities.pv_inverter
    wh = devices["water_heater"].capabilities.water_heater
    assert battery is not None and pv is not None and wh is not None
    await battery.set_power_w(2000.0)
    await pv.set_curtailment_limit_w(1000.0)
    await wh.set_element_on(True)
    with pytest.raises(DriverConfigError, match="outside"):
        await battery.set_power_w(9000.0)  # beyond charge_max_kw: refused, nothing changes
    clock.advance(600.0)
    for d in devices.values():
        await d.refresh()
    assert battery.power_w().value == pytest.approx(2000.0)
    assert pv.power_w().value == pytest.approx(1000.0)
    assert wh.element_on().value is True
    home = ctx.links.get_or_create("simulated:home", SimulatedHome, lambda: pytest.fail("no home"))
    assert home.plant is not None and home.plant.last is not None
    meter = devices["grid"].capabilities.energy_meter
    assert meter is not None
    p = home.plant.last.powers_kw
    expected_w = (p["base"] + p["heat_pump"] + p["water_heater"] + p["battery"] + p["ev"] - p["pv"]) * 1000.0
    assert meter.power_w().value == pytest.approx(expected_w)
    await devices["battery"].stop()
    assert home.battery_kw is None  # back to self-consumption


def test_prepare_drivers_gives_the_simulated_home_the_config(tmp_path: Path) -> None:
    # The runtime calls prepare_drivers; the simulated type's prepare must be what runs.
    config = load_config(full_config(tmp_path))
    ctx = DeviceContext(clock=ManualClock(NOON))
    prepare_drivers(config, ctx)
    home = ctx.links.get_or_create("simulated:home", SimulatedHome, lambda: pytest.fail("no home"))
    assert home.params.battery_kwh == 8.0
    assert home.params.tank_l == 150.0
    assert home.roles["water_heater"] == "water_heater"
    assert unavailable("simulated") is None  # the rig is installed here
