"""Which inbound transactions the home books: the matching rules on their own, and forged
confirmations and replays sent over a real broker that leave the ledger file unchanged."""

from __future__ import annotations

import sqlite3
from dataclasses import replace
from datetime import timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from agent.clock import Clock
from agent.ledger.evidence import Evidence, Metered
from agent.link import matching
from agent.market import codec
from agent.market.errors import CodecError
from agent.market.intervals import Duration, containing
from agent.market.records import Product, Transaction
from tests.link import helpers as h
from tests.link.conftest import LinkFactory
from tests.link.retailer import ScriptedRetailer, until

S = h.settings()
NOW = h.START
OFFER = h.tender(NOW, id="t-offer")  # the retailer sells 3 kW at 0.25
OWN_BID = h.own_tender(NOW, id="h-bid", quantity_kw=Decimal("2"))  # the home buys 2 kW at 0.18
METERED_5M = containing(NOW - timedelta(minutes=10), Duration.PT5M, h.BERLIN)
NETWORK = h.tender(
    NOW,
    id="n-imp",
    party="dso",
    product=Product.TRANSPORT,
    interval=containing(METERED_5M.start_utc, Duration.PT1H, h.BERLIN),
    price_per_kwh=Decimal("0.07"),
    from_node="grid",
    to_node=h.HOME,
)


def evidence(**fields: Any) -> Evidence:
    base: dict[str, Any] = {
        "received": None,
        "posted": None,
        "accepted_kw": Decimal(0),
        "executed": (),
        "metered": None,
    }
    return Evidence(**{**base, **fields})


def network_charge(kw: str) -> Transaction:
    return Transaction(
        "tr-1", NETWORK.id, h.HOME, "dso", Product.TRANSPORT, METERED_5M, Decimal(kw), Decimal("0.07"), "EUR",
        NOW, from_node="grid", to_node=h.HOME,
    )  # fmt: skip


ACCEPTED = evidence(received=OFFER, accepted_kw=Decimal(2))
CONFIRM = h.confirming(OFFER, Decimal(2), NOW, "tx-ok")
POSTED = evidence(posted=OWN_BID)
EXECUTE = h.confirming(OWN_BID, Decimal(2), NOW, "tx-own")
SETTLED = evidence(received=NETWORK, metered=Metered(Decimal("0.125"), Decimal("0.04")))


@pytest.mark.parametrize(
    ("tx", "ev"),
    [
        pytest.param(CONFIRM, ACCEPTED, id="acceptance-confirmed"),
        pytest.param(replace(CONFIRM, quantity_kw=Decimal("1.5")), ACCEPTED, id="partial-fill"),
        pytest.param(EXECUTE, POSTED, id="own-tender-executed"),
        pytest.param(network_charge("1.5"), SETTLED, id="network-charge-for-metered-import"),
        # The same charge delivered again is not a second charge.
        pytest.param(
            network_charge("1.5"),
            replace(SETTLED, executed=(network_charge("1.5"),)),
            id="network-same-id-again",
        ),
        # A redelivered transaction does not count against itself.
        pytest.param(CONFIRM, replace(ACCEPTED, executed=(CONFIRM,)), id="same-id-again"),
    ],
)
def test_what_the_home_agreed_to_is_booked(tx: Transaction, ev: Evidence) -> None:
    matching.check(S, tx, ev)


@pytest.mark.parametrize(
    ("tx", "ev", "field"),
    [
        pytest.param(CONFIRM, evidence(), "tender_id", id="unknown-tender"),
        pytest.param(CONFIRM, evidence(received=OFFER), "tender_id", id="never-accepted"),
        pytest.param(
            replace(CONFIRM, quantity_kw=Decimal("2.5")), ACCEPTED, "quantity_kw", id="more-than-accepted"
        ),
        pytest.param(
            replace(CONFIRM, id="tx-replay"),
            replace(ACCEPTED, executed=(CONFIRM,)),
            "quantity_kw",
            id="replay-new-id",
        ),
        pytest.param(replace(CONFIRM, price_per_kwh=Decimal("0.26")), ACCEPTED, "price", id="other-price"),
        pytest.param(
            replace(CONFIRM, interval=h.hour(NOW, 2)), ACCEPTED, "interval.start", id="other-interval"
        ),
        pytest.param(
            replace(CONFIRM, buyer="retailer", seller=h.HOME), ACCEPTED, "buyer", id="sides-swapped"
        ),
        pytest.param(
            replace(EXECUTE, quantity_kw=Decimal("2.1")), POSTED, "quantity_kw", id="more-than-posted"
        ),
        pytest.param(
            replace(EXECUTE, id="tx-own-2"),
            replace(POSTED, executed=(EXECUTE,)),
            "quantity_kw",
            id="own-replayed",
        ),
        pytest.param(replace(EXECUTE, price_per_kwh=Decimal("0.30")), POSTED, "price", id="own-other-price"),
        pytest.param(network_charge("1.6"), SETTLED, "quantity_kw", id="network-more-than-metered"),
        pytest.param(
            network_charge("1.5"), replace(SETTLED, metered=None), "interval.start", id="network-unsettled"
        ),
        pytest.param(
            replace(network_charge("1.5"), id="tr-2"),
            replace(SETTLED, executed=(network_charge("1.5"),)),
            "quantity_kw",
            id="network-replayed-new-id",
        ),
        pytest.param(
            network_charge("1.5"), evidence(received=OFFER), "tender_id", id="network-on-energy-tender"
        ),
        pytest.param(network_charge("1.5"), evidence(), "tender_id", id="network-unknown-tender"),
        pytest.param(
            network_charge("1.5"),
            replace(SETTLED, received=replace(NETWORK, party="someone")),
            "tender_id",
            id="network-tender-from-a-stranger",
        ),
        pytest.param(
            replace(network_charge("1.5"), to_node="elsewhere"), SETTLED, "to", id="network-other-node"
        ),
    ],
)
def test_what_the_home_did_not_agree_to_is_refused_naming_the_field(
    tx: Transaction, ev: Evidence, field: str
) -> None:
    with pytest.raises(CodecError) as err:
        matching.check(S, tx, ev)
    assert err.value.field == field
    assert err.value.message_id == tx.id


def _ledger_rows(path: Path) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of the money tables, read from the file by a connection of its own."""
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        return {
            table: conn.execute(f"SELECT * FROM {table} ORDER BY 1").fetchall()
            for table in ("transactions", "tenders_received", "acceptances", "settlements")
        }
    finally:
        conn.close()


async def test_forged_confirmations_and_replays_leave_the_ledger_file_unchanged(
    make_link: LinkFactory, retailer: ScriptedRetailer, clock: Clock
) -> None:
    link = await make_link()
    now = clock.now()
    offer = h.tender(now)
    retailer.publish("tender", h.tender_json(offer))
    await until(lambda: link.book.tender(offer.id) is not None)
    await link.send_acceptance(offer.id, Decimal(2))
    genuine = h.confirming(offer, Decimal(2), now, "tx-genuine")
    retailer.publish("transaction", codec.encode_transaction(genuine))
    await until(lambda: link.counters.committed["transaction"] == 1)
    before = _ledger_rows(link.ledger.path)
    assert [row[0] for row in before["transactions"]] == ["tx-genuine"]

    stranger = h.tender(now, id="t-never-offered")
    forged: list[tuple[dict[str, Any], str]] = [
        (codec.encode_transaction(replace(genuine, id="tx-replayed")), "quantity_kw"),
        (codec.encode_transaction(h.confirming(stranger, Decimal(1), now, "tx-unknown")), "tender_id"),
        ({**codec.encode_transaction(genuine), "id": "tx-dear", "price": "0.99"}, "price"),
        ({**codec.encode_transaction(genuine), "price": "0.99"}, "price"),  # same id, other content
        ({**codec.encode_transaction(genuine), "id": "tx-dso", "seller": "dso"}, "seller"),
    ]
    for payload, _ in forged:
        retailer.publish("transaction", payload)
    reports = await retailer.wait_for("error", lambda got: len(got) >= len(forged))
    assert [(r.json["message_id"], r.json["field"]) for r in reports] == [
        (payload["id"], field) for payload, field in forged
    ]
    # A replay of the genuine confirmation, byte for byte, is a duplicate: acknowledged, no change.
    retailer.publish("transaction", codec.encode_transaction(genuine))
    await until(lambda: link.counters.duplicates["transaction"] + link.counters.committed["transaction"] == 2)
    assert _ledger_rows(link.ledger.path) == before
    assert link.book.available_kw(offer.id) == Decimal(1)
