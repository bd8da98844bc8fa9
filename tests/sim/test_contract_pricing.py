"""A scenario's household contract: parsed with errors naming the field, and billed by hand."""

from __future__ import annotations

import asyncio
from datetime import datetime, time, timedelta
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from agent.market.intervals import Duration
from agent.scenario import ScenarioError
from agent.tariff.errors import PricesNotPublished
from hil.fast.recorded_prices import RecordedDayAhead, published_until
from hil.sim.contract import parse_contract
from hil.sim.contract_pricing import ContractPricing
from hil.sim.program import program_price, schedule

REPO = Path(__file__).resolve().parents[2]
EXAMPLES = REPO / "configs" / "examples"
BERLIN = ZoneInfo("Europe/Berlin")
MONDAY = datetime(2026, 6, 15, tzinfo=BERLIN)  # a summer weekday, no US holiday


def _no_market(_at: datetime) -> Decimal:
    raise AssertionError("a time-of-use contract reads no market price")


def _us_tou() -> ContractPricing:
    contract = parse_contract({"config": "us_tou.yaml"}, EXAMPLES)
    return ContractPricing(
        contract, zone=BERLIN, start=MONDAY, days=1, step=Duration.PT15M, market_at=_no_market
    )


def test_a_tiny_flow_under_us_tou_is_billed_as_by_hand() -> None:
    pricing = _us_tou()
    flows = [
        (MONDAY.replace(hour=12), 1.0, 3.0),  # summer off-peak: 0.11 + 0.22; export 0.04
        (MONDAY.replace(hour=15, minute=30), 0.5, 0.0),  # part-peak: 0.14 + 0.25
        (MONDAY.replace(hour=17), 2.0, 0.0),  # weekday peak: 0.20 + 0.30
    ]
    costs = pricing.flow_costs(flows)
    # The day's base services charge (0.39) comes with the day's first flow; no VAT (1.0).
    assert costs == pytest.approx([0.33 - 0.12 + 0.39, 0.195, 1.00], abs=1e-12)
    assert pricing.buy_per_kwh(MONDAY.replace(hour=17, minute=7)) == pytest.approx(0.50, abs=1e-12)
    assert pricing.sell_per_kwh(MONDAY.replace(hour=17)) == pytest.approx(0.04, abs=1e-12)
    # The reference plans trades at the export price and the gap as an import adder.
    assert pricing.plan_prices(MONDAY.replace(hour=17)) == pytest.approx((0.04, 0.04, 0.46, 0.0))


def test_the_standing_charge_falls_once_per_local_day() -> None:
    pricing = _us_tou()
    flows = [(MONDAY + timedelta(hours=h), 0.0, 0.0) for h in (7, 12, 23, 24, 30)]
    # 07:00, 12:00 and 23:00 on Monday, then 00:00 and 06:00 on Tuesday.
    assert pricing.flow_costs(flows) == pytest.approx([0.39, 0.0, 0.0, 0.39, 0.0], abs=1e-12)


def test_a_dynamic_contract_prices_the_recorded_market_price_by_its_formula() -> None:
    contract = parse_contract({"config": "de_dynamic_entsoe.yaml"}, EXAMPLES)
    assert contract.dynamic
    pricing = ContractPricing(
        contract,
        zone=BERLIN,
        start=MONDAY,
        days=1,
        step=Duration.PT15M,
        market_at=lambda at: Decimal("0.05"),
    )
    # 18:00 is in the "high" network window: (0.05 + 0.025 + 0.0205 + 0.13 + 0.032 + 0.0199) × 1.19
    # = 0.2774 × 1.19
    assert pricing.buy_per_kwh(MONDAY.replace(hour=18)) == pytest.approx(0.330106, abs=1e-9)
    assert pricing.sell_per_kwh(MONDAY.replace(hour=18)) == pytest.approx(0.0786, abs=1e-12)


def test_the_recorded_service_publishes_tomorrow_only_at_the_publication_time() -> None:
    class At:
        def __init__(self, now: datetime) -> None:
            self.now_ = now

        def now(self) -> datetime:
            return self.now_

        def monotonic_s(self) -> float:
            return 0.0

        async def sleep(self, s: float) -> None:
            raise AssertionError("not used")

    clock = At(MONDAY.replace(hour=12, minute=59))
    service = RecordedDayAhead(
        "entsoe", lambda at: Decimal("0.1"), currency="EUR", zone=BERLIN, clock=clock, publish_at=time(13)
    )
    tomorrow = MONDAY + timedelta(days=1)
    with pytest.raises(PricesNotPublished):
        asyncio.run(service.fetch(tomorrow, tomorrow + timedelta(days=1)))
    today = asyncio.run(service.fetch(MONDAY, tomorrow + timedelta(days=1)))
    assert len(today) == 24  # the rest of the request is not published: cut at midnight
    assert today[-1].start == datetime(2026, 6, 15, 23, tzinfo=BERLIN)
    clock.now_ = MONDAY.replace(hour=13)
    both = asyncio.run(service.fetch(MONDAY, tomorrow + timedelta(days=2)))
    assert len(both) == 48
    assert published_until(MONDAY.replace(hour=13), BERLIN, time(13)) == MONDAY + timedelta(days=2)


def test_contract_errors_name_the_field(tmp_path: Path) -> None:
    with pytest.raises(ScenarioError, match=r"simulate\.contract\.colour: unknown key"):
        parse_contract({"config": "us_tou.yaml", "colour": 1}, EXAMPLES)
    with pytest.raises(ScenarioError, match=r"simulate\.contract\.config: missing"):
        parse_contract({}, EXAMPLES)
    with pytest.raises(ScenarioError, match=r"simulate\.contract\.publish_at: must be a local time"):
        parse_contract({"config": "us_tou.yaml", "publish_at": "noon"}, EXAMPLES)
    with pytest.raises(ScenarioError, match=r"simulate\.contract\.events: an OpenADR price program needs"):
        parse_contract({"config": "openadr_price_program.yaml"}, EXAMPLES)
    with pytest.raises(ScenarioError, match=r"simulate\.contract\.events\.level: must be a SIMPLE level"):
        parse_contract({"config": "openadr_price_program.yaml", "events": {"hours": 2, "level": 0}}, EXAMPLES)
    with pytest.raises(ScenarioError, match=r"simulate\.contract\.events\.hours: must be a whole number"):
        parse_contract({"config": "openadr_price_program.yaml", "events": {"hours": 0, "level": 3}}, EXAMPLES)
    with pytest.raises(ScenarioError, match=r"simulate\.contract\.events: only an OpenADR price program"):
        parse_contract({"config": "us_tou.yaml", "events": {"hours": 2, "level": 3}}, EXAMPLES)
    (tmp_path / "retailer.yaml").write_text("market: {source: retailer}\n", encoding="utf-8")
    with pytest.raises(ScenarioError, match=r"market\.source must be a tariff"):
        parse_contract({"config": "retailer.yaml"}, tmp_path)
    (tmp_path / "bad.yaml").write_text(
        "market: {source: {type: tariff, vat_multiplier: -1}}\n", encoding="utf-8"
    )
    with pytest.raises(ScenarioError, match=r"bad\.yaml: market\.source\.vat_multiplier"):
        parse_contract({"config": "bad.yaml"}, tmp_path)


def test_a_price_service_token_is_not_needed() -> None:
    # The example reads its token from ENTSOE_TOKEN; the simulation never asks the service.
    contract = parse_contract({"config": "de_dynamic_entsoe.yaml"}, EXAMPLES)
    assert contract.market["source"]["market"]["token"] == "recorded-prices"


def test_a_program_day_is_one_event_on_its_dearest_hours_announced_the_day_before() -> None:
    contract = parse_contract(
        {"config": "openadr_price_program.yaml", "events": {"hours": 2, "level": 3}}, EXAMPLES
    )
    assert contract.program is not None and contract.events is not None
    dear = {MONDAY.replace(hour=9), MONDAY.replace(hour=18), (MONDAY + timedelta(days=1)).replace(hour=19)}
    dearer = {(MONDAY + timedelta(days=1)).replace(hour=7)}

    def price_at(at: datetime) -> Decimal:
        local = at.astimezone(BERLIN)
        return Decimal("0.3") if local in dearer else Decimal("0.2") if local in dear else Decimal("0.05")

    start = MONDAY.replace(hour=7)
    events = schedule(
        contract.events, contract.program, price_at, zone=BERLIN, start=start, days=1, publish_at=time(13)
    )
    assert [e.event["event_descriptor"]["event_id"] for e in events] == [
        "cpp-2026-06-15",
        "cpp-2026-06-16",
        "cpp-2026-06-17",
    ]
    monday, tuesday = events[0], events[1]
    assert monday.announce_at == start  # the run's first day: at its start
    assert tuesday.announce_at == MONDAY.replace(hour=13)
    assert [h.astimezone(BERLIN).hour for h in monday.hours] == [9, 18]
    assert [h.astimezone(BERLIN).hour for h in tuesday.hours] == [7, 19]
    # Hourly SIMPLE intervals from the first to the last chosen hour, level 0 between them.
    levels = [i["signal_payload"] for i in monday.event["event_signals"][0]["intervals"]]
    assert levels == [3.0] + [0.0] * 8 + [3.0]
    price = program_price(events, contract.events, contract.program)
    assert price(MONDAY.replace(hour=18, minute=45)) == Decimal("1.20")  # level 3 of the example
    assert price(MONDAY.replace(hour=17, minute=45)) == Decimal("0.14")  # the base rate


def test_the_reference_plans_with_the_months_peak_so_far() -> None:
    # US TOU with a demand charge of 8 USD per kW in the weekday peak hours (16:00-21:00). Before
    # the plan: 2.5 kWh at 17:00 on Friday 29 May (10 kW, but May's), 3 kWh at 12:00 on Monday
    # 1 June (off-peak) and 0.5 kWh in 16:30-16:45 (2 kW): June's peak so far is 2 kW.
    contract = parse_contract({"config": "us_tou_demand.yaml"}, EXAMPLES)
    friday = datetime(2026, 5, 29, tzinfo=BERLIN)
    pricing = ContractPricing(
        contract, zone=BERLIN, start=friday, days=4, step=Duration.PT15M, market_at=_no_market
    )
    monday = datetime(2026, 6, 1, tzinfo=BERLIN)
    before = [
        (friday.replace(hour=17), 2.5, 0.0),
        (monday.replace(hour=12), 3.0, 0.0),
        (monday.replace(hour=16, minute=30), 0.5, 0.0),
    ]
    starts = [monday.replace(hour=16, minute=45), monday.replace(hour=17), monday.replace(hour=21)]
    demand = pricing.plan_demand(starts, before)
    assert demand is not None
    assert (demand.per_kw, demand.peak_so_far_kw) == (8.0, 2.0)
    assert demand.counts.tolist() == [1.0, 1.0, 0.0]
    assert _us_tou().plan_demand(starts, before) is None  # the rate without a demand charge
