"""``hems tariff --bill`` bills the meter readings stored in a real SQLite ledger, by hand."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import yaml

from agent.cli.main import main
from agent.ledger import Ledger
from agent.market.settlement import MeterReading

ROOT = Path(__file__).parents[2]
LA = ZoneInfo("America/Los_Angeles")


def _config(tmp_path: Path) -> Path:
    doc = yaml.safe_load((ROOT / "configs" / "examples" / "us_tou.yaml").read_text())
    doc["state_dir"] = str(tmp_path / "state")
    path = tmp_path / "hems.yaml"
    path.write_text(yaml.safe_dump(doc))
    return path


def test_bill_from_stored_readings(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config = _config(tmp_path)
    # Wednesday 2026-07-15, 14:00-18:00: a reading every 15 minutes; the import counter rises
    # 0.5 kWh per quarter hour (2 kWh an hour), export 0.25 per quarter hour from 14:00 to 15:00.
    start = datetime(2026, 7, 15, 14, 0, tzinfo=LA)
    with Ledger.open(tmp_path / "state", LA, home_party="home") as ledger:
        for k in range(17):
            ts = start + timedelta(minutes=15 * k)
            exported = Decimal("0.25") * min(k, 4)
            ledger.add_reading(
                MeterReading("grid", ts, Decimal(100) + Decimal("0.5") * k, Decimal(7) + exported)
            )
    code = main(
        ["tariff", "--config", str(config), "--bill", "--json", "--start", start.isoformat(), "--hours", "4"]
    )
    out = capsys.readouterr().out
    assert code == 0, out
    doc = json.loads(out)
    lines = {x["component"]: (x["quantity"], x["unit"], Decimal(x["amount"])) for x in doc["lines"]}
    # 14:00 off-peak, 15:00 part peak, 16:00 and 17:00 peak; 2 kWh each hour.
    assert lines["generation"] == ("8.0", "kWh", Decimal("1.30"))  # 2 x (0.11 + 0.14 + 0.20 + 0.20)
    assert lines["delivery"] == ("8.0", "kWh", Decimal("2.14"))  # 2 x (0.22 + 0.25 + 0.30 + 0.30)
    assert lines["export"] == ("1.0", "kWh", Decimal("-0.04"))
    assert lines["base_services"] == ("1.0", "day", Decimal("0.39"))
    # generation 1.30 + delivery 2.14 - export 0.04 + base 0.39
    assert Decimal(doc["total"]) == Decimal("3.79")
    assert doc["unmetered"] == []


def test_intervals_without_readings_are_listed_not_guessed(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = _config(tmp_path)
    start = datetime(2026, 7, 15, 14, 0, tzinfo=LA)
    with Ledger.open(tmp_path / "state", LA, home_party="home") as ledger:
        for k in range(5):  # readings only through 15:00
            ts = start + timedelta(minutes=15 * k)
            ledger.add_reading(MeterReading("grid", ts, Decimal(k), Decimal(0)))
    assert (
        main(
            [
                "tariff",
                "--config",
                str(config),
                "--bill",
                "--json",
                "--start",
                start.isoformat(),
                "--hours",
                "2",
            ]
        )
        == 0
    )
    doc = json.loads(capsys.readouterr().out)
    assert doc["unmetered"] == [f"2026-07-15T15:{m:02d}:00-07:00" for m in (0, 15, 30, 45)]
    # 14:00-15:00 billed: 4 kWh off-peak x (0.11 + 0.22) + the day's 0.39
    assert Decimal(doc["total"]) == Decimal("1.71")


def test_bill_without_a_ledger_exits_1(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code = main(
        ["tariff", "--config", str(_config(tmp_path)), "--bill", "--start", "2026-07-15T00:00:00-07:00"]
    )
    assert code == 1
    assert capsys.readouterr().err.startswith("hems tariff: ")
