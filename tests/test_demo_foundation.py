"""The foundation demo trades and settles a real day; its bill must add up independently."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest

from agent.cli.main import main
from agent.demo_foundation import run_day
from agent.ledger import Ledger


def test_demo_day_bill_matches_ledger_and_energy_balance(tmp_path: Path) -> None:
    result = run_day(tmp_path)
    assert result.settled == 96
    with Ledger.open(tmp_path) as ledger:
        settlements = ledger.settlements()
        assert len(settlements) == 96
        assert ledger.integrity_check() == ["ok"]
        # Forward energy + deviations must equal what the meter counted.
        deviation_kwh = sum((s.deviation_kwh for s in settlements), Decimal(0))
    assert abs(result.forward_kwh + deviation_kwh - result.metered_kwh) < Decimal("1e-9")
    assert result.total == result.forward + result.spot
    assert Decimal(0) < result.total < result.flat_tariff * 2


def test_demo_command_prints_the_bill(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["demo", "--foundation"]) == 0
    out = capsys.readouterr().out
    assert "96 settled" in out
    assert "foundation stage" in out
