"""The foundation demo: one scripted day of trading and settlement, end to end through the ledger.

What exists so far is the market model, the ledger and settlement. This demo uses all of them
on real data (DE day-ahead prices and the H0 household profile for 2015-06-16, from scenarios/data):

1. the retailer's hourly forward tenders go over the wire codec (encode, then strict decode);
2. the home buys hourly blocks equal to its expected hourly load (a naive forecast);
3. the meter's cumulative counters follow the real 15-minute load (which differs from the plan);
4. each 15-minute metering interval is settled at spot, and the day is billed.

The planner, the rig and the web page come with later issues; they replace this with the full
closed-loop demo.
"""

from __future__ import annotations

import csv
import tempfile
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

from agent.clock import ManualClock
from agent.ledger import Ledger
from agent.market import codec
from agent.market.intervals import Duration, Interval, containing
from agent.market.records import Product, Side, SpotPrice, Tender, Transaction
from agent.market.settlement import MeterReading
from agent.units import money, per_mwh_to_per_kwh

TZ = ZoneInfo("Europe/Berlin")
HOME, RETAILER = "home-demo", "retailer-demo"
DAY = datetime(2015, 6, 16, tzinfo=TZ)
# Retail mark-ups over the wholesale price (EUR/kWh): taxes, levies and margin in one number.
FORWARD_ADDER_PER_KWH = Decimal("0.20")
SPOT_ADDER_PER_KWH = Decimal("0.24")
DATA_DIR = Path(__file__).resolve().parents[1] / "scenarios" / "data"
FLAT_TARIFF_PER_KWH = Decimal("0.30")


@dataclass(frozen=True)
class DemoResult:
    state_dir: Path
    forward_kwh: Decimal
    metered_kwh: Decimal
    forward: Decimal
    spot: Decimal
    total: Decimal
    flat_tariff: Decimal
    settled: int


def _series(name: str) -> dict[datetime, Decimal]:
    text = (DATA_DIR / name).read_text(encoding="utf-8")
    rows = csv.reader(text.splitlines())
    next(rows)
    return {datetime.fromisoformat(t): Decimal(v) for t, v in rows if v}


def _tender(hour: Interval, price_per_mwh: Decimal, now: datetime) -> Tender:
    return Tender(
        id=f"fwd-{hour.start_utc:%Y%m%dT%H}",
        party=RETAILER,
        counterparty=None,
        side=Side.SELL,
        product=Product.ENERGY,
        interval=hour,
        quantity_kw=Decimal(10),
        price_per_kwh=per_mwh_to_per_kwh(price_per_mwh) + FORWARD_ADDER_PER_KWH,
        currency="EUR",
        expires=hour.start_utc - timedelta(hours=1),
        actionable=True,
    )


def run_day(state_dir: Path) -> DemoResult:
    prices = _series("prices_de_2015.csv")
    load_kw = _series("load_h0_2015.csv")
    day = containing(DAY, Duration.P1D, TZ)
    clock = ManualClock(day.start_utc - timedelta(hours=12))
    ctx = codec.CodecContext(TZ, "EUR", Decimal("-1"), Decimal("2"), now=clock.now())
    with Ledger.open(state_dir, TZ, home_party=HOME, clock=clock) as ledger:
        forward_kwh = Decimal(0)
        for hour in day.children(Duration.PT1H):
            wire = codec.dumps(codec.encode_tender(_tender(hour, prices[hour.start], clock.now())))
            tender = codec.decode_tender(wire, ctx)
            ledger.add_received_tender(tender)
            quarters = hour.children(Duration.PT15M)
            # Naive forecast: the same hour a week earlier is not in the slice, so use the day before.
            day_before = [load_kw[q.start - timedelta(days=1)] for q in quarters]
            expected_kw = (sum(day_before, Decimal(0)) / len(quarters)).quantize(Decimal("0.001"))
            ledger.add_transaction(
                Transaction(
                    id=f"tx-{tender.id}",
                    tender_id=tender.id,
                    buyer=HOME,
                    seller=RETAILER,
                    product=Product.ENERGY,
                    interval=hour,
                    quantity_kw=expected_kw,
                    price_per_kwh=tender.price_per_kwh,
                    currency="EUR",
                    executed=clock.now(),
                )
            )
            forward_kwh += expected_kw
            for q in quarters:
                spot = per_mwh_to_per_kwh(prices[hour.start]) + SPOT_ADDER_PER_KWH
                ledger.add_spot_price(SpotPrice(q, spot, "EUR"))

        counter_kwh = Decimal("1234.5")
        quarters = day.children(Duration.PT15M)
        ledger.add_reading(MeterReading("meter", quarters[0].start_utc, counter_kwh, Decimal(0)))
        for q in quarters:
            counter_kwh += load_kw[q.start] / 4
            ledger.add_reading(MeterReading("meter", q.end_utc, counter_kwh, Decimal(0)))
        clock.advance((day.end_utc - clock.now()).total_seconds() + 120)
        settled = sum(1 for q in quarters if ledger.settle(q, HOME, "meter")[0] is not None)
        bill = ledger.bill(HOME, day.start_utc, day.end_utc)
        metered_kwh = sum((load_kw[q.start] / 4 for q in quarters), Decimal(0))
        return DemoResult(
            state_dir=state_dir,
            forward_kwh=forward_kwh,
            metered_kwh=metered_kwh,
            forward=bill.forward,
            spot=bill.spot,
            total=bill.total,
            flat_tariff=metered_kwh * FLAT_TARIFF_PER_KWH,
            settled=settled,
        )


def run_foundation_demo(state_dir: Path | None = None) -> int:
    target = state_dir or Path(tempfile.mkdtemp(prefix="hems-demo-"))
    result = run_day(target)
    print("hems demo (foundation stage): one scripted day, 2015-06-16 in Europe/Berlin,")
    print("real day-ahead prices and household load. The planner, the device rig and the web page")
    print("are not built yet; this shows what is: tenders over the strict codec, forward")
    print("transactions, meter counters, settlement at spot, and the bill.\n")
    print(f"  forward energy bought   {money(result.forward_kwh, 3):>9} kWh")
    print(f"  metered energy          {money(result.metered_kwh, 3):>9} kWh")
    print(f"  metering intervals      {result.settled:>9} settled")
    print(f"  forward cost            {money(result.forward):>9} EUR")
    print(f"  spot deviations         {money(result.spot):>9} EUR")
    print(f"  total                   {money(result.total):>9} EUR")
    print(f"  flat tariff would be    {money(result.flat_tariff):>9} EUR ({FLAT_TARIFF_PER_KWH} EUR/kWh)\n")
    print(f"Inspect it: hems ledger --state-dir {target} --from 2015-06-16 --to 2015-06-17")
    return 0
