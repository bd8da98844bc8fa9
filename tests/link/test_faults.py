"""Nothing acknowledged is lost: broker restarts, agent restarts, a ledger that refuses writes."""

from __future__ import annotations

import asyncio
from decimal import Decimal
from pathlib import Path

from agent.clock import Clock
from agent.ledger import Ledger
from agent.ledger.errors import LedgerStorageError
from agent.link.messages import decode_acceptance
from agent.market.records import Tender
from tests.link import helpers as h
from tests.link.conftest import LinkFactory
from tests.link.retailer import ScriptedRetailer, until
from tests.support.mosquitto import MosquittoBroker

FLUSH_S = 15.0


class FailingLedger(Ledger):
    """A real ledger whose tender writes fail while ``failing`` (a full disk, an I/O error)."""

    failing = True
    attempts = 0

    def add_received_tender(self, t: Tender) -> object:  # type: ignore[override]
        self.attempts += 1
        if self.failing:
            raise LedgerStorageError("disk I/O error (injected)")
        return super().add_received_tender(t)


def open_failing(state: Path, clock: Clock) -> FailingLedger:
    ledger = FailingLedger.open(state, h.BERLIN, home_party=h.HOME, clock=clock)
    assert isinstance(ledger, FailingLedger)
    return ledger


async def test_broker_restart_loses_nothing_in_either_direction(
    make_link: LinkFactory, retailer: ScriptedRetailer, broker: MosquittoBroker, clock: Clock
) -> None:
    link = await make_link()
    offer = h.tender(clock.now())
    retailer.publish("tender", h.tender_json(offer))
    await until(lambda: link.book.tender(offer.id) is not None)

    broker.stop()
    await until(lambda: not link.client.connected)
    # Queued while the broker is down: committed to the outbox, published when it is back.
    accepted = await link.send_acceptance(offer.id, Decimal(1))
    delivery_id = await link.send_delivery(h.delivery(clock.now()))
    assert link.outbox.pending_count() == 2
    broker.start()
    # A retailer connecting at once publishes before the agent has reconnected (its reconnect
    # waits a second): the broker keeps it in the agent's persisted session.
    late = h.tender(clock.now(), interval=h.hour(clock.now(), 3))
    quick = ScriptedRetailer(broker.host, broker.port, retailer.topics, client_id="retailer-2")
    try:
        quick.publish("tender", h.tender_json(late))
    finally:
        quick.close()
    await link.flush(FLUSH_S)
    try:
        accepts = await retailer.wait_for("accept", timeout_s=FLUSH_S)
    except TimeoutError:
        # What the broker saw (who connected, with which session, what it queued) says why.
        kinds = [r.kind for r in retailer.received()]
        raise AssertionError(
            f"the retailer (connected: {retailer.connected.is_set()}) got {kinds} but no acceptance;"
            f" broker log:\n{broker.log_tail(60)}"
        ) from None
    assert [decode_acceptance(r.payload) for r in accepts][-1] == accepted
    deliveries = await retailer.wait_for("delivery", timeout_s=FLUSH_S)
    assert deliveries[-1].json["id"] == delivery_id
    await until(lambda: link.book.tender(late.id) is not None, timeout_s=FLUSH_S)
    assert {t.id for t in link.ledger.received_tenders()} == {offer.id, late.id}


async def test_agent_restart_resends_unacknowledged_rows_and_receives_what_it_missed(
    make_link: LinkFactory, retailer: ScriptedRetailer, broker: MosquittoBroker, clock: Clock, tmp_path: Path
) -> None:
    state = tmp_path / "state"
    first = await make_link(state_dir=state)
    offer = h.tender(clock.now())
    retailer.publish("tender", h.tender_json(offer))
    await until(lambda: first.book.tender(offer.id) is not None)
    bid = h.own_tender(clock.now())
    broker.stop()
    await until(lambda: not first.client.connected)
    accepted = await first.send_acceptance(offer.id, Decimal(2))
    await first.post_tender(bid)
    await first.stop()  # the agent stops (or dies) with both rows unacknowledged
    first.ledger.close()
    broker.start()
    # Published while no agent is connected: waits in the agent's session at the broker.
    missed = h.tender(clock.now(), interval=h.hour(clock.now(), 4))
    retailer.connected.wait(5)
    retailer.publish("tender", h.tender_json(missed))

    second = await make_link(state_dir=state)
    await second.flush(FLUSH_S)
    accepts = await retailer.wait_for("accept", timeout_s=FLUSH_S)
    assert [decode_acceptance(r.payload) for r in accepts] == [accepted]  # same id as before
    tenders = await retailer.wait_for("tender", timeout_s=FLUSH_S)
    assert [r.json["id"] for r in tenders] == [bid.id]
    await until(lambda: second.book.tender(missed.id) is not None, timeout_s=FLUSH_S)
    # The book came back from disk: the offer, the kilowatts already accepted, the home's bid.
    assert second.book.available_kw(offer.id) == offer.quantity_kw - 2
    assert second.book.tender(bid.id) == bid
    assert [s.status for s in second.ledger.tender_history(bid.id)] == ["posted"]


async def test_message_whose_ledger_write_failed_is_redelivered(
    make_link: LinkFactory, retailer: ScriptedRetailer, clock: Clock, tmp_path: Path
) -> None:
    state = tmp_path / "state"
    failing = open_failing(state, clock)
    first = await make_link(state_dir=state, ledger=failing)
    offer = h.tender(clock.now())
    retailer.publish("tender", h.tender_json(offer))
    await until(lambda: first.counters.commit_failures >= 2)  # retried, never dropped
    assert first.book.tender(offer.id) is None
    assert first.state.value == "degraded"
    await first.stop()  # not acknowledged: the broker still holds it for this session
    failing.close()

    second = await make_link(state_dir=state)
    await until(lambda: second.book.tender(offer.id) is not None)
    assert second.ledger.received_tenders() == [offer]
    assert second.counters.errors_out == 0


async def test_ledger_recovers_in_place_then_the_message_is_acknowledged_once(
    make_link: LinkFactory, retailer: ScriptedRetailer, clock: Clock, tmp_path: Path
) -> None:
    state = tmp_path / "state"
    failing = open_failing(state, clock)
    first = await make_link(state_dir=state, ledger=failing)
    offer = h.tender(clock.now())
    retailer.publish("tender", h.tender_json(offer))
    await until(lambda: failing.attempts >= 2)
    failing.failing = False
    await until(lambda: first.book.tender(offer.id) is not None)
    assert first.state.value == "running"
    await first.stop()
    failing.close()

    # Acknowledged after the commit: a restarted agent does not get it again. The marker sent
    # after the restart comes behind anything the broker would still redeliver.
    second = await make_link(state_dir=state)
    marker = h.tender(clock.now())
    retailer.publish("tender", h.tender_json(marker))
    await until(lambda: second.book.tender(marker.id) is not None)
    await asyncio.sleep(0.1)
    assert second.counters.received["tender"] == 1
    assert {t.id for t in second.ledger.received_tenders()} == {offer.id, marker.id}
