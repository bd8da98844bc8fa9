"""Home Assistant discovery on the real Mosquitto: the entity configs HA's energy dashboard
accepts, the state document, and commands from HA that go through the same checks as the page."""

from __future__ import annotations

import json
import re
import time
from collections.abc import Iterator
from datetime import datetime
from typing import Any

import jinja2
import pytest

from agent import __version__
from tests.web.client import control_headers, request
from tests.web.ha_listener import HaListener
from tests.web.home import HOME, WebHome

NODE = "hems_home-1"
WAIT_S = 20.0


class Listener(HaListener):
    """Home Assistant's side of the shared test home."""

    def __init__(self, home: WebHome) -> None:
        super().__init__(home.broker.host, home.broker.port, ["homeassistant/#", f"hems/{HOME}/#"])

    def wait(self, topic: str) -> bytes:
        return self.wait_for(topic, lambda _p: True, "nothing arrived", WAIT_S)

    def config(self, component: str, key: str) -> dict[str, Any]:
        return dict(json.loads(self.wait(f"homeassistant/{component}/{NODE}/{key}/config")))


@pytest.fixture
def ha(home: WebHome) -> Iterator[Listener]:
    listener = Listener(home)
    yield listener
    listener.close()


@pytest.mark.parametrize(
    ("key", "device_class", "state_class", "unit"),
    [
        ("grid_power_w", "power", "measurement", "W"),
        ("pv_power_w", "power", "measurement", "W"),
        ("battery_power_w", "power", "measurement", "W"),
        ("ev_power_w", "power", "measurement", "W"),
        ("heat_pump_power_w", "power", "measurement", "W"),
        ("water_heater_power_w", "power", "measurement", "W"),
        # The energy dashboard's grid consumption / return slots need total_increasing kWh.
        ("grid_import_kwh", "energy", "total_increasing", "kWh"),
        ("grid_export_kwh", "energy", "total_increasing", "kWh"),
        ("battery_soc_pct", "battery", "measurement", "%"),
        ("ev_soc_pct", "battery", "measurement", "%"),
        ("indoor_c", "temperature", "measurement", "°C"),
        ("tank_c", "temperature", "measurement", "°C"),
        ("import_price_per_kwh", None, "measurement", "EUR/kWh"),
        ("marginal_value_per_kwh", None, "measurement", "EUR/kWh"),
    ],
)
def test_sensor_configs(
    ha: Listener, key: str, device_class: str | None, state_class: str, unit: str
) -> None:
    cfg = ha.config("sensor", key)
    assert cfg.get("device_class") == device_class
    assert cfg["state_class"] == state_class
    assert cfg["unit_of_measurement"] == unit
    assert cfg["unique_id"] == f"{NODE}_{key}"
    assert cfg["state_topic"] == f"hems/{HOME}/state"
    assert cfg["availability_topic"] == f"hems/{HOME}/status"
    assert key in cfg["value_template"]
    assert cfg["device"]["identifiers"] == [NODE]


def test_controls_are_offered(ha: Listener) -> None:
    for component, key in (
        ("switch", "paused"),
        ("switch", "water_heater_hold"),
        ("number", "ev_target_soc_pct"),
        ("number", "comfort_target_c"),
        ("number", "comfort_band_c"),
        ("number", "water_heater_boost_h"),
        ("text", "ev_departure"),
    ):
        cfg = ha.config(component, key)
        assert cfg["command_topic"] == f"hems/{HOME}/set/{key}"


def test_state_document_and_availability(home: WebHome, ha: Listener) -> None:
    assert ha.wait(f"hems/{HOME}/status") == b"online"
    state = json.loads(ha.wait(f"hems/{HOME}/state"))
    assert isinstance(state["pv_power_w"], float)
    assert isinstance(state["grid_import_kwh"], float)
    assert state["mode"] in ("optimising", "safe", "paused")
    # The home is shared by the session: whatever an earlier test left, the document says it.
    assert state["paused"] is home.read(lambda a: a.state.overrides.paused)


def _state_paused_becomes(ha: Listener, paused: bool) -> None:
    deadline = time.monotonic() + WAIT_S
    while json.loads(ha.wait(f"hems/{HOME}/state"))["paused"] is not paused:
        assert time.monotonic() < deadline, f"the state document never said paused={paused}"
        time.sleep(0.05)


def test_page_controls_reach_home_assistant(home: WebHome, ha: Listener) -> None:
    # publish_every_s is an hour of agent time here (minutes of wall time): only the change
    # itself can bring the document up to date within WAIT_S.
    headers = control_headers(home.token)
    for paused in (True, False):
        body = json.dumps({"paused": paused})
        assert request(home.base_url, "POST", "/api/controls", headers=headers, body=body).status == 200
        _state_paused_becomes(ha, paused)


def test_commands_from_home_assistant(home: WebHome, ha: Listener) -> None:
    ha.wait(f"hems/{HOME}/state")
    version = home.read(lambda a: a.cycle.overrides_version)
    ha.publish(f"hems/{HOME}/set/comfort_target_c", "20.5")
    home.wait_for(lambda a: a.state.overrides.comfort_target_c == 20.5, "the comfort target from HA", WAIT_S)
    assert home.read(lambda a: a.cycle.overrides_version) == version + 1
    # Bad commands are refused and change nothing.
    for key, payload in (("comfort_target_c", "hot"), ("comfort_target_c", "99"), ("paused", "MAYBE"),
                         ("setpoint", "1")):  # fmt: skip
        ha.publish(f"hems/{HOME}/set/{key}", payload)
    ha.publish(f"hems/{HOME}/set/water_heater_hold", "ON")
    home.wait_for(lambda a: a.state.overrides.water_heater_hold, "the hold from HA", WAIT_S)
    assert home.read(lambda a: (a.state.overrides.comfort_target_c, a.state.overrides.paused)) == (
        20.5,
        False,
    )
    # The state document follows at once (not only after publish_every_s).
    deadline = time.monotonic() + WAIT_S
    while json.loads(ha.wait(f"hems/{HOME}/state")).get("water_heater_hold") is not True:
        assert time.monotonic() < deadline, "state not republished after the command"
        time.sleep(0.05)
    ha.publish(f"hems/{HOME}/set/water_heater_hold", "OFF")
    home.wait_for(lambda a: not a.state.overrides.water_heater_hold, "hold released", WAIT_S)
    # HA numbers cannot be emptied: back to "as configured" through the API.
    body = json.dumps({"comfort_target_c": None})
    assert (
        request(home.base_url, "POST", "/api/controls", headers=control_headers(home.token), body=body).status
        == 200
    )


ENERGY_KEYS = (
    "pv_energy_kwh",
    "battery_charge_kwh",
    "battery_discharge_kwh",
    "ev_charge_kwh",
    "heat_pump_energy_kwh",
    "water_heater_energy_kwh",
)
DEVICES = ("grid", "pv", "battery", "ev", "thermostat", "water_heater")


def all_configs(ha: Listener) -> dict[str, dict[str, Any]]:
    # Retained configs arrive in no set order on subscribing: wait until no more come.
    ha.config("binary_sensor", "retailer_connected")
    seen, deadline = -1, time.monotonic() + WAIT_S
    while time.monotonic() < deadline:
        configs = {t: json.loads(p) for t, p in ha.latest_all().items() if t.endswith("/config") and p}
        if len(configs) == seen:
            return configs
        seen = len(configs)
        time.sleep(0.5)
    raise AssertionError("discovery configs kept arriving")


@pytest.mark.parametrize("key", ENERGY_KEYS)
def test_energy_dashboard_sensors_for_every_device(ha: Listener, key: str) -> None:
    cfg = ha.config("sensor", key)
    assert (cfg["device_class"], cfg["state_class"], cfg["unit_of_measurement"]) == (
        "energy",
        "total_increasing",
        "kWh",
    )
    assert cfg["suggested_display_precision"] == 2


def test_every_config_names_its_entity_id_origin_and_the_last_will_topic(ha: Listener) -> None:
    configs = all_configs(ha)
    assert len(configs) > 40
    for topic, cfg in configs.items():
        component = topic.split("/")[1]
        # object_id is deprecated in HA 2025.10 and stops working in 2026.4.
        assert "object_id" not in cfg, topic
        assert re.fullmatch(rf"{component}\.hems_home_1_[a-z0-9_]+", cfg["default_entity_id"]), topic
        assert cfg["origin"] == {"name": "hems", "sw_version": __version__}
        assert cfg["device"]["sw_version"] == __version__
        assert cfg["availability_topic"] == f"hems/{HOME}/status"
        if component == "sensor" and cfg.get("device_class") not in (None, "enum"):
            assert isinstance(cfg["suggested_display_precision"], int), topic


def test_cost_climate_water_heater_and_ev_entities(ha: Listener) -> None:
    cost = ha.config("sensor", "cost_this_month")
    assert (cost["device_class"], cost["state_class"], cost["unit_of_measurement"]) == (
        "monetary",
        "total",
        "EUR",
    )
    # The bill starts again each month: HA must see a new cycle, not a refund.
    assert cost["last_reset_value_template"] == "{{ value_json.cost_since }}"
    climate = ha.config("climate", "climate")
    assert climate["temperature_command_topic"] == f"hems/{HOME}/set/comfort_target_c"
    assert climate["modes"] == ["heat"]
    heater = ha.config("water_heater", "water_heater")
    assert heater["mode_command_topic"] == f"hems/{HOME}/set/water_heater_mode"
    assert heater["modes"] == ["eco", "high_demand", "off"]
    assert ha.config("select", "ev_mode")["options"] == ["smart", "now", "off"]
    assert ha.config("number", "ev_current_limit_a")["entity_category"] == "config"
    assert ha.config("button", "ev_charge_now")["command_topic"] == f"hems/{HOME}/set/ev_charge_now"
    assert ha.config("binary_sensor", "ev_plugged")["device_class"] == "plug"
    for device in DEVICES:
        conn = ha.config("binary_sensor", f"{device}_connected")
        assert (conn["device_class"], conn["entity_category"]) == ("connectivity", "diagnostic")


def _render(template: str, doc: dict[str, Any]) -> str:
    return jinja2.Environment(autoescape=False).from_string(template).render(value_json=doc)


def test_templates_render_the_state_document(home: WebHome, ha: Listener) -> None:
    """HA renders each value_template against the state document: check what it would show."""
    configs = all_configs(ha)
    state = json.loads(ha.wait(f"hems/{HOME}/state"))
    assert state["ev_departure"] is None or isinstance(state["ev_departure"], str)
    shown = {}
    for topic, cfg in configs.items():
        if "value_template" in cfg:
            shown[topic.split("/")[-2]] = _render(cfg["value_template"], state)
    # The defect: the departure text showed the word "None" when no departure was set.
    if state["ev_departure"] is None:
        assert shown["ev_departure"] == ""
    assert shown["ev_plugged"] in ("ON", "OFF")
    assert shown["grid_connected"] == "ON"
    assert float(shown["pv_power_w"]) == state["pv_power_w"]


def test_energy_counters_and_cost_reach_the_state_document(home: WebHome, ha: Listener) -> None:
    deadline = time.monotonic() + WAIT_S
    while True:
        state = json.loads(ha.wait(f"hems/{HOME}/state"))
        if state["pv_energy_kwh"] > 0 and state["cost_this_month"] is not None:
            break
        assert time.monotonic() < deadline, f"no PV energy or cost: {state}"
        # publish_every_s is an hour of agent time here: HA announcing itself brings a fresh
        # document (as after an HA restart).
        ha.publish("homeassistant/status", "online")
        time.sleep(0.5)
    saved = home.read(lambda a: dict(a.energy.saved))
    # What HA saw was saved first (rounded to 0.1 Wh in the document).
    assert round(saved["pv_energy_kwh"], 4) >= state["pv_energy_kwh"] > 0
    month = json.loads(request(home.base_url, "GET", "/api/bill?period=month").body)
    assert datetime.fromisoformat(state["cost_since"]) == datetime.fromisoformat(month["start"])


def test_forecast_attributes_are_bounded(ha: Listener) -> None:
    assert ha.config("sensor", "import_price_per_kwh")["json_attributes_topic"] == f"hems/{HOME}/forecast"
    raw = ha.wait(f"hems/{HOME}/forecast")
    doc = json.loads(raw)
    assert 0 < len(doc["steps"]) <= 48
    # HA's recorder drops attributes over 16 KiB.
    assert len(raw) < 16 * 1024
    first = doc["steps"][0]
    assert isinstance(first["import_price_per_kwh"], float)
    assert {"start", "marginal_value_per_kwh", "grid_kw", "battery_kw"} <= set(first)


def test_ev_and_water_heater_commands_from_home_assistant(home: WebHome, ha: Listener) -> None:
    ha.wait(f"hems/{HOME}/state")
    ha.publish(f"hems/{HOME}/set/ev_charge_now", "PRESS")
    home.wait_for(lambda a: a.state.overrides.ev_mode == "now", "charge now from HA", WAIT_S)
    ha.publish(f"hems/{HOME}/set/ev_mode", "turbo")  # refused, changes nothing
    ha.publish(f"hems/{HOME}/set/ev_current_limit_a", "16")
    home.wait_for(lambda a: a.state.overrides.ev_current_limit_a == 16.0, "the current limit", WAIT_S)
    assert home.read(lambda a: a.state.overrides.ev_mode) == "now"
    ha.publish(f"hems/{HOME}/set/water_heater_mode", "off")
    home.wait_for(lambda a: a.state.overrides.water_heater_hold, "the water heater off from HA", WAIT_S)
    ha.publish(f"hems/{HOME}/set/water_heater_mode", "high_demand")
    home.wait_for(
        lambda a: (
            a.state.overrides.water_heater_boost_until is not None and not a.state.overrides.water_heater_hold
        ),
        "a boost from HA",
        WAIT_S,
    )
    ha.publish(f"hems/{HOME}/set/water_heater_mode", "eco")
    ha.publish(f"hems/{HOME}/set/ev_mode", "smart")
    home.wait_for(
        lambda a: a.state.overrides.ev_mode == "smart" and a.state.overrides.water_heater_boost_until is None,
        "back to as planned",
        WAIT_S,
    )
    body = json.dumps({"ev_current_limit_a": None})
    headers = control_headers(home.token)
    assert request(home.base_url, "POST", "/api/controls", headers=headers, body=body).status == 200
