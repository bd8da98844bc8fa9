"""The ledger file: settings, idempotent records, conflicts, append-only history."""

from __future__ import annotations

import asyncio
import sqlite3
from dataclasses import replace
from datetime import timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from agent.clock import ManualClock
from agent.ledger import (
    Ledger,
    LedgerConflict,
    LedgerOpenError,
    LedgerValueError,
    Stored,
    TenderStatus,
)
from agent.ledger.connection import ledger_path
from agent.market.intervals import Duration
from agent.market.records import Product, Side, Tender
from tests.ledger.helpers import BERLIN, HOME, RETAILER, at, block, reading, spot, tx

HOUR = block("2026-03-29T01:00+01:00", Duration.PT1H)


def tender(tid: str, price: str = "0.31") -> Tender:
    return Tender(
        id=tid,
        party=HOME,
        counterparty=RETAILER,
        side=Side.BUY,
        product=Product.ENERGY,
        interval=HOUR,
        quantity_kw=Decimal("1.5"),
        price_per_kwh=Decimal(price),
        currency="EUR",
        expires=at("2026-03-29T00:30+01:00"),
        actionable=True,
    )


def test_pragmas_are_set(ledger: Ledger) -> None:
    conn = sqlite3.connect(ledger.path)
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"  # persistent in the file
    conn.close()
    own = ledger._conn  # the settings that matter are per connection
    assert own.execute("PRAGMA synchronous").fetchone()[0] == 2  # FULL
    assert own.execute("PRAGMA foreign_keys").fetchone()[0] == 1
    assert own.execute("PRAGMA busy_timeout").fetchone()[0] == 5000


def test_transaction_replay_changes_nothing(ledger: Ledger, clock: ManualClock) -> None:
    t = tx("t1", HOUR, "2.5")
    assert ledger.add_transaction(t) is Stored.ADDED
    clock.advance(60)
    # Same content written differently (2.50 kW) is the same record.
    assert ledger.add_transaction(replace(t, quantity_kw=Decimal("2.50"))) is Stored.ALREADY
    assert ledger.transactions() == [t]
    assert ledger.transaction_count() == 1


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"quantity_kw": Decimal(3)}, "quantity_kw"),
        ({"price_per_kwh": Decimal("0.2")}, "price_per_kwh"),
        ({"buyer": "someone"}, "buyer"),
        ({"interval": HOUR.next()}, "interval_start"),
        ({"executed": at("2026-03-01T02:00+01:00")}, "executed"),
    ],
)
def test_same_id_other_content_is_a_conflict(ledger: Ledger, change: dict[str, Any], field: str) -> None:
    t = tx("t1", HOUR, "2.5")
    ledger.add_transaction(t)
    with pytest.raises(LedgerConflict) as e:
        ledger.add_transaction(replace(t, **change))
    assert e.value.field == field
    assert ledger.transactions() == [t]  # never overwritten


def test_a_batch_with_a_conflict_writes_nothing(ledger: Ledger) -> None:
    ledger.add_transaction(tx("t1", HOUR, "1"))
    with pytest.raises(LedgerConflict):
        ledger.add_transactions([tx("t2", HOUR, "1"), tx("t1", HOUR, "9")])
    assert [t.id for t in ledger.transactions()] == ["t1"]


def test_non_finite_decimal_is_refused_naming_the_field(ledger: Ledger) -> None:
    with pytest.raises(LedgerValueError) as e:
        ledger.add_transaction(tx("t1", HOUR, "NaN"))
    assert e.value.field == "quantity_kw"
    assert ledger.transaction_count() == 0


def test_decimals_round_trip_exactly(ledger: Ledger) -> None:
    t = tx("t1", HOUR, "0.123456789012345678901234567", price="-0.0000001")
    ledger.add_transaction(t)
    back = ledger.transactions()[0]
    assert str(back.quantity_kw) == "0.123456789012345678901234567"
    assert str(back.price_per_kwh) == "-1E-7"
    assert back == t


def test_records_are_append_only_even_in_sql(ledger: Ledger) -> None:
    ledger.add_transaction(tx("t1", HOUR, "1"))
    conn = sqlite3.connect(ledger.path)
    with pytest.raises(sqlite3.IntegrityError, match="append-only"):
        conn.execute("UPDATE transactions SET quantity_kw = '5'")
    with pytest.raises(sqlite3.IntegrityError, match="append-only"):
        conn.execute("DELETE FROM transactions")
    conn.close()


def test_tenders_received_and_posted_with_status_history(ledger: Ledger, clock: ManualClock) -> None:
    received = replace(tender("r1"), party=RETAILER, counterparty=None, side=Side.SELL)
    assert ledger.add_received_tender(received) is Stored.ADDED
    assert ledger.add_received_tender(received) is Stored.ALREADY
    with pytest.raises(LedgerConflict):
        ledger.add_received_tender(replace(received, actionable=False))
    # Our own id space is separate from the retailer's.
    posted = tender("r1")
    assert ledger.add_posted_tender(posted) is Stored.ADDED
    clock.advance(30)
    ledger.add_tender_status(TenderStatus("r1", "withdrawn", clock.now(), "plan changed"))
    assert (
        ledger.add_tender_status(TenderStatus("r1", "withdrawn", clock.now(), "plan changed"))
        is Stored.ALREADY
    )
    history = ledger.tender_history("r1")
    assert [e.status for e in history] == ["posted", "withdrawn"]
    assert history[1].note == "plan changed"
    assert ledger.received_tenders() == [received]
    assert ledger.posted_tenders() == [posted]
    with pytest.raises(LedgerValueError) as e:
        ledger.add_tender_status(TenderStatus("nope", "expired", clock.now()))
    assert e.value.field == "tender_id"


def test_meter_readings_idempotent_by_source_and_time(ledger: Ledger) -> None:
    r = reading(at("2026-03-29T01:00:00.250+01:00"), "100.5", "2")
    assert ledger.add_reading(r) is Stored.ADDED
    assert ledger.add_reading(r) is Stored.ALREADY
    assert ledger.add_reading(replace(r, source="other")) is Stored.ADDED
    with pytest.raises(LedgerConflict) as e:
        ledger.add_reading(replace(r, export_kwh=Decimal(3)))
    assert e.value.field == "export_kwh"
    got = ledger.readings("grid-meter", r.ts - timedelta(seconds=1), r.ts)
    assert got == [r]
    assert ledger.has_reading_from("grid-meter", r.ts)
    assert not ledger.has_reading_from("grid-meter", r.ts + timedelta(microseconds=1))


def test_spot_prices(ledger: Ledger) -> None:
    slot = block("2026-03-29T03:05+02:00", Duration.PT5M)
    p = spot(slot, "0.27")
    assert ledger.add_spot_price(p) is Stored.ADDED
    assert ledger.add_spot_price(p) is Stored.ALREADY
    with pytest.raises(LedgerConflict):
        ledger.add_spot_price(spot(slot, "0.28"))
    assert ledger.spot_price_for(slot) == [p]
    assert ledger.spot_price_for(slot.next()) == []


def test_transactions_filtered_by_period_and_party(ledger: Ledger) -> None:
    a = tx("a", HOUR, "1")
    b = tx("b", HOUR.next(), "1", buyer="neighbour")
    c = tx("c", HOUR.next().next(), "1", buyer=RETAILER, seller=HOME)
    ledger.add_transactions([a, b, c])
    assert ledger.transactions(HOUR.next().start, None) == [b, c]
    assert ledger.transactions(party=HOME) == [a, c]
    assert ledger.transactions(HOUR.start, HOUR.end) == [a]


def test_reopen_keeps_everything_and_checks_the_site(tmp_path: Path, clock: ManualClock) -> None:
    with Ledger.open(tmp_path, BERLIN, home_party=HOME, clock=clock) as book:
        book.add_transaction(tx("t1", HOUR, "1"))
    with Ledger.open(tmp_path, create=False) as book:
        assert book.tz == BERLIN
        assert book.home_party == HOME
        assert [t.id for t in book.transactions()] == ["t1"]
        assert book.integrity_check() == ["ok"]
    with pytest.raises(LedgerOpenError, match="site_tz"):
        Ledger.open(tmp_path, ZoneInfo("Asia/Kolkata"))
    with pytest.raises(LedgerOpenError, match="home_party"):
        Ledger.open(tmp_path, BERLIN, home_party="someone-else")


def test_missing_or_foreign_files_are_refused(tmp_path: Path) -> None:
    with pytest.raises(LedgerOpenError, match="no ledger"):
        Ledger.open(tmp_path / "absent", create=False)
    ledger_path(tmp_path).write_bytes(b"this is not a database, just text" * 100)
    with pytest.raises(LedgerOpenError):
        Ledger.open(tmp_path, BERLIN)
    other = tmp_path / "other"
    other.mkdir()
    conn = sqlite3.connect(ledger_path(other))
    conn.execute("CREATE TABLE stuff (x)")
    conn.commit()
    conn.close()
    with pytest.raises(LedgerOpenError, match="not a hems ledger"):
        Ledger.open(other, BERLIN)


def test_a_new_ledger_needs_a_time_zone(tmp_path: Path) -> None:
    with pytest.raises(LedgerOpenError, match="time zone"):
        Ledger.open(tmp_path)


async def test_usable_from_worker_threads(ledger: Ledger) -> None:
    # The agent keeps fsync off the event loop with asyncio.to_thread; the pool's threads share
    # one connection, which sqlite3 refuses by default and which interleaved BEGINs would corrupt.
    hours = [HOUR]
    for _ in range(19):
        hours.append(hours[-1].next())
    await asyncio.gather(
        *(asyncio.to_thread(ledger.add_transaction, tx(f"w{i}", h, "1")) for i, h in enumerate(hours)),
        *(asyncio.to_thread(ledger.positions, hours, HOME) for _ in range(5)),
    )
    assert ledger.transaction_count() == 20
    assert ledger.positions(hours, HOME) == [Decimal(1)] * 20
