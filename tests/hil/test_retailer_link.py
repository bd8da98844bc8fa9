"""The retailer simulator against the real retailer link on a real Mosquitto broker."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from agent.clock import ScaledClock
from agent.ledger import Ledger
from agent.link.errors import LinkRefused
from agent.link.link import RetailerLink
from agent.link.messages import Acceptance, encode_acceptance
from agent.link.outbox import Outbox
from agent.link.settings import LinkSettings
from agent.link.topics import Outbound
from agent.market import codec
from agent.market.intervals import Duration, containing
from agent.market.records import Delivery, Product, Side, SpotPrice, Tender
from agent.market.settlement import MeterReading
from drivers.mqtt.client import MqttClient
from drivers.mqtt.settings import BrokerSettings
from hil.plant.data import DATA_DIR
from hil.retailer import BadTender, RetailerSettings, RetailerSim, Wholesale
from hil.retailer.book import HomeTenderState
from tests.support.mosquitto import MosquittoBroker, persistent_broker

WEEK = date(2015, 6, 15)  # the shipped June week

BERLIN = ZoneInfo("Europe/Berlin")
HOME = "home-1"
START = datetime(2026, 6, 15, 11, 40, tzinfo=BERLIN)
SPEED = 10.0


@dataclass
class Pair:
    broker: MosquittoBroker
    clock: ScaledClock
    sim: RetailerSim
    link: RetailerLink
    ledger: Ledger


async def until(what: str, predicate: Callable[[], bool], timeout_s: float = 15.0) -> None:
    try:
        async with asyncio.timeout(timeout_s):
            while not predicate():  # noqa: ASYNC110 (the state lives in paho threads and tasks)
                await asyncio.sleep(0.05)
    except TimeoutError:
        raise AssertionError(f"timed out waiting for {what}") from None


@pytest.fixture
async def pair(tmp_path: Path) -> AsyncIterator[Pair]:
    broker = persistent_broker(tmp_path / "broker")
    broker.start()
    clock = ScaledClock(START, speed=SPEED)
    sim = RetailerSim(
        RetailerSettings(
            host=broker.host, port=broker.port, home=HOME, tz=BERLIN, actionable_h=1, indicative_h=1
        ),
        Wholesale.from_csv(DATA_DIR / "prices_de_2015.csv", BERLIN, date(2026, 6, 15), first_day=WEEK),
        clock,
    )
    settings = LinkSettings(
        tz=BERLIN,
        currency="EUR",
        price_min_per_kwh=Decimal("-1.00"),
        price_max_per_kwh=Decimal("5.00"),
        home_party=HOME,
        retailer_party="retailer",
        max_tender_kw=Decimal(10),
    )
    ledger = Ledger.open(tmp_path / "state", BERLIN, home_party=HOME, clock=clock)
    client = MqttClient(
        BrokerSettings(
            host=broker.host,
            port=broker.port,
            client_id="hems-home-1-retailer",
            prefix=f"tem/retailer/{HOME}/from-home",
            reconnect_min_s=1,
            reconnect_max_s=1,
        ),
        name="retailer link",
        session_expiry_s=3600,
    )
    link = RetailerLink(
        settings=settings, client=client, outbox=Outbox.open(tmp_path / "state"), ledger=ledger, clock=clock
    )
    await link.start()
    await link.wait_connected(10.0)
    await sim.start()
    try:
        yield Pair(broker, clock, sim, link, ledger)
    finally:
        await sim.stop()
        await link.stop()
        ledger.close()
        broker.stop()


async def test_tenders_spot_and_transport_reach_the_home_and_acceptances_are_filled(pair: Pair) -> None:
    sim, link = pair.sim, pair.link
    noon = containing(START + timedelta(minutes=30), Duration.PT1H, BERLIN)
    # The indicative hour is published after the ladders: wait for it too (the link commits each
    # message in turn, so the noon ladder can be in the book a moment before it).
    await until(
        "the noon ladder and the indicative hour after it",
        lambda: (
            len(link.book.snapshot(pair.clock.now()).actionable(interval=noon)) == 6
            and bool(link.book.snapshot(pair.clock.now()).indicative())
        ),
    )
    book = link.book.snapshot(pair.clock.now())
    sells = sorted(o.tender.price_per_kwh for o in book.actionable(Side.SELL, noon))
    buys = sorted(o.tender.price_per_kwh for o in book.actionable(Side.BUY, noon))
    assert len(sells) == len(buys) == 3 and max(buys) < min(sells)
    assert book.indicative() and book.transport
    await until("a spot price", lambda: bool(pair.ledger.spot_prices()))
    # Everything the home stored is exactly what the retailer recorded as offered.
    for t in pair.ledger.received_tenders():
        assert sim.book.offered[t.id] == t

    cheapest = min(book.actionable(Side.SELL, noon), key=lambda o: o.tender.price_per_kwh).tender
    await link.send_acceptance(cheapest.id, Decimal("1.5"))
    await link.send_acceptance(cheapest.id, Decimal("0.5"))
    with pytest.raises(LinkRefused):  # the home's own check: nothing left open
        await link.send_acceptance(cheapest.id, Decimal("0.1"))
    await until("two confirmations", lambda: len(pair.ledger.transactions()) == 2)
    assert sorted(t.quantity_kw for t in pair.ledger.transactions()) == [Decimal("0.5"), Decimal("1.5")]
    assert all(
        t.buyer == HOME and t.price_per_kwh == cheapest.price_per_kwh for t in pair.ledger.transactions()
    )

    # A home that skips its own checks: the retailer never fills beyond the offer, and says so.
    rogue = MqttClient(BrokerSettings(host=pair.broker.host, port=pair.broker.port, client_id="rogue"))
    await rogue.start()
    await rogue.wait_connected(10.0)
    try:
        for aid, tid in (("acc-over", cheapest.id), ("acc-unknown", "no-such-tender")):
            a = Acceptance(aid, tid, HOME, Decimal("1"), pair.clock.now())
            await rogue.publish(link.topics.from_home(Outbound.ACCEPT), codec.dumps(encode_acceptance(a)))
        await until("two error reports", lambda: len(sim.book.errors_sent) == 2)
    finally:
        await rogue.close()
    assert {(r.message_id, r.field) for r in sim.book.errors_sent} == {
        ("acc-over", "quantity_kw"),
        ("acc-unknown", "tender_id"),
    }
    await until("the home hears of them", lambda: link.counters.errors_in == 2)
    assert len(pair.ledger.transactions()) == 2


async def test_home_tenders_cancellation_delivery_and_the_bill(pair: Pair) -> None:
    sim, link, now = pair.sim, pair.link, pair.clock.now()
    hour = containing(now + timedelta(hours=1), Duration.PT1H, BERLIN)
    w = sim.desk.wholesale_over(hour)

    def own(tid: str, side: Side, price: Decimal) -> Tender:
        return Tender(tid, HOME, "retailer", side, Product.ENERGY, hour, Decimal("1.2"), price, "EUR",
                      hour.start_utc - timedelta(minutes=1), True)  # fmt: skip

    cheap_sell = own("h-sell-cheap", Side.SELL, w + Decimal("0.1"))  # below marginal cost: bought
    dear_buy = own("h-buy-low", Side.BUY, w)  # below the retailer's sell price: stays open
    for t in (cheap_sell, dear_buy):
        await link.post_tender(t)
    await until("the cheap offer executed", lambda: bool(pair.ledger.transactions()))
    (tx,) = pair.ledger.transactions()
    assert (tx.tender_id, tx.seller, tx.buyer, tx.quantity_kw) == (
        "h-sell-cheap",
        HOME,
        "retailer",
        Decimal("1.2"),
    )
    await link.cancel(dear_buy.id)
    await until("the withdrawal", lambda: sim.book.home_state.get(dear_buy.id) is HomeTenderState.WITHDRAWN)

    # The home settles a closed interval and reports it; the network charge that follows is
    # booked only because the home's own settlement metered that energy.
    metered = containing(now - timedelta(minutes=10), Duration.PT5M, BERLIN)
    pair.ledger.add_readings(
        [
            MeterReading("grid", metered.start_utc, Decimal("10.000"), Decimal("3.000")),
            MeterReading("grid", metered.end_utc, Decimal("10.125"), Decimal("3.040")),
        ]
    )
    pair.ledger.add_spot_price(SpotPrice(metered, Decimal("0.30"), "EUR"))
    settlement, _ = pair.ledger.settle(metered, HOME, "grid")
    assert settlement.delivery == Delivery(metered, HOME, Decimal("0.125"), Decimal("0.040"))
    await link.send_delivery(settlement.delivery)
    await until("transport charges", lambda: len(pair.ledger.transactions()) == 3)
    transport = sorted(
        (t for t in pair.ledger.transactions() if t.product is Product.TRANSPORT),
        key=lambda t: t.price_per_kwh,
    )
    # 0.040 kWh out at 0.01, 0.125 kWh in at 0.07: rates over five minutes (kWh x 12).
    assert [(t.quantity_kw, t.price_per_kwh) for t in transport] == [
        (Decimal("0.480"), Decimal("0.01")),
        (Decimal("1.500"), Decimal("0.07")),
    ]
    span = (metered.start_utc, hour.end_utc)
    ours, theirs = pair.ledger.bill(HOME, *span), sim.book.bill(*span)
    assert ours.forward == theirs.forward == -Decimal("1.2") * cheap_sell.price_per_kwh
    assert (
        ours.transport
        == theirs.transport
        == Decimal("0.125") * Decimal("0.07") + Decimal("0.040") * Decimal("0.01")
    )


@pytest.mark.parametrize("kind", list(BadTender))
async def test_bad_tenders_are_refused_by_the_home_naming_the_field(pair: Pair, kind: BadTender) -> None:
    fault = await pair.sim.publish_bad(kind)
    await until("the home's error report", lambda: bool(pair.sim.book.errors_received))
    (report,) = pair.sim.book.errors_received
    assert report.field == fault.field
    # The id is echoed only when the payload was readable enough to have a valid one.
    assert report.message_id in (fault.message_id, None)
    assert fault.message_id not in {t.id for t in pair.ledger.received_tenders()}


async def test_silence_then_catch_up_and_a_broker_restart_loses_no_confirmation(pair: Pair) -> None:
    sim, link = pair.sim, pair.link
    await until("a spot price", lambda: bool(pair.ledger.spot_prices()))
    sim.silence(6 * 60)
    quiet_from = len(pair.ledger.spot_prices())
    await asyncio.sleep(5 * 60 / SPEED)
    assert len(pair.ledger.spot_prices()) == quiet_from  # silent: nothing new
    await until("the missed spot prices", lambda: len(pair.ledger.spot_prices()) >= quiet_from + 2, 30.0)

    offer = link.book.snapshot(pair.clock.now()).actionable(Side.BUY)[0].tender
    await asyncio.to_thread(pair.broker.stop)
    await link.send_acceptance(offer.id, Decimal("1"))  # queued durably while the broker is away
    await asyncio.to_thread(pair.broker.start)
    await until("the confirmation after the restart", lambda: bool(pair.ledger.transactions()), 30.0)
    (tx,) = pair.ledger.transactions()
    assert tx == next(iter(sim.book.transactions.values()))
    assert (tx.seller, tx.buyer) == (HOME, "retailer")
