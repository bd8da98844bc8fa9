"""Topic maps: the shipped ones load; mistakes in a map are config errors naming the key."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from drivers.errors import DriverConfigError
from drivers.mqtt.topicmap import MAPS_DIR, REQUIRED_VALUES, builtin_maps, load_map


def test_builtin_maps_cover_every_capability() -> None:
    maps = {name: load_map(name) for name in builtin_maps()}
    assert {m.capability for m in maps.values()} == set(REQUIRED_VALUES)
    assert maps["openevse"].values["current_limit_a"].topic == "{base}/pilot"
    assert maps["openevse"].writes["current_limit_a"].topic == "{base}/claim/set"


def write_map(tmp_path: Path, base: str, change: Any) -> Path:
    raw = yaml.safe_load((MAPS_DIR / f"{base}.yaml").read_text())
    change(raw)
    out = tmp_path / "site_map.yaml"
    out.write_text(yaml.safe_dump(raw))
    return out


@pytest.mark.parametrize(
    ("base", "change", "message"),
    [
        ("openevse", lambda m: m["values"].pop("plugged"), "values.plugged: required"),
        ("openevse", lambda m: m["values"]["plugged"].update(type="float"), "values.plugged.type"),
        ("openevse", lambda m: m["writes"]["current_limit_a"].pop("max"), "needs min and max"),
        ("openevse", lambda m: m["values"]["power_w"].update(path="a..b"), "bad JSON path"),
        ("openevse", lambda m: m["values"]["power_w"].update(topic="{site}/p"), "unknown placeholder"),
        ("openevse", lambda m: m["values"]["power_w"].update(topic="{base}/#"), "without wildcards"),
        ("openevse", lambda m: m["values"]["power_w"].update(min=5, max=1), "min 5 > max 1"),
        ("openevse", lambda m: m["values"]["power_w"].update(colour="red"), "colour"),
        (
            "openevse",
            lambda m: m["writes"]["current_limit_a"]["verify"].update(value="nope"),
            "no value named",
        ),
        ("zigbee2mqtt_thermostat", lambda m: m["values"]["mode"]["map"].update(eco="eco"), "values.mode.map"),
        ("tasmota_sml", lambda m: m.update(capability="toaster"), "capability"),
    ],
)
def test_map_mistakes_name_the_key(tmp_path: Path, base: str, change: Any, message: str) -> None:
    path = write_map(tmp_path, base, change)
    with pytest.raises(DriverConfigError, match="topic map") as info:
        load_map(path)
    assert message in str(info.value)
    assert str(path) in str(info.value)
    assert info.value.field == "driver.topic_map"


def test_unknown_map_lists_the_builtin_ones() -> None:
    with pytest.raises(DriverConfigError, match=r"built-in maps: (\w+, )*openevse"):
        load_map("open_evse")


def test_unreadable_yaml_is_a_config_error(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("values: [unclosed\n")
    with pytest.raises(DriverConfigError, match="cannot read topic map"):
        load_map(bad)
