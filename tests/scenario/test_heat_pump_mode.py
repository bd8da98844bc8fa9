"""A scenario's heat pump in mode auto: parsed with its season and bands, planned in the mode in
force at the scenario's start; errors name the key."""

from __future__ import annotations

from typing import Any

import pytest

from agent.scenario import ScenarioError
from agent.scenario.plan_inputs import plan_problem
from agent.scenario.spec import parse_spec
from tests.scenario.helpers import plan_doc

SEASON = "devices.heat_pump.cooling_season"
HEAT_PUMP: dict[str, Any] = {
    "mode": "auto",
    "cooling_season": {"from": "05-15", "to": "09-15"},
    "max_kw": 3.0,
    "r_k_per_kw": 6.0,
    "c_kwh_per_k": 6.0,
    "indoor_c": 22.0,
    "target_c": 21.0,
    "band_c": 1.0,
    "cooling_target_c": 24.5,
    "cooling_band_c": 0.5,
}


def doc(start: str, **heat_pump: Any) -> dict[str, Any]:
    d = plan_doc(start=start, devices={"heat_pump": HEAT_PUMP | heat_pump})
    d["data"] = d["data"] | {"outdoor_c": 30.0}
    return d


@pytest.mark.parametrize(
    ("start", "mode", "lo_c", "hi_c"),
    [
        ("2015-06-01T00:00:00+02:00", "cooling", 24.0, 25.0),  # 24.5 ± 0.5
        ("2015-05-14T23:45:00+02:00", "heating", 20.0, 22.0),  # runs into the 15th: planned as it starts
        ("2015-09-15T00:00:00+02:00", "heating", 20.0, 22.0),  # the first day back in heating
    ],
)
def test_a_scenario_is_planned_in_the_mode_in_force_at_its_start(
    start: str, mode: str, lo_c: float, hi_c: float
) -> None:
    problem = plan_problem(parse_spec(doc(start)))
    hp = problem.inputs.heat_pump
    assert hp is not None
    assert hp.mode == mode
    assert (float(hp.band_lo_c[0]), float(hp.band_hi_c[0])) == (lo_c, hi_c)


@pytest.mark.parametrize(
    ("change", "key", "fragment"),
    [
        ({"mode": "summer"}, "devices.heat_pump.mode", "heating, cooling, auto"),
        ({"cooling_season": {"from": "05-15"}}, "devices.heat_pump.cooling_season", "{from"),
        (
            {"cooling_season": {"from": "05-32", "to": "09-15"}},
            "devices.heat_pump.cooling_season.from",
            "no such",
        ),
        ({"cooling_target_c": 20.0}, "devices.heat_pump.cooling_target_c", "must be >= target_c 21"),
        ({"mode": "heating", "cooling_season": None}, "devices.heat_pump.cooling_target_c", "only used"),
    ],
)
def test_mode_errors_name_the_key(change: dict[str, Any], key: str, fragment: str) -> None:
    d = doc("2015-06-01T00:00:00+02:00", **change)
    heat_pump = {k: v for k, v in d["devices"]["heat_pump"].items() if v is not None}
    d["devices"]["heat_pump"] = heat_pump
    with pytest.raises(ScenarioError) as info:
        parse_spec(d)
    assert info.value.key == key
    assert fragment in info.value.message


def test_auto_needs_a_cooling_target() -> None:
    d = doc("2015-06-01T00:00:00+02:00")
    del d["devices"]["heat_pump"]["cooling_target_c"]
    with pytest.raises(ScenarioError) as info:
        parse_spec(d)
    assert info.value.key == "devices.heat_pump.cooling_target_c"
    assert "required when mode is auto" in info.value.message
