"""Every example contract in configs/examples/ passes ``hems check-config`` and prices a day."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from agent.cli.main import main

EXAMPLES = sorted((Path(__file__).parents[2] / "configs" / "examples").glob("*.yaml"))
# By name: other example contracts sort in between.
THREE_PERIOD = Path(__file__).parents[2] / "configs" / "examples" / "three_period.yaml"


def test_the_three_example_contracts_exist() -> None:
    assert {p.name for p in EXAMPLES} >= {
        "us_tou.yaml",
        "three_period.yaml",
        "flat_feed_in.yaml",
        "de_dynamic_entsoe.yaml",
        "at_dynamic_awattar.yaml",
        "uk_agile_octopus.yaml",
    }


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.name)
def test_example_passes_check_config(
    path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ENTSOE_TOKEN", "a-token-from-the-environment")  # the ENTSO-E example reads it
    assert main(["check-config", str(path)]) == 0
    assert capsys.readouterr().out.strip() == f"{path}: ok"


def test_three_period_winter_weekday_with_vat(capsys: pytest.CaptureFixture[str]) -> None:
    # Thursday 2026-01-15 in Berlin, 18:00-19:00: winter peak.
    # (0.1450 supply + 0.0205 tax + 0.1820 network + 0.0300 levies) x 1.19 = 0.3775 x 1.19 = 0.449225
    args = [
        "tariff",
        "--config",
        str(THREE_PERIOD),
        "--json",
        "--start",
        "2026-01-15T18:00:00+01:00",
        "--hours",
        "1",
    ]
    assert main(args) == 0
    doc = json.loads(capsys.readouterr().out)
    assert [(i["period"], i["import_per_kwh"], i["export_per_kwh"]) for i in doc["intervals"]] == [
        ("winter_peak", "0.449225", "0.0")
    ] * 4  # four quarter hours
    assert doc["intervals"][0]["import_parts"]["vat"] == "0.071725"  # 0.3775 x 0.19


def test_three_period_christmas_day_has_no_peak(capsys: pytest.CaptureFixture[str]) -> None:
    # Friday 2026-12-25 is a public holiday in Berlin: 17:00-18:00 is winter shoulder, not peak.
    # (0.1450 + 0.0205 + 0.0910 + 0.0300) x 1.19 = 0.2865 x 1.19 = 0.340935
    args = [
        "tariff",
        "--config",
        str(THREE_PERIOD),
        "--json",
        "--start",
        "2026-12-25T17:00:00+01:00",
        "--hours",
        "1",
    ]
    assert main(args) == 0
    doc = json.loads(capsys.readouterr().out)
    assert {(i["period"], i["import_per_kwh"], i["holiday"]) for i in doc["intervals"]} == {
        ("winter_shoulder", "0.340935", "Christmas Day")
    }
