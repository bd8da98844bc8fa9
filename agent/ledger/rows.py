"""Records to rows and back, and the idempotent insert every record goes through.

An insert is keyed by the record's identity (its id, or source and time for a reading). Storing
the same record again changes nothing and reports :attr:`Stored.ALREADY`; storing a different
record under the same identity raises :class:`LedgerConflict` naming the first differing column.
Values are compared, not texts: ``1.0`` and ``1.00`` kW are the same quantity.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any
from zoneinfo import ZoneInfo

from agent.ledger.columns import (
    dec_text,
    dec_value,
    epoch_us,
    interval_columns,
    interval_value,
    ts_text,
    ts_value,
)
from agent.ledger.errors import LedgerConflict, LedgerStorageError
from agent.market.records import Product, Side, SpotPrice, Tender, Transaction
from agent.market.settlement import MeterReading, Settlement


class Stored(StrEnum):
    """Outcome of an idempotent insert."""

    ADDED = "added"
    ALREADY = "already"  # the very same record was stored before: nothing changed


@dataclass(frozen=True, slots=True)
class Table:
    name: str
    key: tuple[str, ...]
    decimals: frozenset[str] = frozenset()
    instants: frozenset[str] = frozenset()


TENDERS_RECEIVED = Table(
    "tenders_received", ("id",), frozenset({"quantity_kw", "price_per_kwh"}), frozenset({"expires"})
)
TENDERS_POSTED = Table(
    "tenders_posted", ("id",), frozenset({"quantity_kw", "price_per_kwh"}), frozenset({"expires"})
)
TENDER_STATUS = Table("tender_status", ("tender_id", "status", "at"))
TRANSACTIONS = Table(
    "transactions", ("id",), frozenset({"quantity_kw", "price_per_kwh"}), frozenset({"executed"})
)
METER_READINGS = Table(
    "meter_readings", ("source", "ts_us"), frozenset({"import_kwh", "export_kwh"}), frozenset({"ts"})
)
SPOT_PRICES = Table("spot_prices", ("start_s", "duration"), frozenset({"price_per_kwh"}))
SETTLEMENTS = Table(
    "settlements",
    ("party", "start_s", "duration"),
    frozenset(
        {
            "position_kw",
            "scheduled_kwh",
            "import_kwh",
            "export_kwh",
            "deviation_kwh",
            "spot_price_per_kwh",
            "amount",
        }
    ),
    frozenset({"start_reading_ts", "end_reading_ts"}),
)

ACCEPTANCES = Table("acceptances", ("id",), frozenset({"quantity_kw"}), frozenset({"sent"}))

# Bookkeeping columns that may differ between two deliveries of the same record. (A spot price
# resent under another id is the same price; one id for two intervals is refused before this.)
_NOT_COMPARED = frozenset({"recorded_at", "settled_at", "message_id"})


def _same(table: Table, column: str, old: Any, new: Any) -> bool:
    if old is None or new is None:
        return old is new
    if column in table.decimals:
        return dec_value(old, column) == dec_value(new, column)
    if column in table.instants:
        return ts_value(old, column) == ts_value(new, column)
    if column == "interval_start":
        return bool(datetime.fromisoformat(old) == datetime.fromisoformat(new))
    return bool(old == new)


def key_exists(conn: sqlite3.Connection, table: Table, row: Mapping[str, Any]) -> bool:
    where = " AND ".join(f"{k} = ?" for k in table.key)
    sql = f"SELECT 1 FROM {table.name} WHERE {where}"
    return conn.execute(sql, [row[k] for k in table.key]).fetchone() is not None


def insert_once(conn: sqlite3.Connection, table: Table, row: Mapping[str, Any]) -> Stored:
    """Insert ``row`` unless its key is present; must run inside a write transaction."""
    where = " AND ".join(f"{k} = ?" for k in table.key)
    key_values = [row[k] for k in table.key]
    old = conn.execute(f"SELECT * FROM {table.name} WHERE {where}", key_values).fetchone()
    if old is None:
        columns = ", ".join(row)
        marks = ", ".join("?" for _ in row)
        conn.execute(f"INSERT INTO {table.name} ({columns}) VALUES ({marks})", list(row.values()))
        return Stored.ADDED
    for column, value in row.items():
        if column not in _NOT_COMPARED and not _same(table, column, old[column], value):
            key = "/".join(str(v) for v in key_values)
            raise LedgerConflict(table.name, key, column)
    return Stored.ALREADY


# --- records to rows -----------------------------------------------------------------------


def _interval_part(prefix_row: dict[str, Any], interval: Any) -> dict[str, Any]:
    start, duration, start_s, end_s = interval_columns(interval)
    prefix_row.update(interval_start=start, duration=duration, start_s=start_s, end_s=end_s)
    return prefix_row


def tender_row(t: Tender, recorded_at: datetime) -> dict[str, Any]:
    row: dict[str, Any] = {"id": t.id, "party": t.party, "counterparty": t.counterparty}
    row.update(side=t.side.value, product=t.product.value)
    _interval_part(row, t.interval)
    row.update(
        quantity_kw=dec_text(t.quantity_kw, "quantity_kw"),
        price_per_kwh=dec_text(t.price_per_kwh, "price_per_kwh"),
        currency=t.currency,
        expires=ts_text(t.expires, "expires"),
        actionable=int(t.actionable),
        from_node=t.from_node,
        to_node=t.to_node,
        recorded_at=ts_text(recorded_at, "recorded_at"),
    )
    return row


def transaction_row(t: Transaction, recorded_at: datetime) -> dict[str, Any]:
    row: dict[str, Any] = {"id": t.id, "tender_id": t.tender_id, "buyer": t.buyer, "seller": t.seller}
    row["product"] = t.product.value
    _interval_part(row, t.interval)
    row.update(
        quantity_kw=dec_text(t.quantity_kw, "quantity_kw"),
        price_per_kwh=dec_text(t.price_per_kwh, "price_per_kwh"),
        currency=t.currency,
        executed=ts_text(t.executed, "executed"),
        from_node=t.from_node,
        to_node=t.to_node,
        recorded_at=ts_text(recorded_at, "recorded_at"),
    )
    return row


def reading_row(r: MeterReading, recorded_at: datetime) -> dict[str, Any]:
    return {
        "source": r.source,
        "ts": ts_text(r.ts, "ts"),
        "ts_us": epoch_us(r.ts),
        "import_kwh": dec_text(r.import_kwh, "import_kwh"),
        "export_kwh": dec_text(r.export_kwh, "export_kwh"),
        "estimated": int(r.estimated),
        "recorded_at": ts_text(recorded_at, "recorded_at"),
    }


def spot_price_row(s: SpotPrice, recorded_at: datetime, message_id: str | None = None) -> dict[str, Any]:
    row = _interval_part({}, s.interval)
    row.update(
        message_id=message_id,
        price_per_kwh=dec_text(s.price_per_kwh, "price_per_kwh"),
        currency=s.currency,
        recorded_at=ts_text(recorded_at, "recorded_at"),
    )
    return row


def settlement_row(s: Settlement, settled_at: datetime) -> dict[str, Any]:
    row: dict[str, Any] = {"party": s.party}
    _interval_part(row, s.interval)
    row["source"] = s.source
    for name in sorted(SETTLEMENTS.decimals):
        row[name] = dec_text(getattr(s, name), name)
    row.update(
        currency=s.currency,
        flags=",".join(s.flags),
        start_reading_ts=ts_text(s.start_reading_ts, "start_reading_ts"),
        end_reading_ts=ts_text(s.end_reading_ts, "end_reading_ts"),
        settled_at=ts_text(settled_at, "settled_at"),
    )
    return row


# --- rows to records -----------------------------------------------------------------------


def _enum(kind: type[Side] | type[Product], text: str) -> Any:
    try:
        return kind(text)
    except ValueError as e:
        raise LedgerStorageError(f"stored {kind.__name__.lower()} {text!r} is unknown") from e


def tender_from(row: sqlite3.Row, tz: ZoneInfo) -> Tender:
    return Tender(
        id=row["id"],
        party=row["party"],
        counterparty=row["counterparty"],
        side=_enum(Side, row["side"]),
        product=_enum(Product, row["product"]),
        interval=interval_value(row["interval_start"], row["duration"], tz),
        quantity_kw=dec_value(row["quantity_kw"], "quantity_kw"),
        price_per_kwh=dec_value(row["price_per_kwh"], "price_per_kwh"),
        currency=row["currency"],
        expires=ts_value(row["expires"], "expires"),
        actionable=bool(row["actionable"]),
        from_node=row["from_node"],
        to_node=row["to_node"],
    )


def transaction_from(row: sqlite3.Row, tz: ZoneInfo) -> Transaction:
    return Transaction(
        id=row["id"],
        tender_id=row["tender_id"],
        buyer=row["buyer"],
        seller=row["seller"],
        product=_enum(Product, row["product"]),
        interval=interval_value(row["interval_start"], row["duration"], tz),
        quantity_kw=dec_value(row["quantity_kw"], "quantity_kw"),
        price_per_kwh=dec_value(row["price_per_kwh"], "price_per_kwh"),
        currency=row["currency"],
        executed=ts_value(row["executed"], "executed"),
        from_node=row["from_node"],
        to_node=row["to_node"],
    )


def reading_from(row: sqlite3.Row) -> MeterReading:
    return MeterReading(
        source=row["source"],
        ts=ts_value(row["ts"], "ts"),
        import_kwh=dec_value(row["import_kwh"], "import_kwh"),
        export_kwh=dec_value(row["export_kwh"], "export_kwh"),
        estimated=bool(row["estimated"]),
    )


def spot_price_from(row: sqlite3.Row, tz: ZoneInfo) -> SpotPrice:
    return SpotPrice(
        interval=interval_value(row["interval_start"], row["duration"], tz),
        price_per_kwh=dec_value(row["price_per_kwh"], "price_per_kwh"),
        currency=row["currency"],
    )


def settlement_from(row: sqlite3.Row, tz: ZoneInfo) -> Settlement:
    decimals = {name: dec_value(row[name], name) for name in SETTLEMENTS.decimals}
    flags = row["flags"]
    return Settlement(
        interval=interval_value(row["interval_start"], row["duration"], tz),
        party=row["party"],
        source=row["source"],
        currency=row["currency"],
        flags=tuple(flags.split(",")) if flags else (),
        start_reading_ts=ts_value(row["start_reading_ts"], "start_reading_ts"),
        end_reading_ts=ts_value(row["end_reading_ts"], "end_reading_ts"),
        **decimals,
    )


def rows(conn: sqlite3.Connection, sql: str, params: Sequence[Any] = ()) -> list[sqlite3.Row]:
    try:
        return list(conn.execute(sql, params))
    except sqlite3.Error as e:
        raise LedgerStorageError(f"query failed: {e}") from e
