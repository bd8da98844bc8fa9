"""The contract's bill through the settler into SQLite on disk and out of ``hems ledger --json``, by hand.

The contract (Europe/Berlin, hourly metering)::

    period     window          energy  network
    peak       17:00-21:00     0.20    0.10
    off_peak   the rest        0.20    0.04
    VAT x1.25; export 0.08 fixed; standing 0.50 a day; meter 3.00 a month; demand 2.00/kW in peak

The day metered (Sunday 2026-03-01, the first of its month): 1 kWh every off-peak hour (20 h),
peak hours 2, 2, 3, 1 kWh (8 kWh); 0.5 kWh exported in each of 10:00-14:00 (2 kWh).

    energy   28 kWh x 0.20                    =  5.60
    network  20 x 0.04 + 8 x 0.10             =  1.60
    vat      (5.60 + 1.60) x 0.25             =  1.80
    export   -2 x 0.08                        = -0.16
    standing 1 day                            =  0.50
    meter    1 month                          =  3.00
    demand   3 kW (19:00) x 2.00              =  6.00
    total                                       18.34
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from agent.cli.main import main
from agent.clock import ManualClock
from agent.config import Config, parse_config
from agent.dispatch import Sample, Snapshot
from agent.ledger import Ledger
from agent.market.intervals import Duration
from agent.runtime.settler import Settler
from agent.tariff import MarketPrice, TariffCounterparty, TariffError
from agent.tariff.contract_book import ContractBook
from agent.tariff.sources import MarketPriceSource, PriceState

BERLIN = ZoneInfo("Europe/Berlin")
DAY = datetime(2026, 3, 1, tzinfo=BERLIN)
CONTRACT = """\
site: {id: home, timezone: Europe/Berlin, latitude: 52.5, longitude: 13.4, currency: EUR}
metering_interval: PT1H
planner: {step: PT1H}
devices:
  grid: {role: meter, driver: {type: simulated}}
market:
  source:
    type: tariff
    periods:
      - {name: peak, from: "17:00", to: "21:00"}
      - {name: off_peak}
    energy_per_kwh: {energy: 0.20}
    network_per_kwh: {network: {peak: 0.10, off_peak: 0.04}}
    vat_multiplier: 1.25
    export: {type: fixed, price_per_kwh: 0.08}
    fixed_per_day: {standing: 0.50}
    fixed_per_month: {meter: 3.00}
    demand: {per_kw: 2.00, periods: [peak]}
"""
# kWh imported and exported in each local hour of the day.
IMPORT_KWH = {h: Decimal(1) for h in range(24)} | {17: Decimal(2), 18: Decimal(2), 19: Decimal(3)}
EXPORT_KWH = {h: Decimal("0.5") for h in range(10, 14)}


def _config(tmp_path: Path) -> Config:
    return parse_config(CONTRACT + f"state_dir: {tmp_path / 'state'}\n", env={})


class Agent:
    """The settler as the running agent builds it under a tariff, on a ledger file in ``state``."""

    def __init__(self, config: Config, clock: ManualClock, source: MarketPriceSource | None = None) -> None:
        assert config.market.tariff is not None
        self.ledger = Ledger.open(config.state_dir, config.zone, home_party=config.party_id, clock=clock)
        cp = TariffCounterparty(config, source, clock=clock)
        book = ContractBook(self.ledger, cp, config.market.tariff, party="home", meter="grid", currency="EUR")
        self.settler = Settler(
            self.ledger, meter="grid", party="home", metering=Duration.PT1H, clock=clock, contract=book
        )
        self.clock = clock

    def _to(self, when: datetime) -> None:
        self.clock.advance((when - self.clock.now()).total_seconds())

    async def meter_until(self, hour: int, first_hour: int = 0) -> None:
        """Read the meter at each hour from ``first_hour`` to ``hour``, settling as the agent does."""
        for h in range(first_hour, hour + 1):
            self._to(DAY + timedelta(hours=h))
            imported = sum((IMPORT_KWH[k] for k in range(h)), Decimal(100))
            exported = sum((EXPORT_KWH.get(k, Decimal(0)) for k in range(h)), Decimal(10))
            meter = {
                "meter.import_kwh": Sample(float(imported), "kWh", 0.0),
                "meter.export_kwh": Sample(float(exported), "kWh", 0.0),
            }
            await self.settler.record(Snapshot(self.clock.now(), self.clock.monotonic_s(), {"grid": meter}))
            # Past the reading tolerance (60 s) the closed hour is due.
            self._to(DAY + timedelta(hours=h, seconds=61))
            await self.settler.settle_due()


def _ledger_json(tmp_path: Path, capsys: pytest.CaptureFixture[str], frm: str, to: str) -> dict[str, object]:
    code = main(["ledger", "--state-dir", str(tmp_path / "state"), "--from", frm, "--to", to, "--json"])
    out = capsys.readouterr().out
    assert code == 0, out
    doc: dict[str, object] = json.loads(out)
    return doc


def _lines(doc: dict[str, object]) -> dict[str, tuple[str, str, Decimal]]:
    bill = doc["contract_bill"]
    assert isinstance(bill, dict)
    return {x["component"]: (x["unit"], x["quantity"], Decimal(x["amount"])) for x in bill["lines"]}


EXPECTED_DAY = {
    "market": ("kWh", Decimal(28), Decimal(0)),  # the contract's fixed market price is 0
    "energy": ("kWh", Decimal(28), Decimal("5.60")),
    "network": ("kWh", Decimal(28), Decimal("1.60")),
    "vat": ("kWh", Decimal(28), Decimal("1.80")),
    "export": ("kWh", Decimal(2), Decimal("-0.16")),
    "standing": ("day", Decimal(1), Decimal("0.50")),
    "meter": ("month", Decimal(1), Decimal("3.00")),
    "demand": ("kW", Decimal(3), Decimal("6.00")),
}


def _exact(lines: dict[str, tuple[str, str, Decimal]]) -> dict[str, tuple[str, Decimal, Decimal]]:
    return {c: (u, Decimal(q), a) for c, (u, q, a) in lines.items()}


async def test_a_tou_day_billed_by_hand_through_the_settler(tmp_path: Path) -> None:
    config = _config(tmp_path)
    agent = Agent(config, ManualClock(DAY))
    await agent.meter_until(24)
    settled = agent.ledger.contract_settlements("home")
    assert len(settled) == 24
    assert [s.interval.start.hour for s in settled] == list(range(24))
    assert {s.price_state for s in settled} == {"firm"}
    # 19:00 alone: 3 kWh x (0.20 + 0.10) x 1.25 = 1.125, and the peak's rise 2 -> 3 kW x 2.00.
    assert settled[19].amount == Decimal("1.125") + Decimal("2.00")
    agent.ledger.close()


async def test_hems_ledger_json_shows_the_day_by_component(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    agent = Agent(_config(tmp_path), ManualClock(DAY))
    await agent.meter_until(24)
    agent.ledger.close()
    doc = _ledger_json(tmp_path, capsys, "2026-03-01", "2026-03-02")
    assert _exact(_lines(doc)) == EXPECTED_DAY
    bill = doc["contract_bill"]
    assert isinstance(bill, dict)
    assert Decimal(bill["total"]) == Decimal("18.34")
    energy = (bill["intervals"], Decimal(bill["import_kwh"]), Decimal(bill["export_kwh"]))
    assert energy == (24, Decimal(28), Decimal(2))
    # The table prints the same total.
    main(["ledger", "--state-dir", str(tmp_path / "state"), "--from", "2026-03-01", "--to", "2026-03-02"])
    table = capsys.readouterr().out
    assert "Contract bill (EUR; 24 metering intervals settled" in table
    assert table.rstrip().splitlines()[-1].split() == ["total", "18.34"]


async def test_a_restart_mid_day_settles_each_interval_once(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = _config(tmp_path)
    clock = ManualClock(DAY)
    first = Agent(config, clock)
    await first.meter_until(12)
    assert len(first.ledger.contract_settlements("home")) == 12
    first.ledger.close()
    # A new process on the same file: readings resume at 13:00, the morning is not billed again.
    second = Agent(config, clock)
    await second.meter_until(24, first_hour=13)
    starts = [s.interval.start.hour for s in second.ledger.contract_settlements("home")]
    assert starts == list(range(24))
    second.ledger.close()
    assert _exact(_lines(_ledger_json(tmp_path, capsys, "2026-03-01", "2026-03-02"))) == EXPECTED_DAY


async def test_a_period_holds_the_charges_that_start_in_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    agent = Agent(_config(tmp_path), ManualClock(DAY))
    await agent.meter_until(24)
    agent.ledger.close()
    # 17:00-20:00: peak 2 + 2 + 3 kWh; no standing charges (their day and month start before it).
    lines = _exact(_lines(_ledger_json(tmp_path, capsys, "2026-03-01T17:00", "2026-03-01T20:00")))
    assert lines == {
        "market": ("kWh", Decimal(7), Decimal(0)),
        "energy": ("kWh", Decimal(7), Decimal("1.40")),  # 7 x 0.20
        "network": ("kWh", Decimal(7), Decimal("0.70")),  # 7 x 0.10
        "vat": ("kWh", Decimal(7), Decimal("0.525")),  # 2.10 x 0.25
        "demand": ("kW", Decimal(3), Decimal("6.00")),  # 2 kW at 17:00, +1 kW at 19:00
    }


class EstimatedThenPublished:
    """A day-ahead source whose 18:00 price is an estimate until the service publishes it."""

    def __init__(self) -> None:
        self.published = False

    async def prices(self, start: datetime, end: datetime) -> list[MarketPrice]:
        out = []
        at = start
        while at < end:
            estimated = at.astimezone(BERLIN).hour == 18 and not self.published
            state: PriceState = "estimated" if estimated else "firm"
            out.append(MarketPrice(at, Duration.PT1H, Decimal("0.10"), "EUR", state))
            at += timedelta(hours=1)
        return out


async def test_an_estimated_price_is_not_billed_until_published(tmp_path: Path) -> None:
    source = EstimatedThenPublished()
    agent = Agent(_config(tmp_path), ManualClock(DAY), source)
    await agent.meter_until(20)
    hours = [s.interval.start.hour for s in agent.ledger.contract_settlements("home")]
    assert hours == [h for h in range(20) if h != 18]
    assert "estimated" in (agent.settler.deferred_reason or "")
    assert not [c for c in agent.ledger.contract_charges("home") if c.interval.start.hour == 18]
    source.published = True
    # Waiting intervals are retried once a minute (the settler's pace).
    agent.clock.advance(120)
    await agent.settler.settle_due()
    settled = {s.interval.start.hour: s for s in agent.ledger.contract_settlements("home")}
    assert sorted(settled) == list(range(20))
    # 18:00: 2 kWh x (0.10 market + 0.20 + 0.10) x 1.25 = 1.00; no new peak (17:00 was 2 kW too).
    assert settled[18].amount == Decimal("1.00")
    assert agent.settler.deferred_reason is None
    agent.ledger.close()


class DownThenBack:
    """A price service that answers nothing until it is back (the dynamic source raises then)."""

    def __init__(self) -> None:
        self.up = False
        self.asked = 0

    async def prices(self, start: datetime, end: datetime) -> list[MarketPrice]:
        self.asked += 1
        if not self.up:
            raise TariffError("entsoe: HTTP 503")
        return [
            MarketPrice(at, Duration.PT1H, Decimal("0.10"), "EUR", "firm")
            for at in (start + timedelta(hours=k) for k in range(int((end - start) / timedelta(hours=1))))
        ]


async def test_intervals_wait_while_the_source_is_down_and_settle_when_it_is_back(tmp_path: Path) -> None:
    source = DownThenBack()
    agent = Agent(_config(tmp_path), ManualClock(DAY), source)
    await agent.meter_until(3)
    assert agent.ledger.contract_settlements("home") == []
    assert agent.ledger.contract_charges("home") == []  # nothing guessed, not even the standing charges
    assert source.asked >= 3
    assert "HTTP 503" in (agent.settler.deferred_reason or "")
    source.up = True
    agent.clock.advance(120)  # past the settler's one-minute retry pace
    await agent.settler.settle_due()
    settled = agent.ledger.contract_settlements("home")
    assert [s.interval.start.hour for s in settled] == [0, 1, 2]
    # 00:00: 1 kWh x (0.10 + 0.20 + 0.04) x 1.25 = 0.425, + the day's 0.50 and the month's 3.00
    assert settled[0].amount == Decimal("0.425") + Decimal("0.50") + Decimal("3.00")
    agent.ledger.close()
