"""The tender book (expiry by the clock, open quantities) and the durable outbox (real SQLite)."""

from __future__ import annotations

import sqlite3
from datetime import datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from agent.link.book import SPOT_KEEP, TenderBook
from agent.link.errors import OutboxConflict
from agent.link.outbox import FILE_NAME, Outbox
from agent.market.records import Side
from tests.link import helpers as h

NOW = h.START


def test_prune_drops_expired_tenders_and_old_spot_prices() -> None:
    book = TenderBook(h.HOME)
    soon = h.tender(NOW, expires=NOW + timedelta(minutes=5))
    later = h.tender(NOW, expires=NOW + timedelta(hours=1))
    own = h.own_tender(NOW, expires=NOW + timedelta(minutes=5))
    spot, _ = h.spot(NOW)
    for t in (soon, later, own):
        book.add_tender(t)
    book.set_spot(spot)
    version = book.version
    assert book.prune(NOW) == []
    assert book.version == version  # nothing changed: no wake-up for the cycle
    gone = book.prune(NOW + timedelta(minutes=5))
    assert {t.id for t in gone} == {soon.id, own.id}
    snap = book.snapshot(NOW + timedelta(minutes=5))
    assert [o.tender for o in snap.offers] == [later] and snap.own == ()
    assert book.version > version
    book.prune(spot.interval.end_utc + timedelta(hours=2))
    assert book.snapshot(NOW).spot == ()


def test_open_quantity_counts_accepted_and_executed_once() -> None:
    book = TenderBook(h.HOME)
    t = h.tender(NOW, quantity_kw=Decimal(5))
    book.add_tender(t)
    book.reserve(t.id, "a-1", Decimal(2))
    book.reserve(t.id, "a-1", Decimal(2))  # the same acceptance again: still 2 kW
    assert book.available_kw(t.id) == Decimal(3)
    book.add_transaction(h.confirming(t, Decimal(2), NOW, tx_id="x-1"))
    # The confirmation of the acceptance is not a second 2 kW.
    assert book.available_kw(t.id) == Decimal(3)
    book.add_transaction(h.confirming(t, Decimal(1), NOW, tx_id="x-2"))
    assert book.available_kw(t.id) == Decimal(2)


def test_a_snapshot_taken_again_drops_what_expired_meanwhile_though_nothing_was_written() -> None:
    book = TenderBook(h.HOME)
    soon = h.tender(NOW, expires=NOW + timedelta(minutes=5))
    later = h.tender(NOW, expires=NOW + timedelta(hours=1))
    for t in (soon, later):
        book.add_tender(t)
    first = book.snapshot(NOW)
    again = book.snapshot(NOW + timedelta(minutes=4))
    assert [o.tender for o in again.offers] == [o.tender for o in first.offers]
    assert again.taken == NOW + timedelta(minutes=4)
    expired = book.snapshot(NOW + timedelta(minutes=5))
    assert [o.tender for o in expired.offers] == [later]
    # an acceptance written since changes what is open, at once
    book.reserve(later.id, "a-1", Decimal(1))
    (offer,) = book.snapshot(NOW + timedelta(minutes=5)).offers
    assert offer.available_kw == later.quantity_kw - Decimal(1)
    # a clock that went back gets a snapshot of its own instant
    back = book.snapshot(NOW)
    assert {o.tender.id for o in back.offers} == {soon.id, later.id} and back.taken == NOW


def test_snapshot_filters_by_side_and_interval() -> None:
    book = TenderBook(h.HOME)
    sell = h.tender(NOW)
    buy = h.tender(NOW, side=Side.BUY, price_per_kwh=Decimal("0.10"))
    later = h.tender(NOW, interval=h.hour(NOW, 2))
    for t in (later, buy, sell):
        book.add_tender(t)
    snap = book.snapshot(NOW)
    assert [o.tender for o in snap.actionable(side=Side.SELL, interval=sell.interval)] == [sell]
    assert [o.tender for o in snap.actionable(side=Side.BUY)] == [buy]
    assert list(snap.by_interval()) == [sell.interval, later.interval]


def test_outbox_survives_reopen_and_keeps_order(tmp_path: Path) -> None:
    with Outbox.open(tmp_path) as box:
        assert box.enqueue("accept", "a-1", "t/accept", '{"id":"a-1"}', NOW)
        assert box.enqueue("delivery", "d-1", "t/delivery", '{"id":"d-1"}', NOW)
        assert not box.enqueue("accept", "a-1", "t/accept", '{"id":"a-1"}', NOW)  # same: no new row
        with pytest.raises(OutboxConflict):
            box.enqueue("accept", "a-1", "t/accept", '{"id":"a-1","x":1}', NOW)
        first = box.pending()[0]
        box.note_attempt(first.seq)
        box.mark_acked(first.seq, NOW)
    with Outbox.open(tmp_path) as box:
        assert [r.message_id for r in box.pending()] == ["d-1"]
        assert [r.attempts for r in box.rows()] == [1, 0]
        assert box.prune(NOW + timedelta(seconds=1)) == 1
        assert box.prune(NOW + timedelta(days=30)) == 0  # never an unacknowledged row
        assert box.pending_count() == 1
    conn = sqlite3.connect(tmp_path / FILE_NAME)
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    conn.close()


@settings(max_examples=80, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.sampled_from(["tender", "own", "spot", "withdraw", "prune"]),
            st.integers(0, 240),  # minutes from NOW
            st.integers(1, 180),  # minutes to expiry
        ),
        max_size=40,
    )
)
def test_prune_drops_exactly_what_has_expired_whenever_it_is_asked(
    ops: list[tuple[str, int, int]],
) -> None:
    """The book skips prunes before its first expiry; what every prune returns and what stays
    is what a scan of everything held would find."""
    book = TenderBook(h.HOME)
    held: dict[str, datetime] = {}
    spots: set[datetime] = set()
    for op, at_min, life_min in ops:
        at = NOW + timedelta(minutes=at_min)
        if op in ("tender", "own"):
            make = h.tender if op == "tender" else h.own_tender
            t = make(NOW, expires=at + timedelta(minutes=life_min))
            book.add_tender(t)
            held[t.id] = t.expires
        elif op == "spot":
            s, _ = h.spot(at)
            book.set_spot(s)
            spots.add(s.interval.end_utc)
        elif op == "withdraw" and held:
            tid = sorted(held)[life_min % len(held)]
            if book.withdraw(tid):
                del held[tid]
        else:
            gone = book.prune(at)
            expected = {tid for tid, expires in held.items() if at >= expires}
            assert {t.id for t in gone} == expected
            held = {tid: e for tid, e in held.items() if tid not in expected}
            spots = {end for end in spots if end + SPOT_KEEP > at}
            assert {t.id for t in book.received()} | {o.tender.id for o in book.snapshot(at).own} == set(held)
            assert {sp.interval.end_utc for sp in book.snapshot(at).spot} == spots
