"""Every discovery config hems publishes, checked by Home Assistant's own MQTT schemas.

The schemas come from the ``homeassistant`` package in a venv of its own (its pins clash with
the agent's; see ha_schema/requirements.txt), built once under ``build/`` and rebuilt when the
requirements change. A key the schema drops as unknown fails the test too (a misspelt option
would otherwise vanish silently), except the options newer than that release.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from agent.web.ha.discovery import Device, Topics, config_payload
from agent.web.ha.entities import entities
from tests.web.home import WebHome
from tests.web.test_home_assistant import Listener, all_configs

HERE = Path(__file__).parent / "ha_schema"
REQUIREMENTS = HERE / "requirements.txt"
VENV = Path(__file__).parents[2] / "build" / "ha-schema-venv"
INSTALL_TIMEOUT_S = 900.0  # some 40 wheels from PyPI; about a minute on a good line
# Options Home Assistant added after the release the check runs: ``options`` of an enum sensor
# (2024.2), ``default_entity_id`` (2025.10; it replaces object_id, which stops working in 2026.4).
NEWER_OPTIONS = {"default_entity_id", "options"}


def _pins() -> tuple[list[str], list[str]]:
    lines = [ln.strip() for ln in REQUIREMENTS.read_text().splitlines()]
    pins = [ln for ln in lines if ln and not ln.startswith("#")]
    core = [p for p in pins if p.startswith("homeassistant==")]
    return core, [p for p in pins if p not in core]


@pytest.fixture(scope="session")
def ha_python() -> Path:
    python, stamp = VENV / "bin" / "python", VENV / "requirements.txt"
    if python.exists() and stamp.exists() and stamp.read_text() == REQUIREMENTS.read_text():
        return python
    shutil.rmtree(VENV, ignore_errors=True)
    subprocess.run([sys.executable, "-m", "venv", str(VENV)], check=True, timeout=120)
    core, rest = _pins()
    pip = [str(python), "-m", "pip", "install", "--quiet", "--disable-pip-version-check"]
    # Without its own dependencies: Bluetooth stacks and the like, which the schemas never use.
    subprocess.run([*pip, "--no-deps", *core], check=True, timeout=INSTALL_TIMEOUT_S)
    subprocess.run([*pip, *rest], check=True, timeout=INSTALL_TIMEOUT_S)
    shutil.copyfile(REQUIREMENTS, stamp)
    return python


def _check(python: Path, items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    out = subprocess.run(
        [str(python), str(HERE / "check.py")],
        input=json.dumps(items),
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert out.returncode == 0, out.stderr[-3000:]
    results: list[dict[str, Any]] = json.loads(out.stdout)
    assert len(results) == len(items)
    return results


@pytest.fixture
def ha(home: WebHome) -> Iterator[Listener]:
    listener = Listener(home)
    yield listener
    listener.close()


def test_published_configs_pass_home_assistants_schemas(ha_python: Path, ha: Listener) -> None:
    configs = all_configs(ha)
    items = [{"topic": t, "component": t.split("/")[1], "payload": p} for t, p in sorted(configs.items())]
    components = {i["component"] for i in items}
    assert components == {
        "sensor", "binary_sensor", "switch", "number", "text", "select", "button", "climate", "water_heater",
    }  # fmt: skip
    for result in _check(ha_python, items):
        assert result["error"] is None, result
        assert set(result["dropped"]) <= NEWER_OPTIONS, result


def test_schema_check_catches_a_bad_config(ha_python: Path) -> None:
    # The check itself must be able to fail: a device class HA does not know, a misspelt option
    # that the schema would drop, a unit and a state class the energy device class refuses.
    e = next(e for e in entities("EUR", [], {"pv"}) if e.key == "pv_energy_kwh")
    good = config_payload(e, Topics("homeassistant", "hems/x", "hems/x/status"), Device("hems_x", "x"))
    bad_class = good | {"device_class": "energie"}
    misspelt = good | {"sugested_display_precision": 2}
    in_watts = good | {"unit_of_measurement": "W"}
    measured = good | {"state_class": "measurement"}
    results = _check(
        ha_python,
        [
            {"topic": n, "component": "sensor", "payload": p}
            for n, p in (("a", good), ("b", bad_class), ("c", misspelt), ("d", in_watts), ("e", measured))
        ],
    )
    assert results[0]["error"] is None
    assert results[1]["error"] is not None
    assert "device_class" in results[1]["error"]
    assert set(results[2]["dropped"]) - NEWER_OPTIONS == {"sugested_display_precision"}
    assert "unit_of_measurement 'W'" in results[3]["error"]
    assert "state_class measurement" in results[4]["error"]


def test_variants_not_in_the_test_home_pass_too(ha_python: Path) -> None:
    """V2G's discharge counter, a device with a configuration_url, no heat pump or water heater."""
    topics = Topics("homeassistant", "hems/site", "hems/site/status")
    device = Device("hems_site", "site", "http://192.168.1.20:8080/")
    items = [
        {"topic": e.key, "component": e.component, "payload": config_payload(e, topics, device)}
        for e in entities("USD", ["grid", "ev"], {"ev", "v2g"}, ["meter"], has_link=False)
    ]
    assert any(i["topic"] == "ev_discharge_kwh" for i in items)
    for result in _check(ha_python, items):
        assert result["error"] is None, result
        assert set(result["dropped"]) <= NEWER_OPTIONS, result
