"""The shipped contract weeks load, and what a run under a contract cannot do is refused by name."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest
import yaml

from agent.cli.main import main
from hil.sim.loop import run_simulation
from hil.sim.scenario import ScenarioError, load_scenario, parse_scenario

REPO = Path(__file__).resolve().parents[2]
SCENARIOS = REPO / "hil" / "scenarios"
EXPECTED = {
    "contract_us_tou.yaml": ("US three-period TOU (illustrative)", "USD", False),
    "contract_us_tou_demand.yaml": ("US three-period TOU with a demand charge (illustrative)", "USD", False),
    "contract_three_period.yaml": ("three-period network tariff (illustrative)", "EUR", False),
    "contract_flat_feed_in.yaml": ("flat rate with feed-in", "EUR", False),
    "contract_de_dynamic_entsoe.yaml": ("dynamic tariff, DE-LU day-ahead (illustrative)", "EUR", True),
    "contract_at_dynamic_awattar.yaml": ("hourly tariff, AT day-ahead (illustrative)", "EUR", True),
    "contract_at_dynamic_awattar_capacity.yaml": (
        "hourly tariff, AT day-ahead, with a capacity charge (illustrative)",
        "EUR",
        True,
    ),
    "contract_openadr_price_program.yaml": ("flat rate with an OpenADR critical-peak program", "USD", False),
    "contract_uk_agile_octopus.yaml": ("Agile-style half-hourly tariff, London (illustrative)", "GBP", True),
}


def test_one_week_per_example_contract() -> None:
    assert sorted(p.name for p in SCENARIOS.glob("contract_*.yaml")) == sorted(EXPECTED)
    for name, (contract, currency, dynamic) in EXPECTED.items():
        sc = load_scenario(SCENARIOS / name)
        assert sc.days == 7
        assert sc.contract is not None
        assert (sc.contract.name, sc.contract.currency, sc.contract.dynamic) == (contract, currency, dynamic)
        assert not [f for f in sc.faults if f.kind in ("retailer_silent", "bad_tender")]
        assert (sc.contract.program is not None) == (sc.contract.events is not None)


def _doc() -> dict[str, Any]:
    doc: dict[str, Any] = yaml.safe_load((SCENARIOS / "contract_us_tou.yaml").read_text(encoding="utf-8"))
    return doc


def test_retailer_faults_are_refused_under_a_contract() -> None:
    doc = _doc()
    doc["simulate"]["faults"] = [
        {"at_h": 1, "kind": "broker_restart"},
        {"at_h": 2, "kind": "retailer_silent", "duration_s": 60},
    ]
    with pytest.raises(
        ScenarioError, match=r"simulate\.faults\[1\]\.kind: retailer_silent needs the retailer"
    ):
        parse_scenario(doc, path=SCENARIOS / "x.yaml")


def test_a_contract_does_not_run_on_the_real_protocol_rig(tmp_path: Path) -> None:
    sc = parse_scenario(_doc(), path=SCENARIOS / "x.yaml")
    with pytest.raises(ScenarioError, match=r"simulate\.contract: a household contract runs on virtual time"):
        asyncio.run(run_simulation(sc, tmp_path))


@pytest.mark.parametrize("command", ["hil", "demo"])
def test_the_rig_on_its_wires_refuses_a_contract(command: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main([command, "--scenario", str(SCENARIOS / "contract_us_tou.yaml")]) == 2
    assert "simulate.contract: runs on virtual time" in capsys.readouterr().err
