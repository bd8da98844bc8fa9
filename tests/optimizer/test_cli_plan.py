"""``hems plan``: the example scenarios plan, the table and JSON read right, bad input exits 2."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from agent.cli.main import main

SCENARIOS = Path(__file__).resolve().parents[2] / "scenarios"


@pytest.mark.parametrize("name", ["arbitrage", "negative_export", "pv_surplus", "cold_snap", "late_ev"])
def test_example_scenarios_plan_as_json(name: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["plan", "--scenario", str(SCENARIOS / f"{name}.yaml"), "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert len(out["intervals"]) == out["horizon"] == 96
    assert len(out["marginal_value_per_kwh"]) == 96
    assert out["solver"]["max_violation"] <= 1e-3
    assert out["total_cost"] == pytest.approx(sum(out["cost"].values()))
    series = out["series"]
    if name == "negative_export":
        # Export at a negative price costs money: PV is curtailed in those hours.
        assert max(series["pv_curtail_kw"]) > 1.0
    if name == "late_ev":
        assert out["cost"]["ev_penalty"] > 0  # the target cannot be met and the plan says so
        assert max(series["ev_kw"]) == pytest.approx(11.0, abs=1e-3)
    if name == "cold_snap":
        assert min(series["indoor_c"]) >= 19.5 - 1e-3


def test_table_lists_every_interval_and_the_costs(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["plan", "--scenario", str(SCENARIOS / "arbitrage.yaml"), "--bids", "1"]) == 0
    out = capsys.readouterr().out
    assert "2015-11-23T00:00:00+01:00" in out and "2015-11-23T23:45:00+01:00" in out
    assert "cost by component:" in out and "total" in out
    assert "bids 2015-11-23T00:00:00+01:00" in out


@pytest.mark.parametrize(
    ("patch", "key"),
    [
        ({"devices": {"battery": {"capacity_kwh": -1, "charge_max_kw": 1, "discharge_max_kw": 1,
                                  "energy_kwh": 0}}},
         "devices.battery.capacity_kwh"),
        ({"devices": {"battery": {"capacty_kwh": 5}}}, "devices.battery.capacty_kwh"),
        ({"horizon": 0}, "horizon"),
        ({"step": "PT7M"}, "step"),
        ({"data": {"base_load_kw": "nosuchseries"}}, "data.base_load_kw"),
        ({"data": {"load": 1}}, "data.load"),
        ({"data": {"base_load_kw": {"csv": "data/missing.csv", "column": "a"}}}, "data.base_load_kw"),
        # the old format is refused with a pointer to the new key
        ({"base_load_kw": 1}, "data.base_load_kw"),
    ],
)  # fmt: skip
def test_bad_scenarios_exit_2_naming_the_key(
    patch: dict[str, object], key: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    import yaml

    doc = yaml.safe_load((SCENARIOS / "arbitrage.yaml").read_text())
    doc.update(patch)
    (tmp_path / "data").symlink_to(SCENARIOS / "data")
    path = tmp_path / "bad.yaml"
    path.write_text(yaml.safe_dump(doc))
    assert main(["plan", "--scenario", str(path)]) == 2
    assert key in capsys.readouterr().err


def test_missing_file_exits_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["plan", "--scenario", str(tmp_path / "nope.yaml")]) == 2
    assert "nope.yaml" in capsys.readouterr().err
