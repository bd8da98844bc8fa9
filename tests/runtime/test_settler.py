"""The settlement loop on a real ledger: readings near bounds, in-order settlement, a meter gap."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from agent.clock import ManualClock
from agent.dispatch import Sample, Snapshot
from agent.ledger import Ledger
from agent.link.errors import LinkTimeout
from agent.market import codec
from agent.market.codec import CodecContext
from agent.market.intervals import Duration, containing
from agent.market.records import Delivery, Product, SpotPrice, Transaction
from agent.runtime.settler import Settler

BERLIN = ZoneInfo("Europe/Berlin")
START = datetime(2026, 6, 1, 8, 0, tzinfo=UTC)
HOME = "home"


def snapshot(clock: ManualClock, import_kwh: float, export_kwh: float) -> Snapshot:
    meter = {
        "meter.import_kwh": Sample(import_kwh, "kWh", 0.0),
        "meter.export_kwh": Sample(export_kwh, "kWh", 0.0),
    }
    return Snapshot(clock.now(), clock.monotonic_s(), {"grid": meter})


@pytest.fixture
def setup(tmp_path: Path) -> tuple[Ledger, ManualClock, Settler, list[Delivery]]:
    clock = ManualClock(START)
    ledger = Ledger.open(tmp_path, BERLIN, home_party=HOME, clock=clock)
    first = containing(START, Duration.PT5M, BERLIN)
    hour = containing(START, Duration.PT1H, BERLIN)
    ledger.add_transaction(
        Transaction(
            "x1", "t1", HOME, "retailer", Product.ENERGY, hour, Decimal("1.2"), Decimal("0.25"), "EUR", START
        )
    )
    for q in hour.children(Duration.PT5M):
        ledger.add_spot_price(SpotPrice(q, Decimal("0.40"), "EUR"))
    sent: list[Delivery] = []

    async def send(d: Delivery) -> None:
        sent.append(d)

    settler = Settler(
        ledger, meter="grid", party=HOME, metering=Duration.PT5M, clock=clock, send_delivery=send
    )
    assert first.start_utc == START
    return ledger, clock, settler, sent


async def test_steady_meter_settles_each_interval_once_in_order(
    setup: tuple[Ledger, ManualClock, Settler, list[Delivery]],
) -> None:
    ledger, clock, settler, sent = setup
    kwh = 100.0
    for _ in range(3 * 30):  # 15 minutes of 10-second cycles at 2.4 kW
        await settler.record(snapshot(clock, kwh, 0.0))
        clock.advance(10)
        kwh += 2.4 * 10 / 3600
        await settler.settle_due()
    await settler.record(snapshot(clock, kwh, 0.0))
    clock.advance(70)
    await settler.settle_due()
    settled = ledger.settlements()
    assert [s.interval.start_utc for s in settled] == [START + timedelta(minutes=5 * i) for i in range(3)]
    for s in settled:
        # 2.4 kW metered, 1.2 kW bought: 0.1 kWh over each 5 minutes at 0.40.
        assert abs(s.deviation_kwh - Decimal("0.1")) < Decimal("0.0005")
        assert "estimated" not in s.flags
    assert [d.interval for d in sent] == [s.interval for s in settled]
    assert ledger.integrity_check() == ["ok"]


async def test_meter_gone_for_two_intervals_settles_with_estimates_when_it_returns(
    setup: tuple[Ledger, ManualClock, Settler, list[Delivery]],
) -> None:
    ledger, clock, settler, sent = setup
    kwh = 100.0
    for minute in range(21):
        meter_away = 4 <= minute < 17  # no reading within a minute of the 5, 10 and 15 minute bounds
        for _ in range(6):
            if not meter_away:
                await settler.record(snapshot(clock, kwh, 0.0))
            clock.advance(10)
            kwh += 1.8 * 10 / 3600
            await settler.settle_due()
    assert settler.estimated_readings >= 2
    everything = ledger.settlements()
    assert len(everything) == 4  # 0-5, 5-10, 10-15 across the gap, and 15-20 after it
    settled = everything[:3]
    # Every interval with an interpolated bound says so, including 15-20 (its start is one).
    assert all("estimated" in s.flags for s in everything)
    # The gap's total energy is still the metered one: 15 minutes at 1.8 kW.
    total = sum((s.net_kwh for s in settled), Decimal(0))
    assert abs(total - Decimal("0.45")) < Decimal("0.0001")
    assert len(sent) == 4
    # Guards deliveries the link refused (and a settle phase failing every cycle): interpolated
    # counters carried 28 digits, beyond the 12 decimal places the wire takes.
    ctx = CodecContext(BERLIN, "EUR", Decimal(-1), Decimal(5), shortest=Duration.PT5M)
    for d in sent:
        assert codec.decode_delivery(codec.encode_delivery(d, "d-1"), ctx) == d


async def test_an_interval_without_a_spot_price_does_not_hold_back_the_next(tmp_path: Path) -> None:
    # Guards a stall: the settler stopped at the first deferred interval, so one missing spot
    # price held back every later settlement and delivery report.
    clock = ManualClock(START)
    ledger = Ledger.open(tmp_path, BERLIN, home_party=HOME, clock=clock)
    first, second, third = containing(START, Duration.PT1H, BERLIN).children(Duration.PT5M)[:3]
    ledger.add_spot_price(SpotPrice(first, Decimal("0.40"), "EUR"))
    ledger.add_spot_price(SpotPrice(third, Decimal("9.00"), "EUR"))  # far above the usual caps
    sent: list[Delivery] = []

    async def send(d: Delivery) -> None:
        sent.append(d)

    settler = Settler(
        ledger, meter="grid", party=HOME, metering=Duration.PT5M, clock=clock, send_delivery=send
    )
    kwh = 50.0
    for _ in range(16 * 6):  # 16 minutes of 10-second cycles at 1.2 kW
        await settler.record(snapshot(clock, kwh, 0.0))
        clock.advance(10)
        kwh += 1.2 * 10 / 3600
        await settler.settle_due()
    await settler.record(snapshot(clock, kwh, 0.0))
    clock.advance(70)
    await settler.settle_due()
    assert [s.interval for s in ledger.settlements()] == [first, third]
    assert [d.interval for d in sent] == [first, third]
    assert settler.waiting == {second: "no spot price for the interval"}
    high = ledger.settlements()[1]
    assert high.spot_price_per_kwh == Decimal("9.00")
    # 1.2 kW over 5 minutes, no position: 0.1 kWh bought at 9.00.
    assert abs(high.amount - Decimal("0.9")) < Decimal("0.005")

    # The late price arrives: the waiting interval settles within a minute, once.
    ledger.add_spot_price(SpotPrice(second, Decimal("0.35"), "EUR"))
    clock.advance(60)
    await settler.settle_due()
    clock.advance(60)
    await settler.settle_due()
    assert [s.interval for s in ledger.settlements()] == [first, second, third]
    assert [d.interval for d in sent] == [first, third, second]
    assert settler.waiting == {}
    assert settler.deferred_reason is None


async def test_a_restart_finds_the_intervals_left_unsettled_before_it(tmp_path: Path) -> None:
    clock = ManualClock(START)
    ledger = Ledger.open(tmp_path, BERLIN, home_party=HOME, clock=clock)
    first, second, third = containing(START, Duration.PT1H, BERLIN).children(Duration.PT5M)[:3]
    for interval in (first, third):
        ledger.add_spot_price(SpotPrice(interval, Decimal("0.40"), "EUR"))
    before = Settler(ledger, meter="grid", party=HOME, metering=Duration.PT5M, clock=clock)
    kwh = 50.0
    for _ in range(16 * 6):
        await before.record(snapshot(clock, kwh, 0.0))
        clock.advance(10)
        kwh += 1.2 * 10 / 3600
        await before.settle_due()
    clock.advance(70)
    await before.settle_due()
    assert [s.interval for s in ledger.settlements()] == [first, third]
    ledger.add_spot_price(SpotPrice(second, Decimal("0.40"), "EUR"))
    after = Settler(ledger, meter="grid", party=HOME, metering=Duration.PT5M, clock=clock)
    settled = await after.settle_due()
    assert [s.interval for s in settled] == [second]
    assert [s.interval for s in ledger.settlements()] == [first, second, third]


async def test_a_delivery_report_that_could_not_be_sent_is_sent_on_a_later_pass(tmp_path: Path) -> None:
    clock = ManualClock(START)
    ledger = Ledger.open(tmp_path, BERLIN, home_party=HOME, clock=clock)
    first, second = containing(START, Duration.PT1H, BERLIN).children(Duration.PT5M)[:2]
    for interval in (first, second):
        ledger.add_spot_price(SpotPrice(interval, Decimal("0.40"), "EUR"))
    sent: list[Delivery] = []
    failing = [True]

    async def send(d: Delivery) -> None:
        if failing[0] and d.interval == first:
            raise LinkTimeout("outbox write took too long (injected)")
        sent.append(d)

    settler = Settler(
        ledger, meter="grid", party=HOME, metering=Duration.PT5M, clock=clock, send_delivery=send
    )
    kwh = 50.0
    for _ in range(11 * 6):
        await settler.record(snapshot(clock, kwh, 0.0))
        clock.advance(10)
        kwh += 1.2 * 10 / 3600
        await settler.settle_due()
    clock.advance(70)
    await settler.settle_due()
    assert [d.interval for d in sent] == [second]
    assert list(settler.waiting) == [first]
    failing[0] = False
    clock.advance(60)
    await settler.settle_due()
    assert [d.interval for d in sent] == [second, first]
    assert settler.waiting == {}
    assert [s.interval for s in ledger.settlements()] == [first, second]
