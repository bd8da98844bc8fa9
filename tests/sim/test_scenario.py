"""Scenario files: the shipped ones load; a bad key is named."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest

from hil.sim.scenario import ScenarioError, load_scenario, parse_scenario
from hil.sim.tariff import scenario_tariff
from hil.sim.world import installer_spread_per_kwh

SCENARIOS = Path(__file__).parents[2] / "hil" / "scenarios"


@pytest.mark.parametrize("name", ["smoke", "summer_week", "winter_week", "demo"])
def test_shipped_scenarios_load(name: str) -> None:
    sc = load_scenario(SCENARIOS / f"{name}.yaml")
    assert sc.start.tzinfo is not None
    assert sc.days > 0


def test_week_scenarios_are_a_week_of_real_data() -> None:
    summer = load_scenario(SCENARIOS / "summer_week.yaml")
    winter = load_scenario(SCENARIOS / "winter_week.yaml")
    assert summer.days == winter.days == 7
    assert summer.home.week == "2015-06-15"
    assert winter.home.week == "2015-01-12"


@pytest.mark.parametrize(
    ("doc", "field"),
    [
        ({"start": "2026-06-15T00:00:00"}, "start"),
        ({"start": "2026-06-15T00:00:00+02:00", "home": {"preset": "spring"}}, "home.preset"),
        (
            {"start": "2026-06-15T00:00:00+02:00", "home": {"preset": "summer", "batt_kwh": 3}},
            "home.batt_kwh",
        ),
        ({"start": "2026-06-15T00:00:00+02:00", "dayz": 1}, "dayz"),
        ({"start": "2026-06-15T00:00:00+02:00", "faults": [{"at_h": 1, "kind": "meteor"}]}, "faults[0].kind"),
        (
            {
                "start": "2026-06-15T00:00:00+02:00",
                "faults": [{"at_h": 1, "kind": "modbus_gone", "device": "x"}],
            },
            "faults[0].device",
        ),
        (
            {
                "start": "2026-06-15T00:00:00+02:00",
                "faults": [{"at_h": 1, "kind": "mqtt_silent", "device": "thermostat"}],
            },
            "faults[0].duration_s",
        ),
        (
            {"start": "2026-06-15T00:00:00+02:00", "faults": [{"at_h": 1, "kind": "clock_jump"}]},
            "faults[0].seconds",
        ),
        ({"start": "2026-06-15T00:00:00+02:00", "speed": "fast"}, "speed"),
    ],
)
def test_bad_scenarios_name_the_key(doc: dict[str, object], field: str) -> None:
    with pytest.raises(ScenarioError) as e:
        parse_scenario(doc)
    assert e.value.field == field


def test_the_rigs_agent_leaves_to_spot_what_a_quote_would_not_make_cheaper() -> None:
    week = load_scenario(SCENARIOS / "summer_week.yaml")
    rules = scenario_tariff(week).rules
    gap = float(2 * rules.half_spread_per_kwh)  # between the retailer's best ask and bid; spot is the mid
    spread = installer_spread_per_kwh(rules)
    assert 0.0 < spread < gap  # half of it short of the best ask: a quote no better than spot stays unbought
    assert float(rules.sell_price(Decimal("0.05"), 0)) > 0.05 + float(rules.retail_adder_per_kwh) + spread / 2
