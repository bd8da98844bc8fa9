"""Inbound messages over a real broker: good ones land in the ledger and the book, bad ones are
answered on the error topic naming the field and the id, counted, and change nothing."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest

from agent.clock import Clock
from agent.link.link import RetailerLink
from agent.market import codec
from agent.market.intervals import Duration, containing
from agent.market.records import Product
from tests.link import helpers as h
from tests.link.conftest import LinkFactory
from tests.link.retailer import ScriptedRetailer, until


def handled(link: RetailerLink) -> int:
    c = link.counters
    return sum(c.committed.values()) + sum(c.duplicates.values()) + c.errors_out


async def test_tenders_spot_and_transport_reach_book_and_ledger(
    make_link: LinkFactory, retailer: ScriptedRetailer, clock: Clock
) -> None:
    link = await make_link()
    now = clock.now()
    offer = h.tender(now)
    quote = h.tender(now, actionable=False, interval=h.hour(now, 5))
    transport = h.tender(now, product=Product.TRANSPORT, party="dso", from_node="grid", to_node="home-1")
    spot, spot_json = h.spot(now)
    retailer.publish("tender", h.tender_json(offer))
    retailer.publish("tender", h.tender_json(quote))
    retailer.publish("transport", h.tender_json(transport))
    retailer.publish("spot", spot_json)
    await until(lambda: handled(link) == 4)

    snap = link.book.snapshot(clock.now())
    assert [o.tender for o in snap.actionable()] == [offer]
    assert snap.actionable()[0].available_kw == Decimal(3)
    assert [o.tender for o in snap.indicative()] == [quote]
    assert [o.tender for o in snap.transport] == [transport]
    assert snap.spot_for(spot.interval) == [spot]
    stored = {t.id for t in link.ledger.received_tenders()}
    assert stored == {offer.id, quote.id, transport.id}
    assert link.ledger.spot_price_for(spot.interval) == [spot]
    assert link.counters.errors_out == 0


async def test_book_change_wakes_the_waiting_cycle(
    make_link: LinkFactory, retailer: ScriptedRetailer, clock: Clock
) -> None:
    link = await make_link()
    version = link.book.version
    waiter = asyncio.create_task(link.book.wait_changed(version, timeout_s=10.0))
    await asyncio.sleep(0.05)
    assert not waiter.done()
    retailer.publish("tender", h.tender_json(h.tender(clock.now())))
    assert await waiter is True
    # Nothing else arrives: the wait ends with False at its timeout, not with an exception.
    assert await link.book.wait_changed(link.book.version, timeout_s=0.1) is False


def _mutate(**changes: Any) -> Callable[[dict[str, Any]], dict[str, Any]]:
    def apply(obj: dict[str, Any]) -> dict[str, Any]:
        out = {**obj, **changes}
        return {k: v for k, v in out.items() if v is not ...}

    return apply


def _misaligned(obj: dict[str, Any]) -> dict[str, Any]:
    start = obj["interval"]["start"].replace(":00:00+", ":07:00+")
    return {**obj, "interval": {**obj["interval"], "start": start}}


def _expired(obj: dict[str, Any]) -> dict[str, Any]:
    return {**obj, "expires": (h.START - timedelta(minutes=1)).isoformat()}


def _too_short(obj: dict[str, Any]) -> dict[str, Any]:
    # A 5-minute block cannot be settled against 15-minute metering: refused by the link.
    start = obj["interval"]["start"]
    return {**obj, "interval": {"start": start, "duration": "PT5M"}}


BAD_TENDERS = [
    pytest.param(_mutate(price="12.00"), "price", id="over-cap"),
    pytest.param(_mutate(currency="USD"), "currency", id="wrong-currency"),
    pytest.param(_misaligned, "interval.start", id="misaligned"),
    pytest.param(_expired, "expires", id="expired"),
    pytest.param(_too_short, "interval.duration", id="shorter-than-metering"),
    pytest.param(_mutate(quantity_kw="-2"), "quantity_kw", id="negative-quantity"),
    pytest.param(_mutate(quantity_kw=...), "quantity_kw", id="missing-field"),
    pytest.param(_mutate(colour="red"), "colour", id="unknown-field"),
    pytest.param(_mutate(party="someone-else"), "party", id="not-the-retailer"),
    pytest.param(_mutate(counterparty="home-2"), "counterparty", id="for-another-home"),
    pytest.param(_mutate(product="transport", **{"from": "a", "to": "b"}), "product", id="wrong-topic"),
]


@pytest.mark.parametrize(("mutate", "field"), BAD_TENDERS)
async def test_bad_tender_is_answered_counted_and_changes_nothing(
    make_link: LinkFactory,
    retailer: ScriptedRetailer,
    clock: Clock,
    mutate: Callable[[dict[str, Any]], dict[str, Any]],
    field: str,
) -> None:
    link = await make_link()
    bad = h.tender(clock.now())
    version = link.book.version
    retailer.publish("tender", mutate(h.tender_json(bad)))
    errors = await retailer.wait_for("error")
    report = errors[0].json
    assert report["message_id"] == bad.id
    assert report["field"] == field
    assert report["topic"].endswith("/to-home/tender")
    assert report["error"]
    # An invented key is counted under one label, whatever it is (bounded metrics).
    label = "other" if field == "colour" else field
    assert link.counters.rejected[("tender", label)] == 1
    assert link.book.version == version
    assert link.ledger.received_tenders() == []
    # The link is still well: a good tender after the bad one goes through.
    good = h.tender(clock.now())
    retailer.publish("tender", h.tender_json(good))
    await until(lambda: link.book.tender(good.id) is not None)


@pytest.mark.parametrize(
    ("kind", "payload", "field", "message_id"),
    [
        pytest.param("tender", b"{not json", "message", None, id="not-json"),
        pytest.param("tender", b"[1, 2]", "message", None, id="not-an-object"),
        pytest.param("tender", b'{"id": "x 1"}', "product", None, id="bad-id-not-echoed"),
        pytest.param("spot", b'{"id": "s-1", "price": "NaN"}', "interval", "s-1", id="spot-missing-interval"),
        pytest.param("offers", b'{"id": "o-1"}', "topic", None, id="unknown-kind"),
        pytest.param("transaction", b'{"id": "x-1", "price": NaN}', "message", None, id="bare-nan"),
    ],
)
async def test_garbage_is_answered_with_field_and_id(
    *,
    make_link: LinkFactory,
    retailer: ScriptedRetailer,
    kind: str,
    payload: bytes,
    field: str,
    message_id: str | None,
) -> None:
    link = await make_link()
    retailer.publish_raw(kind, payload)
    report = (await retailer.wait_for("error"))[0].json
    assert report["field"] == field
    assert report["message_id"] == message_id
    assert sum(link.counters.rejected.values()) == 1
    assert link.ledger.received_tenders() == [] and link.ledger.transaction_count() == 0


async def test_transaction_not_involving_this_home_is_refused(
    make_link: LinkFactory, retailer: ScriptedRetailer, clock: Clock
) -> None:
    link = await make_link()
    t = h.tender(clock.now())
    tx = h.confirming(t, Decimal(1), clock.now())
    stranger = {**codec.encode_transaction(tx), "buyer": "home-2"}
    retailer.publish("transaction", stranger)
    report = (await retailer.wait_for("error"))[0].json
    assert (report["field"], report["message_id"]) == ("buyer", tx.id)
    assert link.ledger.transaction_count() == 0


async def test_duplicates_are_harmless(
    make_link: LinkFactory, retailer: ScriptedRetailer, clock: Clock
) -> None:
    link = await make_link()
    now = clock.now()
    t = h.tender(now)
    retailer.publish("tender", h.tender_json(t))
    await until(lambda: link.book.tender(t.id) is not None)
    await link.send_acceptance(t.id, Decimal(2))
    tx = h.confirming(t, Decimal(2), now)
    retailer.publish("transaction", codec.encode_transaction(tx))
    retailer.publish("tender", h.tender_json(t))
    retailer.publish("transaction", codec.encode_transaction(tx))
    await until(lambda: handled(link) == 4)
    assert link.counters.duplicates["tender"] == 1 and link.counters.duplicates["transaction"] == 1
    assert link.ledger.transactions() == [tx]
    assert link.book.available_kw(t.id) == Decimal(1)  # 3 kW offered, 2 kW executed
    assert link.counters.errors_out == 0


async def test_a_confirmation_before_any_acceptance_is_refused(
    make_link: LinkFactory, retailer: ScriptedRetailer, clock: Clock
) -> None:
    # Guards booking on trust: a transaction for a tender the home never accepted was booked.
    link = await make_link()
    now = clock.now()
    t = h.tender(now)
    retailer.publish("tender", h.tender_json(t))
    tx = h.confirming(t, Decimal(2), now)
    retailer.publish("transaction", codec.encode_transaction(tx))
    report = (await retailer.wait_for("error"))[0].json
    assert (report["field"], report["message_id"]) == ("tender_id", tx.id)
    assert link.ledger.transaction_count() == 0


async def test_same_id_with_other_content_is_refused_not_overwritten(
    make_link: LinkFactory, retailer: ScriptedRetailer, clock: Clock
) -> None:
    link = await make_link()
    t = h.tender(clock.now())
    retailer.publish("tender", h.tender_json(t))
    retailer.publish("tender", {**h.tender_json(t), "price": "0.99"})
    report = (await retailer.wait_for("error"))[0].json
    assert report["message_id"] == t.id
    assert link.ledger.received_tenders() == [t]
    assert link.book.tender(t.id) == t


async def test_spot_price_is_final_once_received(
    make_link: LinkFactory, retailer: ScriptedRetailer, clock: Clock
) -> None:
    link = await make_link()
    first, first_json = h.spot(clock.now(), "0.30")
    _, second_json = h.spot(clock.now(), "0.31")
    retailer.publish("spot", first_json)
    retailer.publish("spot", second_json)
    report = (await retailer.wait_for("error"))[0].json
    assert report["message_id"] == second_json["id"]
    interval = containing(clock.now(), Duration.PT15M, h.BERLIN)
    assert link.ledger.spot_price_for(interval) == [first]


async def test_a_spot_price_beyond_the_caps_is_kept_for_settlement_and_logged_as_unusual(
    make_link: LinkFactory, retailer: ScriptedRetailer, clock: Clock, caplog: pytest.LogCaptureFixture
) -> None:
    # Guards a stalled settlement: a 9.00/kWh spot (caps -1..5) was refused, so its interval
    # could never settle. ERCOT's day-ahead price reached 8.99 $/kWh in February 2021.
    link = await make_link()
    high, high_json = h.spot(clock.now(), "9.00")
    retailer.publish("spot", high_json)
    await until(lambda: link.counters.committed["spot"] == 1)
    assert link.ledger.spot_price_for(high.interval) == [high]
    assert any("unusual spot price 9.00" in r.getMessage() for r in caplog.records)
    # Beyond ten times the caps it is garbage.
    _, absurd_json = h.spot(clock.now() + timedelta(minutes=15), "50.01")
    retailer.publish("spot", absurd_json)
    (report,) = await retailer.wait_for("error")
    assert (report.json["message_id"], report.json["field"]) == (absurd_json["id"], "price")
