"""The forecast: config section: every problem named with its key and line."""

from __future__ import annotations

from pathlib import Path

import pytest

from agent.config import ConfigError, load_config, parse_config

HEAD = """site: {id: h, timezone: Europe/Berlin, latitude: 52, longitude: 13}
devices: {grid: {role: meter, driver: {type: simulated}}}
"""


def _problems(text: str, tmp_path: Path) -> list[str]:
    with pytest.raises(ConfigError) as info:
        parse_config(HEAD + text, base_dir=tmp_path)
    return [f"{p.line}: {p.path}: {p.message}" for p in info.value.problems]


def test_reference_config_documents_a_valid_forecast_section() -> None:
    config = load_config(Path(__file__).parents[2] / "configs" / "reference.yaml")
    assert config.forecast.hot_water.profile_l_per_h == {0: 0, 6.5: 40, 8: 5, 18: 20, 21: 2}
    assert config.forecast.base_load.weeks == 4


def test_bad_forecast_keys_are_named(tmp_path: Path) -> None:
    problems = _problems(
        """forecast:
  base_load: {weeks: 0}
  pv: {weather: {type: csv, file: nowhere.csv, column: ghi}}
  outdoor_temperature: {source: {type: ftp, host: x}, profile_c: {25: 3}}
  hot_water: {profile_l_per_h: {7: -5}}
""",
        tmp_path,
    )
    text = "\n".join(problems)
    assert "4: forecast.base_load.weeks: must be >= 1 (got 0)" in text
    assert "5: forecast.pv.weather.file: file not found" in text
    assert "6: forecast.outdoor_temperature.source.type: unknown type 'ftp'; allowed: csv, mqtt" in text
    assert "forecast.outdoor_temperature.profile_c" in text
    assert "7: forecast.hot_water.profile_l_per_h[7]: must be >= 0 (got -5)" in text


def test_mqtt_source_must_name_a_defined_broker(tmp_path: Path) -> None:
    problems = _problems(
        "forecast: {pv: {weather: {type: mqtt, broker: weather, topic: sky/ghi}}}\n", tmp_path
    )
    assert problems == [
        "3: forecast.pv.weather.broker: unknown broker 'weather'; defined in mqtt_brokers: none"
    ]
