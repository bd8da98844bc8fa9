"""Energy counters integrated from power: exact for known power profiles, split by direction,
nothing across gaps, and a published value that never goes down, crashes and restarts included."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from agent.runtime.energy_counters import COUNTERS, FILE_NAME, MAX_GAP_S, SAVE_EVERY_S, EnergyCounters


def test_constant_power_for_an_hour_is_its_kwh(tmp_path: Path) -> None:
    c = EnergyCounters(tmp_path)
    for i in range(361):  # every 10 s for an hour
        c.add(i * 10.0, {"pv_energy_kwh": 3.0, "battery_charge_kwh": 0.0, "battery_discharge_kwh": 1.5})
    assert c.live["pv_energy_kwh"] == pytest.approx(3.0)
    assert c.live["battery_discharge_kwh"] == pytest.approx(1.5)
    assert c.live["battery_charge_kwh"] == 0.0


def test_a_ramp_is_integrated_as_its_trapezoid(tmp_path: Path) -> None:
    c = EnergyCounters(tmp_path)
    c.add(0.0, {"ev_charge_kwh": 0.0})
    c.add(240.0, {"ev_charge_kwh": 6.0})  # 0 -> 6 kW over 4 min: 3 kW x 1/15 h
    assert c.live["ev_charge_kwh"] == pytest.approx(0.2)


def test_nothing_is_added_across_a_gap_or_for_a_missing_value(tmp_path: Path) -> None:
    c = EnergyCounters(tmp_path)
    c.add(0.0, {"pv_energy_kwh": 5.0, "water_heater_energy_kwh": None})
    c.add(MAX_GAP_S + 1.0, {"pv_energy_kwh": 5.0, "water_heater_energy_kwh": 2.0})
    assert c.live["pv_energy_kwh"] == 0.0
    c.add(MAX_GAP_S + 11.0, {"pv_energy_kwh": 5.0, "water_heater_energy_kwh": None})
    assert c.live["water_heater_energy_kwh"] == 0.0
    assert c.live["pv_energy_kwh"] == pytest.approx(5.0 * 10.0 / 3600.0)


step = st.tuples(
    st.floats(0.5, 120.0),  # seconds since the previous reading
    st.floats(0.0, 20.0) | st.none(),  # kW
    st.sampled_from(["run", "save", "crash"]),
)


@settings(max_examples=60, deadline=None)
@given(st.lists(step, min_size=1, max_size=40))
def test_published_value_never_goes_down(
    tmp_path_factory: pytest.TempPathFactory, steps: list[tuple[float, float | None, str]]
) -> None:
    state_dir = tmp_path_factory.mktemp("energy")
    c = EnergyCounters(state_dir)
    c.load()
    mono_s, published = 0.0, [0.0]
    for dt_s, kw, event in steps:
        mono_s += dt_s
        c.add(mono_s, {"pv_energy_kwh": kw})
        if event == "save" or c.save_due(mono_s):
            asyncio.run(c.save(mono_s))
        if event == "crash":  # what was not saved is lost; the next run starts from the file
            c = EnergyCounters(state_dir)
            c.load()
            mono_s = 0.0
        published.append(c.saved["pv_energy_kwh"])
    assert published == sorted(published)


def test_saves_once_a_minute(tmp_path: Path) -> None:
    c = EnergyCounters(tmp_path)
    assert c.save_due(0.0)
    asyncio.run(c.save(0.0))
    assert not c.save_due(SAVE_EVERY_S - 1.0)
    assert c.save_due(SAVE_EVERY_S)


@pytest.mark.parametrize(
    ("content", "named"),
    [
        (b"{", "not valid UTF-8 JSON"),
        (b'{"format": 1, "counters": {"pv_energy_kwh": -1}}', "counters.pv_energy_kwh"),
        (b'{"format": 1, "counters": {"pv_energy_kwh": "12"}}', "counters.pv_energy_kwh"),
        (b'{"format": 1, "counters": {"sun_kwh": 1}}', "counters.sun_kwh"),
        (b'{"format": 1}', "counters"),
    ],
)
def test_damaged_file_restarts_from_zero_and_is_kept(tmp_path: Path, content: bytes, named: str) -> None:
    (tmp_path / FILE_NAME).write_bytes(content)
    c = EnergyCounters(tmp_path)
    c.load()
    assert c.saved == dict.fromkeys(COUNTERS, 0.0)
    assert c.problem is not None
    assert named in c.problem
    assert (tmp_path / (FILE_NAME + ".bad")).read_bytes() == content


def test_counters_come_back_after_restart(tmp_path: Path) -> None:
    c = EnergyCounters(tmp_path)
    c.add(0.0, {"heat_pump_energy_kwh": 2.0})
    c.add(1800.0 / 10, {"heat_pump_energy_kwh": 2.0})
    asyncio.run(c.save(180.0))
    again = EnergyCounters(tmp_path)
    again.load()
    assert again.saved["heat_pump_energy_kwh"] == pytest.approx(0.1)
