"""Discovery payloads and HA commands as plain functions: entity ids HA accepts, every command
kind parsed or refused naming its key."""

from __future__ import annotations

import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from agent.web.errors import RequestError
from agent.web.ha.bridge import command_body
from agent.web.ha.discovery import Device, Topics, config_payload, entity_id_slug
from agent.web.ha.entities import commands, entities

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
