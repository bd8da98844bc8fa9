"""Home Assistant discovery on the real Mosquitto: the entity configs HA's energy dashboard
accepts, the state document, and commands from HA that go through the same checks as the page."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from typing import Any

import paho.mqtt.client as mqtt
import pytest
from paho.mqtt.enums import CallbackAPIVersion

from tests.web.client import control_headers, request
from tests.web.home import HOME, WebHome

NODE = "hems_home-1"
WAIT_S = 20.0


class Listener:
    """A plain paho client standing in for Home Assistant."""

    def __init__(self, home: WebHome) -> None:
        self.messages: dict[str, bytes] = {}
        self.lock = threading.Lock()
        self.client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id="home-assistant")
        self.client.on_message = self._on_message
        self.client.on_connect = lambda c, *_a: c.subscribe([("homeassistant/#", 1), (f"hems/{HOME}/#", 1)])
        self.client.connect(home.broker.host, home.broker.port)
        self.client.loop_start()

    def _on_message(self, _c: mqtt.Client, _u: Any, msg: mqtt.MQTTMessage) -> None:
        with self.lock:
            self.messages[msg.topic] = bytes(msg.payload)

    def wait(self, topic: str) -> bytes:
        deadline = time.monotonic() + WAIT_S
        while time.monotonic() < deadline:
            with self.lock:
                if topic in self.messages:
                    return self.messages[topic]
            time.sleep(0.05)
        raise AssertionError(f"nothing on {topic}; got {sorted(self.messages)}")

    def config(self, component: str, key: str) -> dict[str, Any]:
        return dict(json.loads(self.wait(f"homeassistant/{component}/{NODE}/{key}/config")))

    def publish(self, topic: str, payload: str) -> None:
        self.client.publish(topic, payload, qos=1).wait_for_publish(5.0)

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()


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
