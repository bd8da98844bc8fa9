"""Secrets come as a literal, {env: NAME} or {file: PATH}; resolved at load, never shown."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import pytest

from agent.config import ConfigError, load_config

Write = Callable[..., Path]
Check = Callable[..., tuple[int, str]]

TEMPLATE = """\
site: {{id: home, timezone: Europe/Berlin, latitude: 52.5, longitude: 13.4}}
mqtt_brokers:
  local:
    host: 127.0.0.1
    username: hems
    password: {password}
devices:
  grid: {{role: meter, driver: {{type: simulated}}}}
"""


def broker_password(config_path: Path, env: dict[str, str]) -> str:
    config = load_config(config_path, env=env)
    secret = config.mqtt_brokers["local"].password
    assert secret is not None
    return secret.get_secret_value()


def test_literal_secret(write_yaml: Write) -> None:
    assert broker_password(write_yaml(TEMPLATE.format(password="hunter2")), {}) == "hunter2"


def test_env_secret(write_yaml: Write) -> None:
    path = write_yaml(TEMPLATE.format(password="{env: HEMS_TEST_PW}"))
    assert broker_password(path, {"HEMS_TEST_PW": "from-env"}) == "from-env"


def test_env_secret_defaults_to_the_process_environment(
    write_yaml: Write, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HEMS_TEST_PW_PROCESS", "from-process")
    path = write_yaml(TEMPLATE.format(password="{env: HEMS_TEST_PW_PROCESS}"))
    secret = load_config(path).mqtt_brokers["local"].password
    assert secret is not None
    assert secret.get_secret_value() == "from-process"


def test_file_secret_relative_to_the_config_file(write_yaml: Write, tmp_path: Path) -> None:
    (tmp_path / "secrets").mkdir()
    (tmp_path / "secrets" / "mqtt.pw").write_text("from-file\n", encoding="utf-8")
    path = write_yaml(TEMPLATE.format(password="{file: secrets/mqtt.pw}"))
    # the trailing newline editors add is not part of the password
    assert broker_password(path, {}) == "from-file"


def test_file_secret_absolute_path(write_yaml: Write, tmp_path: Path) -> None:
    secret_file = tmp_path / "abs.pw"
    secret_file.write_text("absolute", encoding="utf-8")
    path = write_yaml(TEMPLATE.format(password=f"{{file: {secret_file}}}"))
    assert broker_password(path, {}) == "absolute"


def test_missing_env_var_is_a_problem_naming_the_key(write_yaml: Write, check_config: Check) -> None:
    path = write_yaml(TEMPLATE.format(password="{env: HEMS_TEST_UNSET_VAR}"))
    with pytest.raises(ConfigError) as info:
        load_config(path, env={})
    (problem,) = info.value.problems
    assert (problem.path, problem.line) == ("mqtt_brokers.local.password", 6)
    assert problem.message == "environment variable HEMS_TEST_UNSET_VAR is not set"
    assert "HEMS_TEST_UNSET_VAR" not in os.environ
    code, out = check_config(path)
    assert code == 2
    assert (
        f"{path}:6: mqtt_brokers.local.password: environment variable HEMS_TEST_UNSET_VAR is not set" in out
    )


@pytest.mark.parametrize(
    ("setup", "fragment"),
    [
        (lambda d: None, "No such file or directory"),
        (lambda d: (d / "pw").mkdir(), "cannot read secret file"),
        (lambda d: (d / "pw").write_text("\n", encoding="utf-8"), "is empty"),
        (lambda d: (d / "pw").write_bytes(b"\xff\xfe"), "not UTF-8"),
    ],
    ids=["missing", "directory", "empty", "binary"],
)
def test_unusable_secret_file_is_a_problem(
    write_yaml: Write, tmp_path: Path, setup: Callable[[Path], object], fragment: str
) -> None:
    setup(tmp_path)
    path = write_yaml(TEMPLATE.format(password="{file: pw}"))
    with pytest.raises(ConfigError) as info:
        load_config(path, env={})
    (problem,) = info.value.problems
    assert problem.path == "mqtt_brokers.local.password"
    assert fragment in problem.message


@pytest.mark.parametrize("bad", ["{vault: x}", "{env: A, file: b}", "{env: ''}", "[a, b]", "987654"])
def test_malformed_secret_is_refused_without_echoing_it(
    write_yaml: Write, check_config: Check, bad: str
) -> None:
    path = write_yaml(TEMPLATE.format(password=bad))
    code, out = check_config(path)
    assert code == 2
    assert "mqtt_brokers.local.password: must be a string, {env: VARIABLE} or {file: /path/to/file}" in out
    assert "987654" not in out


def test_resolved_secret_is_masked_in_repr_and_dumps(write_yaml: Write) -> None:
    path = write_yaml(TEMPLATE.format(password="{env: PW}"))
    config = load_config(path, env={"PW": "s3cr3t-value"})
    assert "s3cr3t-value" not in repr(config)
    assert "s3cr3t-value" not in str(config.model_dump())
    assert "s3cr3t-value" not in config.model_dump_json()
    assert "**" in repr(config.mqtt_brokers["local"].password)


def test_password_without_username(write_yaml: Write) -> None:
    path = write_yaml(TEMPLATE.format(password="pw").replace("    username: hems\n", ""))
    with pytest.raises(ConfigError) as info:
        load_config(path, env={})
    (problem,) = info.value.problems
    assert problem.path == "mqtt_brokers.local.username"
    assert "required when a password is given" in problem.message


def test_web_token_from_env_and_conflict_with_token_file(write_yaml: Write) -> None:
    base = TEMPLATE.format(password="pw")
    config = load_config(write_yaml(base + "web: {token: {env: TOKEN}}\n"), env={"TOKEN": "t0k"})
    assert config.web.token is not None
    assert config.web.token.get_secret_value() == "t0k"
    with pytest.raises(ConfigError) as info:
        load_config(write_yaml(base + "web: {token: abc, token_file: /x}\n"), env={})
    assert [p.path for p in info.value.problems] == ["web.token_file"]
