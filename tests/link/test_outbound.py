"""Outbound messages over a real broker: acceptances and their confirmations, the home's own
tenders and cancellations, deliveries, the heartbeat and the last will."""

from __future__ import annotations

import socket
from collections.abc import Callable
from datetime import datetime
from decimal import Decimal

import pytest

from agent import __version__
from agent.clock import Clock
from agent.link.errors import LinkNotRunning, LinkRefused
from agent.link.messages import LinkState, decode_acceptance, decode_cancellation, decode_heartbeat
from agent.link.topics import Topics
from agent.market import codec
from agent.market.records import Tender
from tests.link import helpers as h
from tests.link.conftest import LinkFactory
from tests.link.retailer import ScriptedRetailer, until
from tests.support.mosquitto import MosquittoBroker

FLUSH_S = 10.0


async def test_acceptance_goes_out_and_its_confirmation_lands_once(
    make_link: LinkFactory, retailer: ScriptedRetailer, clock: Clock
) -> None:
    link = await make_link()
    offer = h.tender(clock.now())
    retailer.publish("tender", h.tender_json(offer))
    await until(lambda: link.book.tender(offer.id) is not None)

    sent = await link.send_acceptance(offer.id, Decimal("2.5"))
    got = await retailer.wait_for("accept")
    wire = decode_acceptance(got[0].payload)
    assert wire == sent
    assert (wire.tender_id, wire.party, wire.quantity_kw) == (offer.id, h.HOME, Decimal("2.5"))
    # Reserved at once: a second cycle cannot accept the same kilowatts again.
    assert link.book.available_kw(offer.id) == Decimal("0.5")
    with pytest.raises(LinkRefused) as e:
        await link.send_acceptance(offer.id, Decimal(1))
    assert e.value.field == "quantity_kw"

    tx = h.confirming(offer, Decimal("2.5"), clock.now())
    retailer.publish("transaction", codec.encode_transaction(tx))
    retailer.publish("transaction", codec.encode_transaction(tx))  # the retailer repeats itself
    await until(lambda: link.counters.duplicates["transaction"] == 1)
    assert link.ledger.transactions() == [tx]
    assert link.ledger.positions([h.hour(clock.now())], h.HOME) == [Decimal("2.5")]
    await link.flush(FLUSH_S)
    assert link.counters.acked["accept"] == 1 and link.counters.pending == 0


@pytest.mark.parametrize(
    ("make", "quantity", "field"),
    [
        pytest.param(lambda now: h.tender(now, actionable=False), "1", "tender_id", id="indicative"),
        pytest.param(h.tender, "0", "quantity_kw", id="zero"),
        pytest.param(
            lambda now: h.tender(now, quantity_kw=Decimal(50)), "11", "quantity_kw", id="over-config-limit"
        ),
    ],
)
async def test_acceptance_refused_before_anything_is_queued(
    *,
    make_link: LinkFactory,
    retailer: ScriptedRetailer,
    clock: Clock,
    make: Callable[[datetime], Tender],
    quantity: str,
    field: str,
) -> None:
    link = await make_link()
    t = make(clock.now())
    retailer.publish("tender", h.tender_json(t))
    await until(lambda: link.book.tender(t.id) is not None)
    with pytest.raises(LinkRefused) as e:
        await link.send_acceptance(t.id, Decimal(quantity))
    assert e.value.field == field
    assert link.outbox.pending_count() == 0 and link.outbox.rows("accept") == []


async def test_unknown_tender_cannot_be_accepted(make_link: LinkFactory) -> None:
    link = await make_link()
    with pytest.raises(LinkRefused) as e:
        await link.send_acceptance("never-offered", Decimal(1))
    assert e.value.field == "tender_id"


async def test_own_tender_posted_executed_and_another_cancelled(
    make_link: LinkFactory, retailer: ScriptedRetailer, clock: Clock
) -> None:
    link = await make_link()
    now = clock.now()
    bid, other = h.own_tender(now), h.own_tender(now, interval=h.hour(now, 2))
    await link.post_tender(bid)
    await link.post_tender(other)
    got = await retailer.wait_for("tender", lambda r: len(r) == 2)
    assert [codec.decode_tender(r.payload, h.settings().codec_context(now)) for r in got] == [bid, other]
    assert {t.id for t in link.ledger.posted_tenders()} == {bid.id, other.id}
    assert [o.tender for o in link.book.snapshot(clock.now()).own] == [bid, other]

    # The retailer takes 1 kW of the home's bid: the home sells nothing, it buys (bid side buy).
    tx = h.confirming(bid, Decimal(1), clock.now())
    assert (tx.buyer, tx.seller) == (h.HOME, h.RETAILER)
    retailer.publish("transaction", codec.encode_transaction(tx))
    await until(lambda: link.counters.committed["transaction"] == 1)
    assert [s.status for s in link.ledger.tender_history(bid.id)] == ["posted", "executed"]
    assert link.book.available_kw(bid.id) == bid.quantity_kw - 1

    c = await link.cancel(other.id)
    wire = decode_cancellation((await retailer.wait_for("cancel"))[0].payload)
    assert wire == c and wire.tender_id == other.id
    assert [s.status for s in link.ledger.tender_history(other.id)] == ["posted", "withdrawn"]
    assert [o.tender for o in link.book.snapshot(clock.now()).own] == [bid]
    with pytest.raises(LinkRefused):
        await link.cancel(other.id)  # already withdrawn


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        pytest.param({"price_per_kwh": Decimal("9")}, "price", id="over-cap"),
        pytest.param({"party": "home-2"}, "party", id="not-the-home"),
        pytest.param({"quantity_kw": Decimal(11)}, "quantity_kw", id="over-limit"),
        pytest.param({"currency": "USD"}, "currency", id="currency"),
    ],
)
async def test_bad_own_tender_is_refused(
    make_link: LinkFactory, clock: Clock, overrides: dict[str, object], field: str
) -> None:
    link = await make_link()
    with pytest.raises(LinkRefused) as e:
        await link.post_tender(h.own_tender(clock.now(), **overrides))
    assert e.value.field == field
    assert link.ledger.posted_tenders() == [] and link.outbox.rows() == []


async def test_retailer_error_about_own_tender_is_recorded(
    make_link: LinkFactory, retailer: ScriptedRetailer, clock: Clock
) -> None:
    link = await make_link()
    bid = h.own_tender(clock.now())
    await link.post_tender(bid)
    report = {
        "id": "e-1",
        "message_id": bid.id,
        "topic": "x/from-home/tender",
        "field": "price",
        "error": "too low",
    }
    retailer.publish("error", report)
    await until(lambda: link.counters.errors_in == 1)
    assert [s.status for s in link.ledger.tender_history(bid.id)] == ["posted", "rejected"]


async def test_delivery_has_one_id_per_interval(
    make_link: LinkFactory, retailer: ScriptedRetailer, clock: Clock
) -> None:
    link = await make_link()
    d = h.delivery(clock.now())
    first = await link.send_delivery(d)
    assert await link.send_delivery(d) == first  # sent again after a restart: same id
    await link.flush(FLUSH_S)
    got = await retailer.wait_for("delivery")
    assert len(got) == 1
    assert codec.decode_delivery(got[0].payload, h.settings().codec_context(None)) == d
    assert got[0].json["id"] == first


async def test_heartbeat_retained_and_offline_on_stop(
    make_link: LinkFactory, retailer: ScriptedRetailer, broker: MosquittoBroker, topics: Topics
) -> None:
    link = await make_link()
    beats = await retailer.wait_for("heartbeat")
    hb = decode_heartbeat(beats[0].payload)
    assert (hb.party, hb.state, hb.version) == (h.HOME, LinkState.RUNNING, __version__)
    late = ScriptedRetailer(broker.host, broker.port, topics, client_id="late-reader")
    try:
        kept = await late.wait_for("heartbeat")
        assert kept[0].retain  # a retailer that connects later still sees the home's state
    finally:
        late.close()
    await link.stop()
    status = await retailer.wait_for("status", lambda r: bool(r) and r[-1].payload == b"offline")
    assert status[-1].payload == b"offline"
    assert decode_heartbeat(retailer.received("heartbeat")[-1].payload).state is LinkState.STOPPED
    with pytest.raises(LinkNotRunning):
        await link.send_delivery(h.delivery(h.START))


async def test_last_will_says_offline_when_the_connection_dies(
    make_link: LinkFactory, retailer: ScriptedRetailer
) -> None:
    link = await make_link()
    await retailer.wait_for("status", lambda r: bool(r) and r[-1].payload == b"online")
    # Fault injection: the TCP connection dies without a DISCONNECT (power cut, cable pulled).
    sock = link.client._paho.socket()
    assert isinstance(sock, socket.socket)
    sock.shutdown(socket.SHUT_RDWR)
    await retailer.wait_for("status", lambda r: any(x.payload == b"offline" for x in r))
    # ... and the link comes back by itself.
    await retailer.wait_for("status", lambda r: bool(r) and r[-1].payload == b"online")
