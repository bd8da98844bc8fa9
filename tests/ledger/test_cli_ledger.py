"""``hems ledger`` on a ledger built on disk: the table, the JSON, and its exit codes."""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import pytest

from agent.cli.main import main
from agent.clock import ManualClock
from agent.ledger import Ledger
from agent.market.intervals import Duration
from agent.market.records import Product
from tests.ledger.helpers import BERLIN, HOME, RETAILER, at, block, reading, spot, tx

D = Decimal
SLOT = block("2026-03-29T10:00+02:00", Duration.PT5M)
PERIOD = ["--from", "2026-03-29T10:00+02:00", "--to", "2026-03-29T11:00+02:00"]


@pytest.fixture
def state(tmp_path: Path) -> Path:
    clock = ManualClock(at("2026-03-29T09:00+02:00"))
    with Ledger.open(tmp_path, BERLIN, home_party=HOME, clock=clock) as book:
        hour = block("2026-03-29T10:00+02:00", Duration.PT1H)
        book.add_transactions(
            [
                tx("fwd-1", hour, "1.2", "0.30"),
                tx(
                    "sold-1",
                    block("2026-03-29T10:30+02:00", Duration.PT15M),
                    "2",
                    "0.20",
                    buyer=RETAILER,
                    seller=HOME,
                ),
                tx("dso-1", hour, "1.2", "0.05", seller="dso", product=Product.TRANSPORT),
            ]
        )
        book.add_spot_price(spot(SLOT, "0.40"))
        book.add_readings([reading(SLOT.start, "1000", "50"), reading(SLOT.end, "1000.35", "50.05")])
        clock.advance(7200)  # 11:00, long after the slot closed
        book.settle(SLOT, HOME, "grid-meter")
    return tmp_path


def test_json_output_is_exact(state: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["ledger", "--state-dir", str(state), *PERIOD, "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["party"] == HOME
    assert [t["id"] for t in out["transactions"]] == ["dso-1", "fwd-1", "sold-1"]
    assert {t["id"]: t["signed_kw"] for t in out["transactions"]}["sold-1"] == "-2"
    # Positions: 1.2 kW all hour, minus 2 kW in 10:30-10:45.
    assert [(p["start"], p["intervals"], p["position_kw"]) for p in out["positions"]] == [
        ("2026-03-29T10:00:00+02:00", 6, "1.2"),
        ("2026-03-29T10:30:00+02:00", 3, "-0.8"),
        ("2026-03-29T10:45:00+02:00", 3, "1.2"),
    ]
    (settled,) = out["settlements"]
    # Exact decimal strings (trailing zeros are whatever the arithmetic gave; the values matter).
    assert [D(settled[k]) for k in ("net_kwh", "deviation_kwh", "amount")] == [D("0.3"), D("0.2"), D("0.08")]
    bill = out["bill"]
    assert [D(bill[k]) for k in ("forward_cost", "forward_revenue", "transport")] == [
        D("0.36"),
        D("0.1"),
        D("0.06"),
    ]
    assert D(bill["total"]) == D("0.36") - D("0.1") + D("0.06") + D("0.08")
    assert bill["currency"] == "EUR"


def test_table_output_rounds_for_display(state: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["ledger", "--state-dir", str(state), *PERIOD]) == 0
    text = capsys.readouterr().out
    assert "Transactions (3)" in text
    assert "Settlements (1)" in text
    assert "fwd-1" in text and "sold-1" in text
    total_line = next(line for line in text.splitlines() if line.strip().startswith("total"))
    assert total_line.split()[-1] == "0.40"
    assert "-0.800" in text  # the position run while 2 kW are sold back


def test_party_and_date_arguments(state: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert (
        main(["ledger", "--state-dir", str(state), "--from", "2026-03-29", "--party", "dso", "--json"]) == 0
    )
    out = json.loads(capsys.readouterr().out)
    assert out["from"] == "2026-03-29T00:00:00+01:00"
    assert out["to"] == "2026-03-30T00:00:00+02:00"  # a day later: 23 h on this DST day
    assert [t["id"] for t in out["transactions"]] == ["dso-1"]
    assert D(out["bill"]["transport"]) == D("-0.06")  # the DSO is paid


@pytest.mark.parametrize(
    ("args", "named"),
    [
        (["--from", "yesterday"], "--from"),
        (["--from", "2026-03-29T11:00+02:00", "--to", "2026-03-29T10:00+02:00"], "--to"),
        (["--interval", "PT7M"], "--interval"),
    ],
)
def test_bad_arguments_exit_2_naming_them(
    state: Path, capsys: pytest.CaptureFixture[str], args: list[str], named: str
) -> None:
    assert main(["ledger", "--state-dir", str(state), *args]) == 2
    assert named in capsys.readouterr().err


def test_ledger_without_home_party_needs_party(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    Ledger.open(tmp_path, BERLIN).close()
    assert main(["ledger", "--state-dir", str(tmp_path)]) == 2
    assert "--party" in capsys.readouterr().err
    assert main(["ledger", "--state-dir", str(tmp_path), "--party", HOME]) == 0


def test_unopenable_ledger_exits_1(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["ledger", "--state-dir", str(tmp_path / "nowhere")]) == 1
    assert "no ledger" in capsys.readouterr().err
    (tmp_path / "ledger.sqlite3").write_text("garbage " * 1000)
    assert main(["ledger", "--state-dir", str(tmp_path)]) == 1


def test_installed_console_script(state: Path) -> None:
    # The console script installed next to this interpreter, as a user would run it.
    hems = Path(sys.executable).parent / "hems"
    assert hems.exists(), "the package is not installed (pip install -e .)"
    done = subprocess.run(
        [str(hems), "ledger", "--state-dir", str(state), *PERIOD, "--json"],
        check=False,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    assert D(json.loads(done.stdout)["bill"]["spot"]) == D("0.08")


def test_a_row_too_large_to_bill_is_named_not_a_traceback(
    state: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # Guards `hems ledger` failing with a Decimal overflow traceback on a quantity of 1e999999999 kW
    # that an earlier codec let into the ledger.
    conn = sqlite3.connect(state / "ledger.sqlite3")
    try:
        conn.execute("DROP TRIGGER transactions_no_update")
        conn.execute("UPDATE transactions SET quantity_kw = '1e999999999' WHERE id = 'fwd-1'")
        conn.commit()
    finally:
        conn.close()
    assert main(["ledger", "--state-dir", str(state), *PERIOD, "--json"]) == 1
    err = capsys.readouterr().err
    assert "quantity_kw" in err
    assert "Traceback" not in err
