"""The heat pump's mode: heating, cooling, or auto by a cooling season, with a band per mode."""

from __future__ import annotations

from datetime import date

import pytest

from agent.config import ConfigError, parse_config
from agent.config.devices import HeatPump

HEAD = """\
site: {id: home, timezone: Europe/Berlin, latitude: 52.5, longitude: 13.4}
devices:
  grid: {role: meter, driver: {type: simulated}}
  dev:
    role: heat_pump
    electric_max_kw: 3
    cop: 3.5
    house: {r_k_per_kw: 6, c_kwh_per_k: 10}
    driver: {type: gpio_relay, pin: 17}
"""
AUTO = (
    "    mode: auto\n"
    "    cooling_season: {from: '05-15', to: '09-15'}\n"
    "    comfort: {target_c: 21, band_c: 1}\n"
    "    cooling_comfort: {target_c: 24.5, band_c: 1}\n"
    "    cooling_cop: 4.0\n"
)

BACKWARDS = "[{outdoor_c: 35, cop: 3}, {outdoor_c: 20, cop: 5}]"


def problems(body: str) -> list[tuple[str, str]]:
    with pytest.raises(ConfigError) as info:
        parse_config(HEAD + body, "t.yaml", env={})
    return [(p.path, p.message) for p in info.value.problems]


def test_auto_mode_loads_with_its_season_and_a_band_per_mode() -> None:
    hp = parse_config(HEAD + AUTO, env={}).devices["dev"]
    assert isinstance(hp, HeatPump)
    rule = hp.mode_rule()
    # hand-computed: 14 May heats, 15 May cools (first day), 14 Sep cools, 15 Sep heats again
    assert rule.mode_on(date(2015, 5, 14)) == "heating"
    assert rule.mode_on(date(2015, 5, 15)) == "cooling"
    assert rule.mode_on(date(2015, 9, 14)) == "cooling"
    assert rule.mode_on(date(2015, 9, 15)) == "heating"
    assert (hp.comfort_in("heating").target_c, hp.comfort_in("cooling").target_c) == (21.0, 24.5)


def test_fixed_cooling_uses_comfort_unless_a_cooling_band_is_given() -> None:
    hp = parse_config(HEAD + "    mode: cooling\n    comfort: {target_c: 25}\n", env={}).devices["dev"]
    assert isinstance(hp, HeatPump)
    assert hp.mode_rule().mode_on(date(2015, 1, 1)) == "cooling"
    assert hp.comfort_in("cooling").target_c == 25.0


@pytest.mark.parametrize(
    ("body", "path", "fragment"),
    [
        ("    mode: summer\n", "devices.dev.mode", "'heating', 'cooling' or 'auto'"),
        (AUTO.replace("    cooling_season: {from: '05-15', to: '09-15'}\n", ""),
         "devices.dev.cooling_season", "required when mode is auto"),
        (AUTO.replace("    cooling_comfort: {target_c: 24.5, band_c: 1}\n", ""),
         "devices.dev.cooling_comfort", "required when mode is auto"),
        ("    cooling_season: {from: '05-15', to: '09-15'}\n",
         "devices.dev.cooling_season", "only used with mode auto"),
        ("    cooling_comfort: {target_c: 25}\n", "devices.dev.cooling_comfort",
         "only used with mode cooling or auto"),
        (AUTO.replace("24.5", "20"), "devices.dev.cooling_comfort", "must be >= comfort.target_c 21"),
        (AUTO.replace("'05-15'", "'5-15'"), "devices.dev.cooling_season.from", "'MM-DD'"),
        (AUTO.replace("'09-15'", "'02-30'"), "devices.dev.cooling_season.to", "no such calendar day"),
        (AUTO.replace("'09-15'", "'05-15'"), "devices.dev.cooling_season.to", "must differ from 'from'"),
        (AUTO.replace("to: '09-15'", "until: '09-15'"), "devices.dev.cooling_season.until",
         "allowed keys: from, to"),
        (AUTO.replace("    cooling_cop: 4.0\n", ""), "devices.dev.cooling_cop",
         "exactly one of 'cooling_cop'"),
        (AUTO + "    cooling_cop_curve: [{outdoor_c: 20, cop: 5}, {outdoor_c: 35, cop: 3}]\n",
         "devices.dev.cooling_cop", "exactly one of 'cooling_cop'"),
        (AUTO.replace("cooling_cop: 4.0", "cooling_cop_curve: " + BACKWARDS),
         "devices.dev.cooling_cop_curve", "must increase strictly"),
        ("    mode: cooling\n    cooling_cop: 4\n", "devices.dev.cooling_cop", "only used with mode auto"),
        (AUTO.replace("target_c: 24.5", "target_c: 40"), "devices.dev.cooling_comfort.target_c", "35"),
    ],
)  # fmt: skip
def test_mode_errors_name_the_field(body: str, path: str, fragment: str) -> None:
    found = problems(body)
    assert any(p.startswith(path) and fragment in m for p, m in found), found
