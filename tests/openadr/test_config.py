"""``market: {type: openadr}`` in the tariff: what check-config accepts and what it names, by line."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest

from agent.cli.main import main
from agent.config import parse_config
from agent.config.openadr import OpenAdrMarket
from agent.config.tariff import FixedMarketPrice

EXAMPLE = Path(__file__).parents[2] / "configs" / "examples" / "openadr_price_program.yaml"


def _check(tmp_path: Path, text: str, capsys: pytest.CaptureFixture[str]) -> tuple[int, list[str]]:
    path = tmp_path / "hems.yaml"
    path.write_text(text)
    code = main(["check-config", str(path)])
    captured = capsys.readouterr()
    return code, (captured.out + captured.err).strip().splitlines()


def test_the_example_is_an_openadr_program() -> None:
    config = parse_config(EXAMPLE.read_text(), env={})
    assert config.market.tariff is not None
    market = config.market.tariff.market
    assert isinstance(market, OpenAdrMarket)
    assert (market.ven_name, str(market.price_per_kwh), market.opt_in) == ("home-1234", "0.14", True)


def test_a_market_without_a_type_is_still_the_fixed_price() -> None:
    text = EXAMPLE.read_text().split("market:\n  price_max_per_kwh")[0] + (
        "market:\n  source:\n    type: tariff\n    market: {price_per_kwh: 0.2}\n"
        "devices:\n  grid: {role: meter, driver: {type: simulated}}\n"
    )
    config = parse_config(text, env={})
    assert config.market.tariff is not None
    assert config.market.tariff.market == FixedMarketPrice(price_per_kwh=Decimal("0.2"))


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (
            ("http://127.0.0.1:8080", "http://vtn.example.com"),
            ":30: market.source.market.vtn_url: plain http is for a VTN on this machine only",
        ),
        (
            ("http://127.0.0.1:8080", "https://vtn.example.com"),
            ":28: market.source.market.tls: an https VTN needs 'tls'",
        ),
        (
            ("type: openadr", "type: opendr"),
            ":29: market.source.market.type: unknown type 'opendr'; "
            "allowed: fixed, entsoe, awattar, octopus, openadr",
        ),
        (
            ("        2: 0.80 ", "        4: 0.80 "),
            ":38: market.source.market.simple_levels[4]: must be <= 3",
        ),
        (
            ("        3: 1.20 ", "        3: 2.20 "),
            ":39: market.source.market.simple_levels[3]: at SIMPLE level 3: import price 2.36",
        ),
        (("hold_h: 24", "hold_h: 0"), ":41: market.source.market.hold_h: must be > 0"),
    ],
)
def test_bad_program_settings_are_named_with_their_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], change: tuple[str, str], expected: str
) -> None:
    old, new = change
    text = EXAMPLE.read_text()
    assert old in text
    code, lines = _check(tmp_path, text.replace(old, new), capsys)
    assert code == 2
    assert any(expected in line for line in lines), lines


def test_certificates_need_an_https_vtn(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    for name in ("ven.crt", "ven.key", "ca.crt"):
        (tmp_path / name).write_text("x")
    text = EXAMPLE.read_text().replace(
        "      opt_in: true\n",
        "      opt_in: true\n      tls: {cert_file: ven.crt, key_file: ven.key, ca_file: ca.crt}\n",
    )
    code, lines = _check(tmp_path, text, capsys)
    assert code == 2
    assert any("market.source.market.tls: certificates need an https vtn_url" in line for line in lines), (
        lines
    )
