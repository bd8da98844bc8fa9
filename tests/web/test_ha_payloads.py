"""Discovery payloads and HA commands as plain functions: entity ids HA accepts, every command
kind parsed or refused naming its key."""

from __future__ import annotations

import re
from pathlib import Path
from types import SimpleNamespace

import pytest
from hypothesis import given
from hypothesis import strategies as st

from agent.config import ConfigError
from agent.config.loader import parse_config
from agent.web.errors import RequestError
from agent.web.ha.bridge import command_body, configuration_url
from agent.web.ha.discovery import Device, Topics, config_payload, entity_id_slug
from agent.web.ha.entities import commands, entities

MINIMAL = Path(__file__).parents[2] / "configs" / "minimal.yaml"
TOPICS = Topics("homeassistant", "hems/home-1", "hems/home-1/status")
ALL = entities(
    "EUR",
    ["grid", "pv", "battery", "ev"],
    {"pv", "battery", "ev", "heat_pump", "water_heater"},
    ["grid"],
    True,
)
KINDS = commands(ALL)


@given(st.text(max_size=40))
def test_entity_id_slug_is_what_ha_allows(text: str) -> None:
    slug = entity_id_slug(text)
    assert re.fullmatch(r"([a-z0-9]+(_[a-z0-9]+)*)?", slug)


def test_default_entity_id_replaces_object_id() -> None:
    for e in ALL:
        payload = config_payload(e, TOPICS, Device("hems_home-1", "home-1"))
        assert "object_id" not in payload
        assert payload["default_entity_id"] == f"{e.component}.hems_home_1_{e.key}"
        assert payload["availability_topic"] == "hems/home-1/status"


@pytest.mark.parametrize(
    ("key", "payload", "body"),
    [
        ("paused", b"ON", {"paused": True}),
        ("water_heater_hold", b" OFF\n", {"water_heater_hold": False}),
        ("comfort_target_c", b"20.5", {"comfort_target_c": 20.5}),
        ("ev_departure", b"", {"ev_departure": None}),
        ("ev_departure", b"2026-06-15T07:00:00+02:00", {"ev_departure": "2026-06-15T07:00:00+02:00"}),
        ("ev_mode", b"now", {"ev_mode": "now"}),
        ("ev_charge_now", b"PRESS", {"ev_mode": "now"}),
        ("water_heater_mode", b"off", {"water_heater_hold": True, "water_heater_boost_h": 0.0}),
        ("water_heater_mode", b"high_demand", {"water_heater_hold": False, "water_heater_boost_h": 1.0}),
        ("water_heater_mode", b"eco", {"water_heater_hold": False, "water_heater_boost_h": 0.0}),
    ],
)
def test_commands(key: str, payload: bytes, body: dict[str, object]) -> None:
    assert command_body(key, payload, KINDS) == body


@pytest.mark.parametrize(
    ("key", "payload"),
    [
        ("paused", b"MAYBE"),
        ("comfort_target_c", b"hot"),
        ("water_heater_mode", b"performance"),
        ("setpoint", b"1"),
        ("mode", b"safe"),  # a sensor, not a command
        ("ev_mode", b"\xff"),
    ],
)
def test_bad_commands_name_their_key(key: str, payload: bytes) -> None:
    with pytest.raises(RequestError) as e:
        command_body(key, payload, KINDS)
    assert e.value.field == key


def _web(web: str) -> SimpleNamespace:
    text = MINIMAL.read_text() + "\nmqtt_brokers:\n  local:\n    host: 127.0.0.1\n" + web
    return SimpleNamespace(config=parse_config(text, "hems.yaml"))


@pytest.mark.parametrize(
    ("web", "url"),
    [
        ("web:\n  home_assistant: {broker: local}\n", None),  # 127.0.0.1: no one else can follow it
        ("web:\n  bind: 0.0.0.0\n  home_assistant: {broker: local}\n", None),
        (
            "web:\n  bind: 192.168.1.20\n  port: 8081\n  home_assistant: {broker: local}\n",
            "http://192.168.1.20:8081/",
        ),
        ("web:\n  bind: fd00::20\n  home_assistant: {broker: local}\n", "http://[fd00::20]:8080/"),
        (
            "web:\n  home_assistant: {broker: local, configuration_url: 'https://hems.home.arpa/'}\n",
            "https://hems.home.arpa/",
        ),
    ],
)
def test_configuration_url(web: str, url: str | None) -> None:
    assert configuration_url(_web(web)) == url  # type: ignore[arg-type]


def test_bad_configuration_url_names_the_key() -> None:
    with pytest.raises(ConfigError) as e:
        _web("web:\n  home_assistant: {broker: local, configuration_url: 'ftp://x'}\n")
    assert "web.home_assistant.configuration_url" in str(e.value)
