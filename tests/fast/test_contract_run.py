"""The household under its contract on virtual time: no retailer, the ledger's bill is the contract's.

Prices in the assertions are worked out by hand from configs/examples/us_tou.yaml,
de_dynamic_entsoe.yaml and openadr_price_program.yaml and the recorded 2015 day-ahead prices
(scenarios/data/prices_de_2015.csv); the metered energy is the ledger's, checked against the
plant's own meter bins.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import yaml

from agent.config import load_config
from agent.ledger import Ledger
from agent.ledger.contract import ContractSettlement
from agent.openadr.book import ProgramBook
from agent.runtime.app import RunningAgent
from agent.runtime.state_file import StateFileError
from agent.tariff import price_cache
from agent.tariff.dynamic import DynamicPriceSource
from hil.fast.run import run_fast
from hil.fast.world import FastWorld
from hil.sim.result import SimResult
from hil.sim.scenario import Scenario, parse_scenario

REPO = Path(__file__).resolve().parents[2]
SCENARIOS = REPO / "hil" / "scenarios"
BERLIN = ZoneInfo("Europe/Berlin")
QUARTER = timedelta(minutes=15)


def _scenario(week: str, contract: str, start: str, hours: float, **extra: Any) -> Scenario:
    doc = yaml.safe_load((SCENARIOS / week).read_text(encoding="utf-8"))
    doc.pop("tariff", None)
    doc["start"] = start
    doc["days"] = hours / 24.0
    doc["simulate"].pop("faults", None)
    doc["simulate"]["contract"] = {"config": f"../../configs/examples/{contract}.yaml", **extra}
    # Parsed as if it lay beside the shipped weeks: their data paths are relative to it.
    return parse_scenario(doc, path=SCENARIOS / "contract_test.yaml")


def _ledger_settlements(directory: Path) -> tuple[dict[datetime, ContractSettlement], Any]:
    config = load_config(directory / "hems.yaml")
    with Ledger.open(config.state_dir, config.zone, home_party=config.party_id) as ledger:
        found = ledger.contract_settlements(config.party_id)
        charges = ledger.contract_charges(config.party_id)
        by_start = {s.interval.start_utc: s for s in found}
        for s in found:
            assert s.interval.duration.value == "PT15M"
    return by_start, charges


def _bin(result: SimResult, start: datetime) -> dict[str, Any]:
    found: list[dict[str, Any]] = [
        b for b in result.world["bins"] if datetime.fromisoformat(b["start"]) == start
    ]
    assert len(found) == 1
    return found[0]


def _check_metered(result: SimResult, settlement: ContractSettlement) -> None:
    # The ledger's metered energy is the plant meter's (counter deltas read by the agent).
    b = _bin(result, settlement.interval.start_utc)
    assert float(settlement.import_kwh) == pytest.approx(b["import_kwh"], abs=2e-3)
    assert float(settlement.export_kwh) == pytest.approx(b["export_kwh"], abs=2e-3)


def _no_retailer(agent: RunningAgent, seen: dict[str, Any]) -> None:
    seen["link"] = agent.link
    seen["retailer"] = agent.config.retailer
    seen["source"] = agent.config.market.tariff


def test_a_time_of_use_household_is_billed_by_its_contract(tmp_path: Path) -> None:
    # Monday 2026-06-15 (summer, no US holiday) 14:00-23:00: off-peak, part-peak, peak, part-peak.
    sc = _scenario("summer_week.yaml", "us_tou", "2026-06-15T14:00:00+02:00", 9.0)
    seen: dict[str, Any] = {}
    result, _ = run_fast(sc, tmp_path, probe=lambda agent, world: _no_retailer(agent, seen))
    assert seen["link"] is None  # no retailer link was built
    assert seen["retailer"] is None
    assert seen["source"] is not None and seen["source"].name == "US three-period TOU (illustrative)"
    assert "retailer" not in result.world
    assert result.kpis.transactions == 0
    assert result.kpis.tenders_posted == 0
    assert result.checks["settled"] == "ok"
    settled, charges = _ledger_settlements(tmp_path)
    # Prices by hand (USD/kWh, generation + delivery; no VAT): off-peak 0.11 + 0.22,
    # part-peak 0.14 + 0.25, peak 0.20 + 0.30; export 0.04.
    for at, import_price in (
        (datetime(2026, 6, 15, 14, 30, tzinfo=BERLIN), Decimal("0.33")),
        (datetime(2026, 6, 15, 15, 15, tzinfo=BERLIN), Decimal("0.39")),
        (datetime(2026, 6, 15, 18, 0, tzinfo=BERLIN), Decimal("0.50")),
        (datetime(2026, 6, 15, 21, 45, tzinfo=BERLIN), Decimal("0.39")),
    ):
        s = settled[at]
        _check_metered(result, s)
        assert s.amount == s.import_kwh * import_price - s.export_kwh * Decimal("0.04")
    # The whole bill by hand: every interval of the run at its period's price, plus one day's
    # base services charge of 0.39 (booked with the day's first interval).
    start, end = sc.start, sc.start + timedelta(hours=9)
    intervals = [s for t, s in settled.items() if start <= t < end]
    assert len(intervals) == 36
    by_hour = {14: "0.33", 15: "0.39", 16: "0.50", 17: "0.50", 18: "0.50", 19: "0.50", 20: "0.50"}
    by_hour |= {21: "0.39", 22: "0.39"}
    by_hand = Decimal("0.39") + sum(
        (
            s.import_kwh * Decimal(by_hour[s.interval.start.hour]) - s.export_kwh * Decimal("0.04")
            for s in intervals
        ),
        Decimal(0),
    )
    assert result.kpis.cost == pytest.approx(float(by_hand), abs=1e-9)
    standing = [c for c in charges if c.unit == "day"]
    assert [(c.component, c.amount) for c in standing] == [("base_services", Decimal("0.39"))]
    # One (part) day: its costs are the run's, each side with its day's standing charge.
    (day,) = result.daily_costs
    assert day["agent"] == pytest.approx(result.kpis.cost, abs=1e-4)
    assert day["baseline"] == pytest.approx(result.kpis.baseline_cost, abs=1e-4)
    assert day["perfect_foresight"] == pytest.approx(result.kpis.perfect_foresight_cost, abs=1e-4)
    assert result.bill["base_services"] == pytest.approx(0.39, abs=1e-9)


def test_a_dynamic_household_sees_tomorrows_prices_only_after_publication(tmp_path: Path) -> None:
    # Monday 2026-01-12 11:00-18:00 replays 2015-01-12; tomorrow's prices appear at 13:00.
    sc = _scenario("winter_week.yaml", "de_dynamic_entsoe", "2026-01-12T11:00:00+01:00", 7.0)
    seen: dict[str, Any] = {}
    known_until: list[tuple[datetime, datetime | None, str | None]] = []

    def probe(agent: RunningAgent, world: FastWorld) -> None:
        _no_retailer(agent, seen)
        assert agent.tariff is not None
        source = agent.tariff.source
        assert isinstance(source, DynamicPriceSource)
        path = price_cache.cache_path(agent.config.state_dir, "entsoe")
        try:
            cached = price_cache.load(path, "entsoe", "EUR")
        except StateFileError:
            cached = []
        last = max((p.start + p.duration.nominal for p in cached), default=None)
        known_until.append((world.clock.now(), last, source.last_error))

    result, _ = run_fast(sc, tmp_path, probe=probe)
    assert seen["link"] is None
    assert "retailer" not in result.world
    assert result.kpis.transactions == 0
    publication = datetime(2026, 1, 12, 13, 0, tzinfo=BERLIN)
    tonight = datetime(2026, 1, 13, 0, 0, tzinfo=BERLIN)
    tomorrow_night = datetime(2026, 1, 14, 0, 0, tzinfo=BERLIN)
    before = [(last, error) for now, last, error in known_until if now < publication]
    after = [last for now, last, _ in known_until if now >= publication + timedelta(minutes=20)]
    assert before and after
    # Before 13:00 no price after tonight was known (none at all before the first plan asked),
    # and the service said "not published".
    assert all(last is None or last <= tonight for last, _ in before)
    assert any(last == tonight for last, _ in before)
    assert any(error is not None and "not published" in error for _, error in before)
    # Within the refresh period (15 min) after publication, tomorrow's prices were known (as far
    # as the plan's horizon asked for them), and none beyond tomorrow.
    assert all(last is not None and tonight < last <= tomorrow_night for last in after)
    settled, charges = _ledger_settlements(tmp_path)
    # By hand: (market + 0.025 + 0.0205 + network + 0.032 + 0.0199) × 1.19, export 0.0786;
    # 11:00 standard network 0.09, 2015-01-12 11:00 at 30.07 EUR/MWh -> 0.21747 × 1.19;
    # 17:00 high network 0.13, 2015-01-12 17:00 at 34.41 EUR/MWh -> 0.26181 × 1.19.
    # The first interval also carries the month's standing charges: base price 9.90, meter 4.17.
    for at, import_price, standing_charges in (
        (datetime(2026, 1, 12, 11, 0, tzinfo=BERLIN), Decimal("0.2587893"), Decimal("14.07")),
        (datetime(2026, 1, 12, 11, 30, tzinfo=BERLIN), Decimal("0.2587893"), Decimal(0)),
        (datetime(2026, 1, 12, 17, 15, tzinfo=BERLIN), Decimal("0.3115539"), Decimal(0)),
    ):
        s = settled[at]
        _check_metered(result, s)
        expected = s.import_kwh * import_price - s.export_kwh * Decimal("0.0786") + standing_charges
        assert abs(s.amount - expected) < Decimal("1e-12")
    # The month's standing charges once.
    standing = sorted((c.component, c.amount) for c in charges if c.unit == "month")
    assert standing == [("base_price", Decimal("9.90")), ("meter", Decimal("4.17"))]
    intervals = [s for t, s in settled.items() if sc.start <= t < sc.start + timedelta(hours=7)]
    assert len(intervals) == 28
    assert result.kpis.cost == pytest.approx(sum(float(s.amount) for s in intervals), abs=1e-9)


def test_a_price_program_household_follows_its_events_without_a_vtn(tmp_path: Path) -> None:
    # 2026-06-15 replays 2015-06-15, whose three dearest hours are 08:00, 18:00 and 19:00 (40.34,
    # 40.54, 40.54 EUR/MWh): one event at level 2 (0.80 USD/kWh instead of the base 0.14).
    sc = _scenario(
        "summer_week.yaml",
        "openadr_price_program",
        "2026-06-15T12:00:00+02:00",
        9.0,
        events={"hours": 3, "level": 2},
    )
    seen: dict[str, Any] = {}
    programs: list[tuple[datetime, list[str]]] = []

    def probe(agent: RunningAgent, world: FastWorld) -> None:
        _no_retailer(agent, seen)
        seen["openadr"] = agent.openadr
        assert agent.tariff is not None
        book = agent.tariff.source
        assert isinstance(book, ProgramBook)
        programs.append((world.clock.now(), [e.event_id for e in book.events]))

    result, _ = run_fast(sc, tmp_path, probe=probe)
    assert seen["link"] is None
    assert seen["openadr"] is None  # the VEN never ran against a VTN: no registration, no HTTP
    assert "retailer" not in result.world
    assert result.kpis.transactions == 0
    publication = datetime(2026, 6, 15, 13, 0, tzinfo=BERLIN)
    # Today's event from the start (none at the very first probe, before the feed's first round),
    # tomorrow's after 13:00 (the probe at 13:00 sharp may run before the announcement).
    before = [ids for now, ids in programs if now < publication]
    assert all(ids in ([], ["cpp-2026-06-15"]) for ids in before)
    assert ["cpp-2026-06-15"] in before
    after = [sorted(ids) for now, ids in programs if now > publication]
    assert after and all(ids == ["cpp-2026-06-15", "cpp-2026-06-16"] for ids in after), after[:3]
    settled, _ = _ledger_settlements(tmp_path)
    # By hand (USD/kWh): the base 0.14 + delivery 0.16 outside the event, 0.80 + 0.16 inside it;
    # export 0.05; no VAT.
    for at, import_price in (
        (datetime(2026, 6, 15, 17, 45, tzinfo=BERLIN), Decimal("0.30")),
        (datetime(2026, 6, 15, 18, 0, tzinfo=BERLIN), Decimal("0.96")),
        (datetime(2026, 6, 15, 19, 45, tzinfo=BERLIN), Decimal("0.96")),
        (datetime(2026, 6, 15, 20, 0, tzinfo=BERLIN), Decimal("0.30")),
    ):
        s = settled[at]
        _check_metered(result, s)
        assert s.amount == s.import_kwh * import_price - s.export_kwh * Decimal("0.05")
    assert result.checks["settled"] == "ok"
