"""The householder's settings on disk: what is saved comes back, a damaged file is reported and
set aside (never a crash, never a half-read setting), and times that passed are dropped."""

from __future__ import annotations

import asyncio
import json
import os
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from agent.runtime.settings_store import FILE_NAME, SettingsStore, decode, encode
from agent.runtime.state import EV_MODES, Overrides
from agent.runtime.state_file import StateFileError, read_json, write_json

NOW = datetime(2026, 6, 15, 6, 0, tzinfo=UTC)
later = st.timedeltas(min_value=timedelta(minutes=1), max_value=timedelta(days=7)).map(lambda d: NOW + d)


def optional_range(lo: float, hi: float) -> st.SearchStrategy[float | None]:
    return st.none() | st.floats(lo, hi, allow_nan=False)


overrides = st.builds(
    Overrides,
    paused=st.booleans(),
    ev_departure=st.none() | later,
    ev_target_soc=optional_range(0.0, 1.0),
    comfort_target_c=optional_range(5.0, 35.0),
    comfort_band_c=optional_range(0.1, 10.0),
    water_heater_boost_until=st.none() | later,
    water_heater_hold=st.booleans(),
    ev_mode=st.sampled_from(EV_MODES),
    ev_current_limit_a=optional_range(6.0, 32.0),
)


@settings(max_examples=60)
@given(overrides)
def test_saved_settings_come_back(tmp_path_factory: pytest.TempPathFactory, o: Overrides) -> None:
    state_dir = tmp_path_factory.mktemp("state")
    asyncio.run(SettingsStore(state_dir).save(o))
    store = SettingsStore(state_dir)
    assert store.load(NOW) == o
    assert store.problem is None


def test_times_that_passed_while_down_are_dropped(tmp_path: Path) -> None:
    o = Overrides(
        ev_departure=NOW + timedelta(hours=1), water_heater_boost_until=NOW + timedelta(hours=2), paused=True
    )
    write_json(tmp_path / FILE_NAME, encode(o))
    restored = SettingsStore(tmp_path).load(NOW + timedelta(hours=3))
    assert restored == Overrides(paused=True)


def test_no_file_is_the_configured_defaults(tmp_path: Path) -> None:
    store = SettingsStore(tmp_path)
    assert store.load(NOW) == Overrides()
    assert store.problem is None


@pytest.mark.parametrize(
    ("content", "named"),
    [
        (b'{"format": 1, "settings": {"paused": tru', "not valid UTF-8 JSON"),
        (b"\xff\xfe{}", "not valid UTF-8 JSON"),
        (b"[1, 2]", "must hold a JSON object"),
        (b'{"format": 2, "settings": {}}', "format"),
        (b'{"format": 1, "settings": {"paused": "yes"}}', "settings.paused"),
        (b'{"format": 1, "settings": {"comfort_target_c": 99}}', "settings.comfort_target_c"),
        (b'{"format": 1, "settings": {"ev_mode": "turbo"}}', "settings.ev_mode"),
        (b'{"format": 1, "settings": {"ev_departure": "tomorrow"}}', "settings.ev_departure"),
        (b'{"format": 1, "settings": {"ev_departure": "2026-06-16T07:00"}}', "settings.ev_departure"),
        (b'{"format": 1, "settings": {"owner": "x"}}', "settings.owner"),
        (b'{"format": 1, "settings": {"ev_current_limit_a": NaN}}', "settings.ev_current_limit_a"),
    ],
)
def test_damaged_file_is_reported_set_aside_and_ignored(tmp_path: Path, content: bytes, named: str) -> None:
    (tmp_path / FILE_NAME).write_bytes(content)
    store = SettingsStore(tmp_path)
    assert store.load(NOW) == Overrides()
    assert store.problem is not None
    assert named in store.problem
    assert not (tmp_path / FILE_NAME).exists()
    assert (tmp_path / (FILE_NAME + ".bad")).read_bytes() == content  # kept for inspection


@settings(max_examples=200)
@given(st.binary(max_size=200) | st.text(max_size=200).map(str.encode))
def test_any_bytes_give_settings_or_a_named_error(
    tmp_path_factory: pytest.TempPathFactory, data: bytes
) -> None:
    path = tmp_path_factory.mktemp("s") / FILE_NAME
    path.write_bytes(data)
    try:
        doc = read_json(path)
        assert doc is not None
        decode(doc, NOW, path)
    except StateFileError as e:
        assert e.path == path


def test_last_change_is_the_one_on_disk(tmp_path: Path) -> None:
    async def main() -> None:
        store = SettingsStore(tmp_path)
        for c in range(20):
            store.save_soon(Overrides(comfort_target_c=15.0 + c * 0.5))
        await store.flush()

    asyncio.run(main())
    assert SettingsStore(tmp_path).load(NOW).comfort_target_c == 24.5


def test_write_replaces_atomically(tmp_path: Path) -> None:
    path = tmp_path / FILE_NAME
    write_json(path, {"a": 1})
    write_json(path, {"a": 2})
    assert read_json(path) == {"a": 2}
    # No temporary file is left beside it.
    assert sorted(os.listdir(tmp_path)) == [FILE_NAME]
    assert json.loads(path.read_text()) == {"a": 2}
