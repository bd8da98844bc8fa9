"""The ledger's contract charges on disk: settled once, written whole or not at all, append-only,
and — interval by interval — the same bill as the whole period billed at once."""

from __future__ import annotations

import asyncio
import sqlite3
import tempfile
from collections.abc import Sequence
from datetime import datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from agent.clock import ManualClock
from agent.config import parse_config
from agent.ledger import Ledger, LedgerConflict, SettlementDeferred, Stored
from agent.ledger.contract import ContractCharge, Metered, MonthSoFar
from agent.market.intervals import Duration, containing, intervals_between
from agent.market.records import Delivery
from agent.market.settlement import MeterReading
from agent.tariff import TariffCounterparty, bill_lines
from agent.tariff.contract_book import interval_charges
from tests.ledger.helpers import BERLIN

DAY = datetime(2026, 1, 30, tzinfo=BERLIN)  # two days before a new month
TOU = """\
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
    energy_per_kwh: {energy: 0.2125}
    network_per_kwh: {network: {peak: 0.1050, off_peak: 0.0375}}
    vat_multiplier: 1.19
    export: {type: fixed, price_per_kwh: 0.0786}
    fixed_per_day: {standing: 0.45}
    fixed_per_month: {meter: 4.17}
    demand: {per_kw: 3.25, periods: [peak]}
    tiers:
      - {up_to_kwh: 10, adder_per_kwh: 0}
      - {adder_per_kwh: 0.05}
"""


def _none(metered: Metered, so_far: MonthSoFar) -> Sequence[ContractCharge]:
    return [ContractCharge(metered.interval, "energy", metered.import_kwh, "kWh", metered.import_kwh, "firm")]


def _ledger(path: Path, clock: ManualClock) -> Ledger:
    ledger = Ledger.open(path, BERLIN, home_party="home", clock=clock)
    for k in range(3):
        ledger.add_reading(MeterReading("grid", DAY + timedelta(hours=k), Decimal(k), Decimal(0)))
    return ledger


def test_open_and_unread_intervals_wait_then_settle_once(tmp_path: Path) -> None:
    clock = ManualClock(DAY + timedelta(minutes=30))
    ledger = _ledger(tmp_path, clock)
    first = containing(DAY, Duration.PT1H, BERLIN)
    with pytest.raises(SettlementDeferred, match="open until"):
        ledger.settle_contract(first, "home", "grid", currency="EUR", price_state="firm", charges=_none)
    clock.advance(3600)
    calls: list[Metered] = []

    def charges(metered: Metered, so_far: MonthSoFar) -> Sequence[ContractCharge]:
        calls.append(metered)
        return _none(metered, so_far)

    _, stored = ledger.settle_contract(
        first, "home", "grid", currency="EUR", price_state="firm", charges=charges
    )
    again, stored_again = ledger.settle_contract(
        first, "home", "grid", currency="EUR", price_state="firm", charges=charges
    )
    assert (stored, stored_again) == (Stored.ADDED, Stored.ALREADY)
    assert len(calls) == 1  # the second call read the stored settlement, it did not bill again
    assert (again.import_kwh, again.amount) == (Decimal(1), Decimal(1))
    # 02:00-03:00 has no reading at its end: it waits, nothing written.
    third = first.next().next()
    clock.advance(4 * 3600)
    with pytest.raises(SettlementDeferred, match="meter reading"):
        ledger.settle_contract(third, "home", "grid", currency="EUR", price_state="firm", charges=charges)
    assert [s.interval for s in ledger.contract_settlements("home")] == [first]
    ledger.close()


def test_a_failing_charge_writes_nothing_and_rows_are_append_only(tmp_path: Path) -> None:
    clock = ManualClock(DAY + timedelta(hours=3))
    ledger = _ledger(tmp_path, clock)
    first = containing(DAY, Duration.PT1H, BERLIN)

    def twice(metered: Metered, so_far: MonthSoFar) -> Sequence[ContractCharge]:
        one = ContractCharge(metered.interval, "energy", Decimal(1), "kWh", Decimal(1), "firm")
        return [one, ContractCharge(metered.interval, "energy", Decimal(1), "kWh", Decimal(2), "firm")]

    with pytest.raises(LedgerConflict):
        ledger.settle_contract(first, "home", "grid", currency="EUR", price_state="firm", charges=twice)
    assert ledger.contract_settlements("home") == []
    assert ledger.contract_charges("home") == []
    ledger.settle_contract(first, "home", "grid", currency="EUR", price_state="firm", charges=_none)
    ledger.close()
    conn = sqlite3.connect(tmp_path / "ledger.sqlite3")
    for table in ("contract_intervals", "contract_charges"):
        with pytest.raises(sqlite3.IntegrityError, match="append-only"):
            conn.execute(f"UPDATE {table} SET amount = '0'")
        with pytest.raises(sqlite3.IntegrityError, match="append-only"):
            conn.execute(f"DELETE FROM {table}")
    conn.close()


hours_kwh = st.lists(
    st.tuples(
        st.decimals(min_value=0, max_value=5, places=2), st.decimals(min_value=0, max_value=2, places=2)
    ),
    min_size=48,
    max_size=72,
)


@settings(max_examples=15, deadline=None)
@given(hours_kwh)
def test_booked_interval_by_interval_is_the_period_bill(kwh: list[tuple[Decimal, Decimal]]) -> None:
    """Over days crossing a month's end, with tiers, demand, standing charges and VAT: the sum of
    what the ledger booked per interval equals the bill of the whole period at once."""
    config = parse_config(TOU, env={})
    tariff = config.market.tariff
    assert tariff is not None
    end = DAY + timedelta(hours=len(kwh))
    hours = intervals_between(DAY, end, Duration.PT1H, BERLIN)
    prices = asyncio.run(TariffCounterparty(config).prices(hours))
    clock = ManualClock(end + timedelta(hours=1))
    with tempfile.TemporaryDirectory() as d, Ledger.open(Path(d), BERLIN, clock=clock) as ledger:
        imported = exported = Decimal(0)
        ledger.add_reading(MeterReading("grid", DAY, imported, exported))
        for iv, (imp, exp) in zip(hours, kwh, strict=True):
            imported, exported = imported + imp, exported + exp
            ledger.add_reading(MeterReading("grid", iv.end_utc, imported, exported))
        price_of = dict(zip(hours, prices, strict=True))

        def charges(metered: Metered, so_far: MonthSoFar) -> list[ContractCharge]:
            return interval_charges(tariff, price_of[metered.interval], metered, so_far)

        for iv in hours:
            ledger.settle_contract(iv, "home", "grid", currency="EUR", price_state="firm", charges=charges)
        booked: dict[str, Decimal] = {}
        for c in ledger.contract_charges("home"):
            booked[c.component] = booked.get(c.component, Decimal(0)) + c.amount
    deliveries = [Delivery(iv, "home", imp, exp) for iv, (imp, exp) in zip(hours, kwh, strict=True)]
    whole: dict[str, Decimal] = {}
    for line in bill_lines(tariff, prices, deliveries):
        whole[line.component] = whole.get(line.component, Decimal(0)) + line.amount
    assert {k: v for k, v in booked.items() if v} == {k: v for k, v in whole.items() if v}


def test_the_months_peak_so_far_is_its_largest_peak_hour(tmp_path: Path) -> None:
    """What the planner starts each month's peak from: 1 kWh every hour of 30 January to 1
    February but 2.5 kWh at 18:00 on the 30th and 3 kWh at 19:00 on the 31st (peak hours), 4 kWh
    at 03:00 on the 31st (off-peak: no demand) and 1.5 kWh at 17:00 on 1 February."""
    config = parse_config(TOU, env={})
    tariff = config.market.tariff
    assert tariff is not None
    hours = intervals_between(DAY, DAY + timedelta(days=3), Duration.PT1H, BERLIN)
    special = {(30, 18): Decimal("2.5"), (31, 3): Decimal(4), (31, 19): Decimal(3), (1, 17): Decimal("1.5")}
    kwh = [special.get((iv.start.day, iv.start.hour), Decimal(1)) for iv in hours]
    prices = dict(zip(hours, asyncio.run(TariffCounterparty(config).prices(hours)), strict=True))

    def charges(metered: Metered, so_far: MonthSoFar) -> list[ContractCharge]:
        return interval_charges(tariff, prices[metered.interval], metered, so_far)

    feb_first = datetime(2026, 2, 1, 12, tzinfo=BERLIN)
    with Ledger.open(tmp_path, BERLIN, clock=ManualClock(DAY + timedelta(days=4))) as ledger:
        total = Decimal(0)
        ledger.add_reading(MeterReading("grid", DAY, total, Decimal(0)))
        for iv, k in zip(hours, kwh, strict=True):
            total += k
            ledger.add_reading(MeterReading("grid", iv.end_utc, total, Decimal(0)))
        assert ledger.contract_peak_kw("home", DAY) == 0  # nothing settled yet
        for iv in hours:
            if iv.start_utc == feb_first:  # 1 February before its peak hours: a new month, no peak yet
                assert ledger.contract_peak_kw("home", feb_first) == 0
                assert ledger.contract_peak_kw("home", DAY) == 3
            ledger.settle_contract(iv, "home", "grid", currency="EUR", price_state="firm", charges=charges)
        assert ledger.contract_peak_kw("home", DAY) == 3
        assert ledger.contract_peak_kw("home", feb_first) == Decimal("1.5")
        assert ledger.contract_peak_kw("other", DAY) == 0
