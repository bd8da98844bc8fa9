"""Every file in configs/ is valid, through the library and through the installed command."""

from __future__ import annotations

import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from agent.config import load_config
from agent.config.devices import Battery, EvCharger, HeatPump, Meter, WaterHeater
from tests.config.conftest import CONFIGS_DIR

SHIPPED = sorted(CONFIGS_DIR.glob("*.yaml"))


def test_the_three_documented_configs_exist() -> None:
    assert {p.name for p in SHIPPED} >= {"reference.yaml", "minimal.yaml", "demo.yaml"}


@pytest.mark.parametrize("path", SHIPPED, ids=lambda p: p.name)
def test_shipped_config_loads(path: Path) -> None:
    config = load_config(path, env={})
    assert config.meter_name in config.devices
    assert isinstance(config.devices[config.meter_name], Meter)


@pytest.mark.parametrize("path", SHIPPED, ids=lambda p: p.name)
def test_check_config_exits_0_on_shipped_config(
    path: Path, check_config: Callable[..., tuple[int, str]]
) -> None:
    code, out = check_config(path)
    assert code == 0, out
    assert out.strip() == f"{path}: ok"


def test_installed_hems_command_checks_all_shipped_configs() -> None:
    # Guards the console-script wiring (pyproject entry point + COMMANDS), not just the function.
    sibling = Path(sys.executable).with_name("hems")
    hems = str(sibling) if sibling.exists() else shutil.which("hems")
    assert hems, "the hems console script is not installed"
    result = subprocess.run(
        [hems, "check-config", *map(str, SHIPPED)], capture_output=True, text=True, timeout=60, check=False
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.count(": ok") == len(SHIPPED)


def test_demo_config_describes_the_simulated_home() -> None:
    config = load_config(CONFIGS_DIR / "demo.yaml", env={})
    assert config.site.timezone == "Europe/Berlin"
    assert config.site.currency == "EUR"
    for kind in (Meter, Battery, HeatPump, WaterHeater, EvCharger):
        assert len(config.devices_of(kind)) == 1, kind
    assert config.retailer is not None
    assert config.mqtt_brokers[config.retailer.broker].host == "127.0.0.1"
    for dev in config.devices.values():
        host = getattr(dev.driver, "host", "127.0.0.1")
        assert host == "127.0.0.1", "the demo must only talk to this machine"


def test_minimal_config_takes_documented_defaults() -> None:
    config = load_config(CONFIGS_DIR / "minimal.yaml", env={})
    assert str(config.metering_interval) == "PT15M"
    assert str(config.state_dir) == "/var/lib/hems"
    assert config.web.bind == "127.0.0.1"
    assert config.web.port == 8080
    assert config.party_id == config.site.id
    assert config.retailer is None
