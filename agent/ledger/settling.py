"""Gathering the inputs of a settlement and of a bill from the ledger, and storing settlements.

The arithmetic is :mod:`agent.market.settlement`; this module decides *when* an interval can be
settled and makes sure it is settled exactly once: the inputs are read and the result written in
one write transaction, and a settled interval is never recomputed (a late reading cannot change a
settlement that was already reported).
"""

from __future__ import annotations

import sqlite3
from datetime import datetime, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from agent.ledger import rows as r
from agent.ledger.columns import interval_columns
from agent.ledger.connection import transaction
from agent.ledger.errors import SettlementDeferred
from agent.market.intervals import Interval
from agent.market.settlement import Bill, MissingReadingError, Settlement, make_bill, settle_interval

if TYPE_CHECKING:
    from agent.ledger.store import Ledger


def label(interval: Interval) -> str:
    return f"{interval.start.isoformat()}/{interval.duration.value}"


def require_closed(
    ledger: Ledger, interval: Interval, source: str, now: datetime, tolerance: timedelta
) -> None:
    """Raise :class:`SettlementDeferred` while ``interval`` is open or a reading nearer its end
    may still arrive: the retailer's and the contract's settlement wait alike."""
    if now < interval.end_utc:
        raise SettlementDeferred(label(interval), f"the interval is open until {interval.end.isoformat()}")
    if now < interval.end_utc + tolerance and not ledger.has_reading_from(source, interval.end_utc):
        raise SettlementDeferred(label(interval), "a reading nearer the end may still arrive")


def _stored(conn: sqlite3.Connection, tz: ZoneInfo, party: str, interval: Interval) -> list[Settlement]:
    _, duration, start_s, _ = interval_columns(interval)
    sql = "SELECT * FROM settlements WHERE party = ? AND start_s = ? AND duration = ?"
    return [r.settlement_from(row, tz) for row in r.rows(conn, sql, (party, start_s, duration))]


def settle(
    ledger: Ledger,
    conn: sqlite3.Connection,
    interval: Interval,
    *,
    party: str,
    source: str,
    modulus_kwh: Decimal | None,
    tolerance: timedelta,
    now: datetime,
) -> tuple[Settlement, r.Stored]:
    """Settle ``interval`` for ``party`` from meter ``source``, or return the stored settlement.

    Raises :class:`SettlementDeferred` (writing nothing) while the interval is open, while a
    reading nearer its end may still arrive, or when a reading or the spot price is missing.
    """
    with transaction(conn):
        done = _stored(conn, ledger.tz, party, interval)
        if done:
            return done[0], r.Stored.ALREADY
        require_closed(ledger, interval, source, now, tolerance)
        prices = ledger.spot_price_for(interval)
        if not prices:
            raise SettlementDeferred(label(interval), "no spot price for the interval")
        readings = ledger.readings(source, interval.start_utc - tolerance, interval.end_utc + tolerance)
        try:
            result = settle_interval(
                interval=interval,
                party=party,
                position_kw=ledger.position(interval, party),
                readings=readings,
                spot_price_per_kwh=prices[0].price_per_kwh,
                currency=prices[0].currency,
                modulus_kwh=modulus_kwh,
                tolerance=tolerance,
            )
        except MissingReadingError as e:
            raise SettlementDeferred(label(interval), f"{e} (meter {source})") from e
        r.insert_once(conn, r.SETTLEMENTS, r.settlement_row(result, now))
    return result, r.Stored.ADDED


def load(conn: sqlite3.Connection, tz: ZoneInfo, lo_s: int, hi_s: int, party: str | None) -> list[Settlement]:
    sql = "SELECT * FROM settlements WHERE start_s >= ? AND start_s < ?"
    params: list[object] = [lo_s, hi_s]
    if party is not None:
        sql += " AND party = ?"
        params.append(party)
    found = r.rows(conn, sql + " ORDER BY start_s, party", params)
    return [r.settlement_from(row, tz) for row in found]


def bill(ledger: Ledger, party: str, start: datetime, end: datetime) -> Bill:
    transactions = ledger.transactions(start, end, party)
    settlements = ledger.settlements(start, end, party)
    return make_bill(party, start, end, transactions, settlements)
