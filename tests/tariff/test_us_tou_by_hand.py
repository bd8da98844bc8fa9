"""``hems tariff --json`` on the shipped US TOU example, against prices worked out by hand.

The example (configs/examples/us_tou.yaml) in USD/kWh, import = generation + delivery:

    period          summer  winter
    peak            0.50    0.36    weekdays 16:00-21:00
    part peak       0.39    0.32    every day 15:00-16:00 and 21:00-24:00
    off peak        0.33    0.30    the rest; all of weekends and US federal holidays but part peak

Summer is 06-01..09-30. Export is a fixed 0.04. Each day below is priced hour by hour by hand.
"""

from __future__ import annotations

import json
import subprocess
import sys
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from agent.cli.main import main

ROOT = Path(__file__).parents[2]
US_TOU = ROOT / "configs" / "examples" / "us_tou.yaml"

OFF_S, PART_S, PEAK_S = ("summer_off_peak", "0.33"), ("summer_part_peak", "0.39"), ("summer_peak", "0.5")
OFF_W, PART_W = ("winter_off_peak", "0.3"), ("winter_part_peak", "0.32")


def _tariff_json(capsys: pytest.CaptureFixture[str], start: str, hours: int) -> dict[str, Any]:
    code = main(["tariff", "--config", str(US_TOU), "--json", "--start", start, "--hours", str(hours)])
    out = capsys.readouterr().out
    assert code == 0, out
    result: dict[str, Any] = json.loads(out)
    return result


def _rows(doc: dict[str, Any]) -> list[tuple[str, str, str, str]]:
    return [(i["start"], i["period"], i["import_per_kwh"], i["export_per_kwh"]) for i in doc["intervals"]]


def _day(date: str, offset: str, hours: list[tuple[int, tuple[str, str]]]) -> list[tuple[str, str, str, str]]:
    return [(f"{date}T{h:02d}:00:00{offset}", period, price, "0.04") for h, (period, price) in hours]


def _summer_weekend(date: str) -> list[tuple[str, str, str, str]]:
    hours = [(h, OFF_S) for h in range(15)] + [(15, PART_S)] + [(h, OFF_S) for h in range(16, 21)]
    return _day(date, "-07:00", hours + [(h, PART_S) for h in range(21, 24)])


def test_summer_weekday(capsys: pytest.CaptureFixture[str]) -> None:
    doc = _tariff_json(capsys, "2026-07-15T00:00:00-07:00", 24)  # a Wednesday
    hours = [(h, OFF_S) for h in range(15)] + [(15, PART_S)] + [(h, PEAK_S) for h in range(16, 21)]
    assert _rows(doc) == _day("2026-07-15", "-07:00", hours + [(h, PART_S) for h in range(21, 24)])
    # 15 h x 0.33 + 4 h x 0.39 + 5 h x 0.50
    assert sum(Decimal(i["import_per_kwh"]) for i in doc["intervals"]) == Decimal("9.01")
    assert doc["fixed_per_day"] == {"base_services": "0.39"}
    assert {i["state"] for i in doc["intervals"]} == {"firm"}


def test_summer_weekend_has_no_peak(capsys: pytest.CaptureFixture[str]) -> None:
    doc = _tariff_json(capsys, "2026-07-18T00:00:00-07:00", 24)  # a Saturday
    assert _rows(doc) == _summer_weekend("2026-07-18")
    assert sum(Decimal(i["import_per_kwh"]) for i in doc["intervals"]) == Decimal("8.16")


def test_public_holiday_on_a_friday_is_priced_as_a_weekend(capsys: pytest.CaptureFixture[str]) -> None:
    # 2026-07-04 is a Saturday, so Independence Day is observed on Friday 2026-07-03.
    doc = _tariff_json(capsys, "2026-07-03T00:00:00-07:00", 24)
    assert _rows(doc) == _summer_weekend("2026-07-03")
    assert {i["holiday"] for i in doc["intervals"]} == {"Independence Day (observed)"}


def test_spring_forward_day_has_23_hours(capsys: pytest.CaptureFixture[str]) -> None:
    # Sunday 2026-03-08 in Los Angeles: 02:00 PST jumps to 03:00 PDT.
    doc = _tariff_json(capsys, "2026-03-08T00:00:00-08:00", 23)
    expected = [
        ("2026-03-08T00:00:00-08:00", *OFF_W, "0.04"),
        ("2026-03-08T01:00:00-08:00", *OFF_W, "0.04"),
        *_day("2026-03-08", "-07:00", [(h, OFF_W) for h in range(3, 15)]),
        *_day("2026-03-08", "-07:00", [(15, PART_W)] + [(h, OFF_W) for h in range(16, 21)]),
        *_day("2026-03-08", "-07:00", [(h, PART_W) for h in range(21, 24)]),
    ]
    assert _rows(doc) == expected
    assert len(doc["intervals"]) == 23
    # 19 h x 0.30 + 4 h x 0.32
    assert sum(Decimal(i["import_per_kwh"]) for i in doc["intervals"]) == Decimal("6.98")


def test_fall_back_day_has_25_hours(capsys: pytest.CaptureFixture[str]) -> None:
    # Sunday 2026-11-01 in Los Angeles: 01:00 happens twice, PDT then PST.
    doc = _tariff_json(capsys, "2026-11-01T00:00:00-07:00", 25)
    expected = [
        ("2026-11-01T00:00:00-07:00", *OFF_W, "0.04"),
        ("2026-11-01T01:00:00-07:00", *OFF_W, "0.04"),
        ("2026-11-01T01:00:00-08:00", *OFF_W, "0.04"),
        *_day("2026-11-01", "-08:00", [(h, OFF_W) for h in range(2, 15)]),
        *_day("2026-11-01", "-08:00", [(15, PART_W)] + [(h, OFF_W) for h in range(16, 21)]),
        *_day("2026-11-01", "-08:00", [(h, PART_W) for h in range(21, 24)]),
    ]
    assert _rows(doc) == expected
    # 21 h x 0.30 + 4 h x 0.32
    assert sum(Decimal(i["import_per_kwh"]) for i in doc["intervals"]) == Decimal("7.58")


def test_each_price_becomes_a_sell_and_a_buy_tender(capsys: pytest.CaptureFixture[str]) -> None:
    doc = _tariff_json(capsys, "2026-07-15T16:00:00-07:00", 1)
    assert [(t["side"], t["price_per_kwh"], t["party"], t["counterparty"]) for t in doc["tenders"]] == [
        ("sell", "0.5", "tariff", "home"),
        ("buy", "0.04", "tariff", "home"),
    ]
    assert doc["intervals"][0]["import_parts"] == {
        "market": "0.0",
        "generation": "0.2",
        "delivery": "0.3",
        "vat": "0.0",
    }


def test_installed_command_prints_the_default_48_hours() -> None:
    hems = Path(sys.executable).with_name("hems")
    run = subprocess.run(
        [str(hems), "tariff", "--config", str(US_TOU), "--json", "--start", "2026-07-15T00:00:00-07:00"],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert run.returncode == 0, run.stderr
    assert len(json.loads(run.stdout)["intervals"]) == 48


def test_a_config_without_a_tariff_exits_2(capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["tariff", "--config", str(ROOT / "configs" / "minimal.yaml"), "--json"])
    assert code == 2
    assert "market.source is not a tariff" in capsys.readouterr().err
