"""What the ledger holds about the tender an inbound transaction names, read in the same write
transaction that would store it, so the match and the booking cannot be split by another write.

The rules that judge a transaction against this evidence belong to the retailer link
(:mod:`agent.link.matching`); the ledger only gathers the facts and books what passes.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from zoneinfo import ZoneInfo

from agent.ledger import rows as r
from agent.ledger.columns import dec_value, epoch_s
from agent.market.intervals import Interval
from agent.market.records import Tender, Transaction


@dataclass(frozen=True, slots=True)
class Metered:
    """Energy the home's own settlements metered over an interval they cover completely."""

    import_kwh: Decimal
    export_kwh: Decimal


@dataclass(frozen=True, slots=True)
class Evidence:
    received: Tender | None  # the tender with that id the home received (retailer or transport)
    posted: Tender | None  # the tender with that id the home posted
    accepted_kw: Decimal  # the home's acceptances of it, summed
    executed: tuple[Transaction, ...]  # transactions already booked against it
    metered: Metered | None  # over the transaction's interval; None while not wholly settled


Match = Callable[[Transaction, Evidence], None]


def _one_tender(conn: sqlite3.Connection, table: str, tender_id: str, tz: ZoneInfo) -> Tender | None:
    found = r.rows(conn, f"SELECT * FROM {table} WHERE id = ?", (tender_id,))
    return r.tender_from(found[0], tz) if found else None


def _metered(conn: sqlite3.Connection, interval: Interval, party: str) -> Metered | None:
    sql = (
        "SELECT import_kwh, export_kwh, start_s, end_s FROM settlements "
        "WHERE party = ? AND start_s >= ? AND end_s <= ?"
    )
    lo, hi = epoch_s(interval.start_utc), epoch_s(interval.end_utc)
    found = r.rows(conn, sql, (party, lo, hi))
    if sum(int(row["end_s"]) - int(row["start_s"]) for row in found) != hi - lo:
        return None
    return Metered(
        import_kwh=sum((dec_value(row["import_kwh"], "import_kwh") for row in found), Decimal(0)),
        export_kwh=sum((dec_value(row["export_kwh"], "export_kwh") for row in found), Decimal(0)),
    )


def gather(conn: sqlite3.Connection, tz: ZoneInfo, tx: Transaction, party: str) -> Evidence:
    accepted = r.rows(conn, "SELECT quantity_kw FROM acceptances WHERE tender_id = ?", (tx.tender_id,))
    executed = r.rows(conn, "SELECT * FROM transactions WHERE tender_id = ? ORDER BY id", (tx.tender_id,))
    return Evidence(
        received=_one_tender(conn, "tenders_received", tx.tender_id, tz),
        posted=_one_tender(conn, "tenders_posted", tx.tender_id, tz),
        accepted_kw=sum((dec_value(row["quantity_kw"], "quantity_kw") for row in accepted), Decimal(0)),
        executed=tuple(r.transaction_from(row, tz) for row in executed),
        metered=_metered(conn, tx.interval, party),
    )
