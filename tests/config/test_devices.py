"""Plant parameters of each role: ranges and the checks between fields the planner relies on."""

from __future__ import annotations

import pytest

from agent.config import ConfigError, parse_config
from agent.config.devices import EvCharger, HeatPump, WaterHeater

HEAD = """\
site: {id: home, timezone: Europe/Berlin, latitude: 52.5, longitude: 13.4}
devices:
  grid: {role: meter, driver: {type: simulated}}
  dev:
"""
EV = "    role: ev_charger\n    max_kw: 11\n    battery_kwh: 60\n    driver: {type: simulated}\n"
HP = (
    "    role: heat_pump\n    electric_max_kw: 3\n    cop: 3.5\n"
    "    house: {r_k_per_kw: 6, c_kwh_per_k: 10}\n    driver: {type: gpio_relay, pin: 17}\n"
)
WH = "    role: water_heater\n    tank_l: 200\n    element_kw: 3\n    driver: {type: simulated}\n"


def problems(body: str) -> list[tuple[str, str]]:
    with pytest.raises(ConfigError) as info:
        parse_config(HEAD + body, "t.yaml", env={})
    return [(p.path, p.message) for p in info.value.problems]


def test_valid_devices_load_with_defaults() -> None:
    ev = parse_config(HEAD + EV, env={}).devices["dev"]
    assert isinstance(ev, EvCharger)
    assert (ev.departure_time.hour, ev.target_soc, ev.v2g) == (7, 0.8, False)
    hp = parse_config(HEAD + HP, env={}).devices["dev"]
    assert isinstance(hp, HeatPump)
    assert (hp.mode, hp.comfort.target_c, hp.comfort.band_c) == ("heating", 21.0, 1.0)
    wh = parse_config(HEAD + WH, env={}).devices["dev"]
    assert isinstance(wh, WaterHeater)
    assert wh.min_c < wh.target_c < wh.max_c


@pytest.mark.parametrize(
    ("body", "path", "fragment"),
    [
        (EV + "    v2g: true\n", "devices.dev.v2g_max_kw", "required when v2g is true"),
        (EV + "    v2g_max_kw: 5\n", "devices.dev.v2g_max_kw", "only allowed when v2g is true"),
        (EV + "    min_kw: 12\n", "devices.dev.min_kw", "must be <= max_kw 11"),
        (EV + "    departure_time: 25:00\n", "devices.dev.departure_time", "'HH:MM'"),
        (EV + "    target_soc: 1.5\n", "devices.dev.target_soc", "must be <= 1"),
        (
            HP.replace("cop: 3.5", "cop_curve: [{outdoor_c: 0, cop: 3}]"),
            "devices.dev.cop_curve",
            "at least 2",
        ),
        (
            HP + "    cop_curve: [{outdoor_c: 0, cop: 3}, {outdoor_c: 7, cop: 4}]\n",
            "devices.dev.cop",
            "exactly one",
        ),
        (
            HP.replace("cop: 3.5", "cop_curve: [{outdoor_c: 5, cop: 3}, {outdoor_c: 5, cop: 4}]"),
            "devices.dev.cop_curve",
            "increase strictly",
        ),
        (HP.replace("r_k_per_kw: 6", "r_k_per_kw: 0"), "devices.dev.house.r_k_per_kw", "must be > 0"),
        (HP + "    mode: boost\n", "devices.dev.mode", "'heating', 'cooling' or 'auto'"),
        (
            HP.replace("pin: 17", "pin: 17, min_on_s: 400, min_off_s: 400"),
            "devices.dev.driver.window_s",
            ">= min_on_s",
        ),
        (WH + "    min_c: 60\n    max_c: 50\n", "devices.dev.max_c", "must be > min_c 60"),
        (WH + "    target_c: 80\n", "devices.dev.target_c", "between min_c 45 and max_c 65"),
        (WH + "    inlet_c: 50\n", "devices.dev.inlet_c", "must be < min_c 45"),
        (WH.replace("tank_l: 200", "tank_l: 0"), "devices.dev.tank_l", "must be > 0"),
        (
            "    role: battery\n    capacity_kwh: 5\n    driver: {type: simulated}\n",
            "devices.dev.charge_max_kw",
            "missing",
        ),
        (
            "    role: pv_inverter\n    peak_kw: 5\n    azimuth_deg: 360\n    driver: {type: simulated}\n",
            "devices.dev.azimuth_deg",
            "must be < 360",
        ),
    ],
)
def test_role_parameter_errors_name_the_field(body: str, path: str, fragment: str) -> None:
    found = problems(body)
    assert any(p == path and fragment in m for p, m in found), found
