"""`hems tariff --json` on the dynamic examples, their services answered by local servers, checked by hand."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml

from agent.cli.main import main
from tests.tariff.price_servers import (
    TOKEN,
    AwattarEntry,
    AwattarServer,
    EntsoePeriod,
    EntsoeServer,
    serving,
)

EXAMPLES = Path(__file__).parents[2] / "configs" / "examples"
DE_LU = "10Y1001A1001A82H"


def _config(tmp_path: Path, example: str, base_url: str) -> Path:
    doc = yaml.safe_load((EXAMPLES / example).read_text())
    doc["market"]["source"]["market"]["base_url"] = base_url
    doc["state_dir"] = str(tmp_path / "state")
    path = tmp_path / example
    path.write_text(yaml.safe_dump(doc))
    return path


def _run(path: Path, start: str, hours: int, capsys: pytest.CaptureFixture[str]) -> dict[str, Any]:
    args = ["tariff", "--config", str(path), "--json", "--start", start, "--hours", str(hours)]
    assert main(args) == 0
    doc: dict[str, Any] = json.loads(capsys.readouterr().out)
    return doc


def _by_start(doc: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {i["start"]: i for i in doc["intervals"]}


@pytest.fixture
def entsoe() -> Iterator[tuple[EntsoeServer, str]]:
    server = EntsoeServer(
        DE_LU,
        [
            EntsoePeriod(datetime(2026, 6, 11, 22, tzinfo=UTC), "PT60M", ["30"] * 24),
            EntsoePeriod(datetime(2026, 6, 12, 22, tzinfo=UTC), "PT60M", ["60"] * 24),
            # The 14th: 10 x the local hour in EUR/MWh; the 15th is not published yet.
            EntsoePeriod(datetime(2026, 6, 13, 22, tzinfo=UTC), "PT60M", [str(10 * h) for h in range(24)]),
        ],
    )
    with serving(server.app()) as url:
        yield server, f"{url}/api"


def test_german_dynamic_tariff_by_hand(
    entsoe: tuple[EntsoeServer, str],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    server, url = entsoe
    monkeypatch.setenv("ENTSOE_TOKEN", TOKEN)
    path = _config(tmp_path, "de_dynamic_entsoe.yaml", url)
    doc = _run(path, "2026-06-14T19:00:00+02:00", 8, capsys)
    assert server.behaviour.requests[0]["in_Domain"] == DE_LU
    rows = _by_start(doc)
    assert len(rows) == 32  # eight hours of quarter hours
    # 19:00, high network window: market 190 EUR/MWh.
    # (0.19 + 0.025 margin + 0.0205 tax + 0.13 network + 0.032 levies + 0.0199 concession) x 1.19
    # = 0.4174 x 1.19 = 0.496706
    high = rows["2026-06-14T19:45:00+02:00"]
    assert (high["source"], high["state"], high["period"]) == ("entsoe", "firm", "high")
    assert (high["market_per_kwh"], high["import_per_kwh"], high["export_per_kwh"]) == (
        "0.19",
        "0.496706",
        "0.0786",
    )
    # 20:00, standard: (0.2 + 0.025 + 0.0205 + 0.09 + 0.032 + 0.0199) x 1.19 = 0.3874 x 1.19 = 0.461006
    standard = rows["2026-06-14T20:00:00+02:00"]
    assert (standard["period"], standard["import_per_kwh"]) == ("standard", "0.461006")
    # 00:00 on the 15th is not published: estimated as the mean of 0 (14th), 60 (13th) and 30
    # (12th) EUR/MWh = 0.03; low window: (0.03 + 0.025 + 0.0205 + 0.023 + 0.032 + 0.0199) x 1.19
    # = 0.1504 x 1.19 = 0.178976
    late = rows["2026-06-15T00:15:00+02:00"]
    assert (late["source"], late["state"], late["period"]) == ("entsoe", "estimated", "low")
    assert (late["market_per_kwh"], late["import_per_kwh"]) == ("0.03", "0.178976")
    assert {r["state"] for s, r in rows.items() if s < "2026-06-15"} == {"firm"}
    assert {r["state"] for s, r in rows.items() if s >= "2026-06-15"} == {"estimated"}


def test_a_source_down_with_nothing_cached_is_a_runtime_failure(
    entsoe: tuple[EntsoeServer, str],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    server, url = entsoe
    server.behaviour.fail_status = 503
    monkeypatch.setenv("ENTSOE_TOKEN", TOKEN)
    path = _config(tmp_path, "de_dynamic_entsoe.yaml", url)
    args = ["tariff", "--config", str(path), "--json", "--start", "2026-06-14T19:00:00+02:00", "--hours", "2"]
    assert main(args) == 1
    err = capsys.readouterr().err
    assert "no market prices to plan with; last error: ENTSO-E: HTTP 503" in err
    assert TOKEN not in err


def test_austrian_hourly_tariff_by_hand(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # Vienna, 2026-06-14 12:00 and 13:00 local (10:00 and 11:00 UTC): 100 and -20 EUR/MWh.
    start = datetime(2026, 6, 14, 10, tzinfo=UTC)
    server = AwattarServer(
        [AwattarEntry(start, 60, 100.0), AwattarEntry(start + timedelta(hours=1), 60, -20.0)]
    )
    with serving(server.app()) as url:
        path = _config(tmp_path, "at_dynamic_awattar.yaml", url)
        doc = _run(path, "2026-06-14T12:00:00+02:00", 2, capsys)
    rows = _by_start(doc)
    assert len(rows) == 8
    # (0.1 x 1.03 + 0.015 + 0.0611 + 0.0052 + 0.015 + 0.008) x 1.20 = 0.2073 x 1.2 = 0.24876; export 0.8 x 0.1
    noon = rows["2026-06-14T12:30:00+02:00"]
    assert (noon["source"], noon["state"]) == ("awattar", "firm")
    assert (noon["import_per_kwh"], noon["export_per_kwh"]) == ("0.24876", "0.08")
    # (-0.02 x 1.03 + 0.1043) x 1.2 = 0.0837 x 1.2 = 0.10044; export 0.8 x -0.02 = -0.016
    one = rows["2026-06-14T13:00:00+02:00"]
    assert (one["import_per_kwh"], one["export_per_kwh"]) == ("0.10044", "-0.016")
    assert doc["tenders"][0]["price_per_kwh"] == "0.24876"
