"""Bad configs: every problem is reported at once, each with file, line, key path and what is allowed."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from agent.config import ConfigError, ConfigProblem, load_config

Write = Callable[..., Path]
Check = Callable[..., tuple[int, str]]

BASE = """\
site:
  id: home
  timezone: Europe/Berlin
  latitude: 52.5
  longitude: 13.4
devices:
  grid:
    role: meter
    driver: {type: simulated}
  battery:
    role: battery
    capacity_kwh: 10
    charge_max_kw: 5
    discharge_max_kw: 5
    driver:
      type: modbus_tcp
      host: 127.0.0.1
      sunspec: true
"""


def line_of(text: str, needle: str) -> int:
    """1-based line of the first line containing ``needle`` ("=x": the line that is exactly x)."""
    if needle.startswith("="):
        return next(i for i, line in enumerate(text.splitlines(), 1) if line.strip() == needle[1:])
    return next(i for i, line in enumerate(text.splitlines(), 1) if needle in line)


def problems_of(path: Path) -> list[ConfigProblem]:
    with pytest.raises(ConfigError) as info:
        load_config(path, env={})
    return list(info.value.problems)


def test_base_config_is_valid(write_yaml: Write) -> None:
    config = load_config(write_yaml(BASE), env={})
    assert config.devices["battery"].role == "battery"


def test_misspelt_key_exits_2_and_names_key_line_and_suggestion(
    write_yaml: Write, check_config: Check
) -> None:
    text = BASE.replace("capacity_kwh: 10", "capacity_kwhh: 10")
    path = write_yaml(text)
    code, out = check_config(path)
    assert code == 2
    line = line_of(text, "capacity_kwhh")
    assert f"{path}:{line}: devices.battery.capacity_kwhh: unknown key 'capacity_kwhh'" in out
    assert "did you mean 'capacity_kwh'?" in out
    assert "allowed keys: capacity_kwh, charge_efficiency" in out
    # the renamed key also leaves the real one missing: reported on the device's line
    assert f"{path}:{line_of(text, 'battery:')}: devices.battery.capacity_kwh: required key is missing" in out


def test_misspelt_top_level_key(write_yaml: Write) -> None:
    text = BASE + "planer:\n  horizon_h: 12\n"
    (problem,) = problems_of(write_yaml(text))
    assert problem.line == line_of(text, "planer:")
    assert problem.path == "planer"
    assert "did you mean 'planner'?" in problem.message


def test_several_errors_are_all_reported(write_yaml: Write, check_config: Check) -> None:
    text = (
        BASE.replace("timezone: Europe/Berlin", "timezone: Europe/Berln")
        .replace("capacity_kwh: 10", "capacity_kwh: -3")
        .replace("host: 127.0.0.1", "host: 127.0.0.1\n      port: 70000")
        + "metering_interval: PT10M\nweb:\n  port: http\n"
    )
    path = write_yaml(text)
    code, out = check_config(path)
    assert code == 2
    expected = [
        (line_of(text, "timezone:"), "site.timezone", "did you mean 'Europe/Berlin'?"),
        (line_of(text, "capacity_kwh"), "devices.battery.capacity_kwh", "must be > 0 (got -3)"),
        (line_of(text, "port: 70000"), "devices.battery.driver.port", "must be <= 65535 (got 70000)"),
        (line_of(text, "metering_interval"), "metering_interval", "must be one of PT5M, PT15M, PT1H"),
        (line_of(text, "port: http"), "web.port", "must be a whole number (got 'http')"),
    ]
    for line, key, message in expected:
        assert any(f"{path}:{line}: {key}: " in row and message in row for row in out.splitlines()), (
            key,
            out,
        )
    assert len(out.strip().splitlines()) == len(expected)


# (replace old, by new, expected key path, message fragment, text of the line it must point at)
WRONG_VALUES = [
    ("latitude: 52.5", "latitude: 95", "site.latitude", "must be <= 90 (got 95)", "latitude"),
    ("latitude: 52.5", "latitude: north", "site.latitude", "must be a number (got 'north')", "latitude"),
    ("id: home", "id: [1, 2]", "site.id", "must be a string", "id: ["),
    (
        "  timezone: Europe/Berlin",
        "  timezone: Europe/Berlin\n  currency: EURO",
        "site.currency",
        "ISO 4217",
        "EURO",
    ),
    ("charge_max_kw: 5", "charge_max_kw: .nan", "devices.battery.charge_max_kw", "finite number", ".nan"),
    ("role: battery", "role: batery", "devices.battery.role", "did you mean 'battery'?", "batery"),
    (
        "type: modbus_tcp",
        "type: modbus",
        "devices.battery.driver.type",
        "allowed: modbus_tcp, modbus_rtu",
        "modbus",
    ),
    ("sunspec: true", "sunspec: false", "devices.battery.driver.register_map", "exactly one of", "=driver:"),
    (
        "driver: {type: simulated}",
        "driver: {type: gpio_relay, pin: 4}",
        "devices.grid.driver",
        "cannot",
        "gpio",
    ),
    (
        "charge_max_kw: 5",
        "charge_max_kw: {a: 1}",
        "devices.battery.charge_max_kw",
        "(got a mapping)",
        "{a: 1}",
    ),
]


@pytest.mark.parametrize("case", WRONG_VALUES, ids=lambda case: f"{case[2]}={case[1]}")
def test_wrong_value_names_its_path(write_yaml: Write, case: tuple[str, str, str, str, str]) -> None:
    old, new, path, message, at = case
    assert old in BASE
    text = BASE.replace(old, new, 1)
    problems = problems_of(write_yaml(text))
    matching = [p for p in problems if p.path == path]
    assert matching, problems
    assert message in matching[0].message
    assert matching[0].line == line_of(text, at), matching[0]


def test_soc_order_error_lands_on_the_soc_max_line(write_yaml: Write) -> None:
    text = BASE.replace("capacity_kwh: 10", "capacity_kwh: 10\n    soc_min: 0.9\n    soc_max: 0.2")
    (problem,) = problems_of(write_yaml(text))
    assert (problem.line, problem.path) == (line_of(text, "soc_max"), "devices.battery.soc_max")
    assert "must be > soc_min" in problem.message


def test_yaml_syntax_error_gives_file_and_line(write_yaml: Write, check_config: Check) -> None:
    text = BASE.replace("    capacity_kwh: 10", "    capacity_kwh: 10\n   bad: indent: here")
    path = write_yaml(text)
    code, out = check_config(path)
    assert code == 2
    assert out.startswith(f"{path}:{line_of(text, 'bad: indent')}: YAML syntax error")


def test_duplicate_key_is_a_problem_not_silently_last_wins(write_yaml: Write) -> None:
    text = BASE.replace("capacity_kwh: 10", "capacity_kwh: 10\n    capacity_kwh: 12")
    (problem,) = problems_of(write_yaml(text))
    assert problem.path == "devices.battery.capacity_kwh"
    assert problem.line == line_of(text, "capacity_kwh: 12")
    assert f"first given on line {line_of(text, 'capacity_kwh: 10')}" in problem.message


def test_missing_file_exits_2(tmp_path: Path, check_config: Check) -> None:
    code, out = check_config(tmp_path / "nope.yaml")
    assert code == 2
    assert "nope.yaml: cannot read file" in out


def test_ok_and_bad_files_in_one_run(write_yaml: Write, check_config: Check) -> None:
    good = write_yaml(BASE, "good.yaml")
    bad = write_yaml(BASE.replace("role: meter", "role: metre"), "bad.yaml")
    code, out = check_config(good, bad)
    assert code == 2
    assert f"{good}: ok" in out
    assert f"{bad}:{line_of(BASE, 'role: meter')}: devices.grid.role: unknown role 'metre'" in out


@pytest.mark.parametrize("text", ["", "# only a comment\n", "- a\n- b\n", "just text\n"])
def test_document_that_is_not_a_mapping(write_yaml: Write, text: str) -> None:
    (problem,) = problems_of(write_yaml(text))
    assert problem.line == 1
    assert "a config is a mapping" in problem.message


def test_cross_references_are_checked_alongside_other_errors(write_yaml: Write) -> None:
    text = (
        BASE.replace("role: meter", "role: battery")  # no meter left
        .replace("latitude: 52.5", "latitude: 99")
        .replace(
            "    driver:\n      type: modbus_tcp\n      host: 127.0.0.1\n      sunspec: true\n",
            "    driver: {type: mqtt, broker: lokal, topic_map: x, base_topic: a/b}\n",
        )
        + "mqtt_brokers:\n  local: {host: 127.0.0.1}\nretailer: {broker: remote, topic_prefix: tem}\n"
    )
    problems = {p.path: p for p in problems_of(write_yaml(text))}
    assert "must be <= 90" in problems["site.latitude"].message
    assert "role 'meter' is required" in problems["devices"].message
    assert "did you mean 'local'?" in problems["devices.battery.driver.broker"].message
    assert problems["devices.battery.driver.broker"].line == line_of(text, "broker: lokal")
    assert "unknown broker 'remote'" in problems["retailer.broker"].message
    assert problems["retailer.broker"].line == line_of(text, "retailer:")


def test_two_meters_and_bad_device_name(write_yaml: Write) -> None:
    text = BASE + "  Second-Meter:\n    role: meter\n    driver: {type: simulated}\n"
    problems = {(p.path, p.line): p.message for p in problems_of(write_yaml(text))}
    line = line_of(text, "Second-Meter")
    assert "must be an identifier" in problems[("devices.Second-Meter", line)]
    assert (
        "exactly one device with role 'meter' is allowed" in problems[("devices.Second-Meter.role", line + 1)]
    )


def test_planner_step_shorter_than_metering_interval(write_yaml: Write) -> None:
    text = BASE + "metering_interval: PT1H\nplanner: {step: PT5M}\n"
    (problem,) = problems_of(write_yaml(text))
    assert problem.path == "planner.step"
    assert "must not be shorter than metering_interval PT1H" in problem.message


def test_yaml_1_1_traps_are_not_sprung(write_yaml: Write) -> None:
    # PyYAML's YAML 1.1 default would read 07:30 as 450 and 'no' as False.
    text = BASE + (
        "  ev:\n    role: ev_charger\n    max_kw: 11\n    battery_kwh: 50\n"
        "    departure_time: 06:45\n    driver: {type: simulated}\n"
        "market:\n  party_id: no\n"
    )
    config = load_config(write_yaml(text), env={})
    ev = config.devices["ev"]
    assert ev.role == "ev_charger"
    assert ev.departure_time.hour == 6
    assert ev.departure_time.minute == 45
    assert config.party_id == "no"


def test_state_directory_from_systemd_overrides(write_yaml: Write) -> None:
    path = write_yaml(BASE + "state_dir: /srv/hems\n")
    assert str(load_config(path, env={}).state_dir) == "/srv/hems"
    assert str(load_config(path, env={"STATE_DIRECTORY": "/var/lib/hems2:/x"}).state_dir) == "/var/lib/hems2"


def test_relative_state_dir_is_refused(write_yaml: Write) -> None:
    (problem,) = problems_of(write_yaml(BASE + "state_dir: state\n"))
    assert problem.path == "state_dir"
    assert "absolute path" in problem.message


def test_config_is_frozen(write_yaml: Write) -> None:
    config = load_config(write_yaml(BASE), env={})
    with pytest.raises(ValueError, match="frozen"):
        config.site.latitude = 0.0  # type: ignore[misc]


TLS_BASE = BASE + "mqtt_brokers:\n  secure:\n    host: broker.example\n    tls:\n"


def test_tls_files_are_resolved_and_port_defaults_to_8883(write_yaml: Write, tmp_path: Path) -> None:
    (tmp_path / "ca.pem").write_text("-----BEGIN CERTIFICATE-----\n", encoding="utf-8")
    config = load_config(write_yaml(TLS_BASE + "      ca_file: ca.pem\n"), env={})
    broker = config.mqtt_brokers["secure"]
    assert broker.port == 8883
    assert broker.tls is not None
    assert broker.tls.ca_file == tmp_path / "ca.pem"
    plain = load_config(write_yaml(BASE + "mqtt_brokers:\n  plain: {host: h}\n"), env={})
    assert plain.mqtt_brokers["plain"].port == 1883


def test_tls_missing_file_and_unpaired_certificate(write_yaml: Write, tmp_path: Path) -> None:
    (tmp_path / "client.pem").write_text("x", encoding="utf-8")
    text = TLS_BASE + "      ca_file: missing-ca.pem\n"
    (problem,) = problems_of(write_yaml(text))
    assert (problem.path, problem.line) == ("mqtt_brokers.secure.tls.ca_file", line_of(text, "missing-ca"))
    assert f"file not found: {tmp_path / 'missing-ca.pem'}" in problem.message
    (problem,) = problems_of(write_yaml(TLS_BASE + "      cert_file: client.pem\n"))
    assert problem.path == "mqtt_brokers.secure.tls.key_file"
    assert "need both cert_file and key_file" in problem.message


def test_misspelt_discriminator_is_pointed_out(write_yaml: Write) -> None:
    text = BASE.replace("driver: {type: simulated}", "driver: {typ: simulated}")
    (problem,) = problems_of(write_yaml(text))
    assert problem.path == "devices.grid.driver.type"
    assert problem.line == line_of(text, "typ: simulated")
    assert "required key is missing; allowed: modbus_tcp" in problem.message
    assert "is 'typ' meant to be 'type'?" in problem.message


def test_currency_suggestion_prefers_the_same_first_letter(write_yaml: Write) -> None:
    text = BASE.replace("  timezone: Europe/Berlin", "  timezone: Europe/Berlin\n  currency: EUX")
    (problem,) = problems_of(write_yaml(text))
    assert problem.message.endswith("did you mean 'EUR'?")


def test_cross_field_checks_still_run_when_a_sibling_field_is_wrong(write_yaml: Write) -> None:
    # Pydantic alone skips a model's after-validators once any of its fields fails, which would
    # hide the soc order (and the price caps) until the other typo is fixed.
    text = BASE.replace("capacity_kwh: 10", "capacity_kwh: -3\n    soc_min: 0.9\n    soc_max: 0.2") + (
        "market:\n  hedge_ratoi: 0.5\n  price_min_per_kwh: '1.00'\n  price_max_per_kwh: '0.50'\n"
    )
    found = {p.path: (p.line, p.message) for p in problems_of(write_yaml(text))}
    assert found["devices.battery.capacity_kwh"] == (line_of(text, "capacity_kwh"), "must be > 0 (got -3)")
    assert found["devices.battery.soc_max"][0] == line_of(text, "soc_max")
    assert "must be > soc_min" in found["devices.battery.soc_max"][1]
    assert "did you mean 'hedge_ratio'?" in found["market.hedge_ratoi"][1]
    assert found["market.price_max_per_kwh"] == (
        line_of(text, "price_max_per_kwh"),
        "must be > price_min_per_kwh 1.00 (got 0.50)",
    )
    assert len(found) == 4


def test_check_that_needs_an_invalid_field_stays_quiet(write_yaml: Write) -> None:
    # soc_min is itself wrong: the order check must not add a second, confusing message
    text = BASE.replace("capacity_kwh: 10", "capacity_kwh: 10\n    soc_min: high\n    soc_max: 0.2")
    (problem,) = problems_of(write_yaml(text))
    assert problem.path == "devices.battery.soc_min"
