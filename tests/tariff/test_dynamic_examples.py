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
    OctopusRate,
    OctopusServer,
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


def _agile_server() -> OctopusServer:
    # London's local days of 12, 13 and 14 June 2026 (BST, UTC+1) at 10, 20 and 30 p/kWh before
    # VAT; on the 14th, 18:00-18:30 is 18.9 p (19.845 p with VAT) and 18:30-19:00 is -2.8571 p
    # (-3.0 p). The 15th is not published yet.
    first = datetime(2026, 6, 11, 23, tzinfo=UTC)
    rates = []
    for day, pence in enumerate(("10.0", "20.0", "30.0")):
        for half in range(48):
            start = first + timedelta(days=day, minutes=30 * half)
            rates.append(OctopusRate(start, pence, str(float(pence) * 1.05)))
    special = {
        datetime(2026, 6, 14, 17, tzinfo=UTC): ("18.9", "19.845"),
        datetime(2026, 6, 14, 17, 30, tzinfo=UTC): ("-2.8571", "-3.0"),
    }
    return OctopusServer(
        "AGILE-24-10-01",
        "E-1R-AGILE-24-10-01-C",
        [OctopusRate(r.start, *special[r.start]) if r.start in special else r for r in rates],
    )


def test_uk_agile_tariff_by_hand(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    server = _agile_server()
    with serving(server.app()) as url:
        path = _config(tmp_path, "uk_agile_octopus.yaml", url)
        doc = _run(path, "2026-06-14T18:00:00+01:00", 1, capsys)
        rows = _by_start(doc)
        assert len(rows) == 4  # two half hours, two quarter hours each
        assert (
            server.behaviour.requests[0]["period_from"] == "2026-06-11T17:00:00Z"
        )  # 3 days to estimate from
        # 18:15: the rate before VAT 18.9 p = 0.189 GBP; 0.189 x 1.0 + 0 (nothing added to Agile's
        # rate) = 0.189, x 1.05 VAT = 0.19845 -- the API's own value_inc_vat, so VAT counts once.
        quarter = rows["2026-06-14T18:15:00+01:00"]
        assert (quarter["source"], quarter["state"]) == ("octopus", "firm")
        assert (quarter["market_per_kwh"], quarter["import_per_kwh"], quarter["export_per_kwh"]) == (
            "0.189",
            "0.19845",
            "0.05",
        )
        assert quarter["import_parts"] == {"market": "0.189", "vat": "0.00945"}
        assert rows["2026-06-14T18:00:00+01:00"]["import_per_kwh"] == "0.19845"
        # 18:30: -2.8571 p = -0.028571 GBP, x 1.05 = -0.02999955: the home is paid to import.
        assert rows["2026-06-14T18:45:00+01:00"]["import_per_kwh"] == "-0.02999955"
        assert doc["fixed_per_day"] == {"standing_charge": "0.4751"}
        assert doc["tenders"][0]["price_per_kwh"] == "0.19845"

        # Midnight on: the 15th is not published, so it is estimated as the mean of the same
        # quarter hour on the 14th, 13th and 12th: (0.30 + 0.20 + 0.10) / 3 = 0.20, x 1.05 = 0.21.
        doc = _run(path, "2026-06-14T23:00:00+01:00", 2, capsys)
    rows = _by_start(doc)
    late = rows["2026-06-14T23:45:00+01:00"]
    assert (late["state"], late["import_per_kwh"]) == ("firm", "0.315")  # 0.30 x 1.05
    early = rows["2026-06-15T00:15:00+01:00"]
    assert (early["state"], early["market_per_kwh"], early["import_per_kwh"]) == ("estimated", "0.2", "0.21")


def test_uk_agile_tariff_with_the_rate_including_vat(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # value_inc_vat and a multiplier of 1: the same price as before VAT x 1.05.
    server = _agile_server()
    with serving(server.app()) as url:
        path = _config(tmp_path, "uk_agile_octopus.yaml", url)
        doc = yaml.safe_load(path.read_text())
        doc["market"]["source"]["market"]["vat_included"] = True
        doc["market"]["source"]["vat_multiplier"] = 1.0
        path.write_text(yaml.safe_dump(doc))
        rows = _by_start(_run(path, "2026-06-14T18:00:00+01:00", 1, capsys))
        assert (
            main(["tariff", "--config", str(path), "--start", "2026-06-14T18:00:00+01:00", "--hours", "1"])
            == 0
        )
    table = capsys.readouterr().out.splitlines()
    assert table[1].startswith(
        "market price source: octopus unit rates of E-1R-AGILE-24-10-01-C (with VAT); "
        "after the last published rate: estimated"
    )
    assert rows["2026-06-14T18:15:00+01:00"]["market_per_kwh"] == "0.19845"
    assert rows["2026-06-14T18:15:00+01:00"]["import_per_kwh"] == "0.19845"
    assert rows["2026-06-14T18:45:00+01:00"]["import_per_kwh"] == "-0.03"
