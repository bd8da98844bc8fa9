"""``hems tariff`` under an OpenADR program: the prices the running agent last heard, source and state."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

import pytest

from agent.cli.main import main
from agent.clock import RealClock
from agent.market.intervals import Duration
from agent.openadr import PriceSpan, ProgramBook, ProgramEvent
from tests.openadr.conftest import HOME, home_config, next_hour

URL = "http://127.0.0.1:8080/OpenADR2/Simple/2.0b"


def _write_config(tmp_path: Path) -> Path:
    (tmp_path / "state").mkdir()
    path = tmp_path / "hems.yaml"
    path.write_text(HOME.format(state_dir=tmp_path / "state", url=URL, extra="", timeout_s=15))
    return path


def _save_program(state_dir: Path, *, heard: bool) -> None:
    """What the running agent's VEN saved after hearing an event (the same book and file)."""
    config = home_config(state_dir, URL)
    book = ProgramBook(
        Decimal("0.14"),
        "USD",
        config.zone,
        RealClock(),
        step=Duration.PT15M,
        hold_s=3600,
        state_dir=state_dir,
    )
    if heard:
        book.heard()
    start = next_hour()
    span = PriceSpan(start, start + timedelta(hours=1), "price", Decimal("0.42"))
    book.put(ProgramEvent("cpp-7", 1, 0, start, "oadr://u/p", "far", (span,)))
    asyncio.run(book.save())


def test_json_shows_the_event_hour_indicative_and_the_rest_firm(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = _write_config(tmp_path)
    _save_program(tmp_path / "state", heard=True)
    start = next_hour()
    assert (
        main(["tariff", "--config", str(path), "--json", "--start", start.isoformat(), "--hours", "2"]) == 0
    )
    doc = json.loads(capsys.readouterr().out)
    assert doc["source"] == "openadr"
    assert [(i["import_per_kwh"], i["state"]) for i in doc["intervals"]] == [("0.58", "indicative")] * 4 + [
        ("0.3", "firm")
    ] * 4
    sells = [t["price_per_kwh"] for t in doc["tenders"] if t["side"] == "sell"]
    assert sells == ["0.58"] * 4 + ["0.3"] * 4
    assert doc["openadr"]["held"] is True
    assert [e["event_id"] for e in doc["openadr"]["events"]] == ["cpp-7"]
    assert doc["openadr"]["vtn_url"] == URL


def test_the_table_says_where_the_prices_come_from(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = _write_config(tmp_path)
    _save_program(tmp_path / "state", heard=True)
    assert main(["tariff", "--config", str(path), "--start", next_hour().isoformat(), "--hours", "1"]) == 0
    out = capsys.readouterr().out
    assert f"OpenADR VTN {URL} as VEN 'home', last heard " in out
    assert "1 event(s)" in out
    assert "indicative" in out


def test_a_program_never_heard_is_the_base_rate_and_says_so(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = _write_config(tmp_path)
    _save_program(tmp_path / "state", heard=False)
    assert (
        main(["tariff", "--config", str(path), "--json", "--start", next_hour().isoformat(), "--hours", "1"])
        == 0
    )
    doc = json.loads(capsys.readouterr().out)
    assert [(i["import_per_kwh"], i["state"]) for i in doc["intervals"]] == [("0.3", "firm")] * 4
    assert doc["openadr"]["held"] is False
    assert main(["tariff", "--config", str(path), "--start", next_hour().isoformat(), "--hours", "1"]) == 0
    assert "not heard yet" in capsys.readouterr().out


def test_a_bill_under_a_program_is_refused_rather_than_priced_at_the_base_rate(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = _write_config(tmp_path)
    assert main(["tariff", "--config", str(path), "--bill", "--hours", "24"]) == 2
    assert "--bill is not available under an OpenADR price program" in capsys.readouterr().err


def test_the_cli_starts_without_importing_openleadr() -> None:
    # Guards the CLI's start-up time: openleadr takes about a second to import on a gateway.
    code = (
        "import sys; from agent.cli.main import build_parser; build_parser(); "
        "print('openleadr' in sys.modules)"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=True
    )
    assert out.stdout.strip() == "False"
