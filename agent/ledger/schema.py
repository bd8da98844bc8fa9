"""The ledger's schema and its migrations.

The schema version is SQLite's ``PRAGMA user_version``. ``MIGRATIONS[n]`` takes a file from
version ``n`` to ``n + 1``; each step runs in one transaction together with the version bump, so
a crash leaves the file at the old or the new version, never in between. Steps are only ever
appended: a released step is never edited.

Every record table is append-only (triggers refuse UPDATE and DELETE): history is added to, never
rewritten. Amounts, prices and quantities are exact decimal TEXT; instants are ISO 8601 UTC
TEXT; intervals are their wire start (with offset) and duration plus UTC epoch seconds
``start_s``/``end_s`` for range queries.
"""

from __future__ import annotations

import sqlite3

from agent.ledger.connection import transaction
from agent.ledger.errors import LedgerOpenError, LedgerVersionError

# "hems" in ASCII: marks the file as ours (PRAGMA application_id).
APPLICATION_ID = 0x68656D73

_INTERVAL_COLUMNS = """
    interval_start TEXT NOT NULL,
    duration TEXT NOT NULL,
    start_s INTEGER NOT NULL,
    end_s INTEGER NOT NULL CHECK (end_s > start_s)"""

_TENDER_COLUMNS = f"""
    id TEXT PRIMARY KEY,
    party TEXT NOT NULL,
    counterparty TEXT,
    side TEXT NOT NULL CHECK (side IN ('buy', 'sell')),
    product TEXT NOT NULL CHECK (product IN ('energy', 'transport')),{_INTERVAL_COLUMNS},
    quantity_kw TEXT NOT NULL,
    price_per_kwh TEXT NOT NULL,
    currency TEXT NOT NULL,
    expires TEXT NOT NULL,
    actionable INTEGER NOT NULL CHECK (actionable IN (0, 1)),
    from_node TEXT,
    to_node TEXT,
    recorded_at TEXT NOT NULL"""


def _append_only(table: str) -> tuple[str, str]:
    return (
        f"CREATE TRIGGER {table}_no_update BEFORE UPDATE ON {table} "
        f"BEGIN SELECT RAISE(ABORT, '{table} is append-only'); END",
        f"CREATE TRIGGER {table}_no_delete BEFORE DELETE ON {table} "
        f"BEGIN SELECT RAISE(ABORT, '{table} is append-only'); END",
    )


_V1: tuple[str, ...] = (
    f"PRAGMA application_id = {APPLICATION_ID}",
    "CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL) STRICT",
    f"CREATE TABLE tenders_received ({_TENDER_COLUMNS}) STRICT",
    f"CREATE TABLE tenders_posted ({_TENDER_COLUMNS}) STRICT",
    # Status changes of our own tenders (posted, withdrawn, expired, executed...) as events.
    """CREATE TABLE tender_status (
        seq INTEGER PRIMARY KEY AUTOINCREMENT,
        tender_id TEXT NOT NULL REFERENCES tenders_posted(id),
        status TEXT NOT NULL,
        at TEXT NOT NULL,
        note TEXT NOT NULL DEFAULT '',
        UNIQUE (tender_id, status, at)
    ) STRICT""",
    f"""CREATE TABLE transactions (
        id TEXT PRIMARY KEY,
        tender_id TEXT NOT NULL,
        buyer TEXT NOT NULL,
        seller TEXT NOT NULL,
        product TEXT NOT NULL CHECK (product IN ('energy', 'transport')),{_INTERVAL_COLUMNS},
        quantity_kw TEXT NOT NULL,
        price_per_kwh TEXT NOT NULL,
        currency TEXT NOT NULL,
        executed TEXT NOT NULL,
        from_node TEXT,
        to_node TEXT,
        recorded_at TEXT NOT NULL
    ) STRICT""",
    "CREATE INDEX transactions_by_span ON transactions (start_s, end_s)",
    """CREATE TABLE meter_readings (
        source TEXT NOT NULL,
        ts TEXT NOT NULL,
        ts_us INTEGER NOT NULL,
        import_kwh TEXT NOT NULL,
        export_kwh TEXT NOT NULL,
        recorded_at TEXT NOT NULL,
        PRIMARY KEY (source, ts_us)
    ) STRICT""",
    f"""CREATE TABLE spot_prices ({_INTERVAL_COLUMNS},
        price_per_kwh TEXT NOT NULL,
        currency TEXT NOT NULL,
        recorded_at TEXT NOT NULL,
        PRIMARY KEY (start_s, duration)
    ) STRICT""",
    *_append_only("tenders_received"),
    *_append_only("tenders_posted"),
    *_append_only("tender_status"),
    *_append_only("transactions"),
    *_append_only("meter_readings"),
    *_append_only("spot_prices"),
)

_V2: tuple[str, ...] = (
    f"""CREATE TABLE settlements (
        party TEXT NOT NULL,{_INTERVAL_COLUMNS},
        source TEXT NOT NULL,
        position_kw TEXT NOT NULL,
        scheduled_kwh TEXT NOT NULL,
        import_kwh TEXT NOT NULL,
        export_kwh TEXT NOT NULL,
        deviation_kwh TEXT NOT NULL,
        spot_price_per_kwh TEXT NOT NULL,
        amount TEXT NOT NULL,
        currency TEXT NOT NULL,
        flags TEXT NOT NULL,
        start_reading_ts TEXT NOT NULL,
        end_reading_ts TEXT NOT NULL,
        settled_at TEXT NOT NULL,
        PRIMARY KEY (party, start_s, duration)
    ) STRICT""",
    "CREATE INDEX settlements_by_start ON settlements (start_s)",
    *_append_only("settlements"),
)

# Version 3: a reading may be an estimate, interpolated across a meter outage so the intervals
# inside it can be settled; the settlement then carries the flag "estimated".
_V3: tuple[str, ...] = (
    "ALTER TABLE meter_readings ADD COLUMN estimated INTEGER NOT NULL DEFAULT 0 CHECK (estimated IN (0, 1))",
)

# Version 4: what an inbound transaction is matched against. The acceptances the home sent (a
# retailer's confirmation may not exceed them); the spot price's message id (one id, one
# interval); transactions looked up by tender.
_V4: tuple[str, ...] = (
    """CREATE TABLE acceptances (
        id TEXT PRIMARY KEY,
        tender_id TEXT NOT NULL,
        party TEXT NOT NULL,
        quantity_kw TEXT NOT NULL,
        sent TEXT NOT NULL,
        recorded_at TEXT NOT NULL
    ) STRICT""",
    "CREATE INDEX acceptances_by_tender ON acceptances (tender_id)",
    *_append_only("acceptances"),
    "ALTER TABLE spot_prices ADD COLUMN message_id TEXT",
    "CREATE UNIQUE INDEX spot_prices_by_message ON spot_prices (message_id) WHERE message_id IS NOT NULL",
    "CREATE INDEX transactions_by_tender ON transactions (tender_id)",
)

# Version 5: the household contract's bill. Under a tariff each closed metering interval is
# settled by the contract's components rather than against a retailer's spot price: one row per
# interval in ``contract_intervals`` (the metered energy, so an interval is settled once), and
# its charges in ``contract_charges`` — per-kWh parts, VAT, export credit and demand increments
# on the metering interval; a standing charge on its local day (P1D) or month (P1M), once.
_V5: tuple[str, ...] = (
    f"""CREATE TABLE contract_intervals (
        party TEXT NOT NULL,{_INTERVAL_COLUMNS},
        source TEXT NOT NULL,
        import_kwh TEXT NOT NULL,
        export_kwh TEXT NOT NULL,
        amount TEXT NOT NULL,
        currency TEXT NOT NULL,
        price_state TEXT NOT NULL,
        flags TEXT NOT NULL,
        start_reading_ts TEXT NOT NULL,
        end_reading_ts TEXT NOT NULL,
        settled_at TEXT NOT NULL,
        PRIMARY KEY (party, start_s, duration)
    ) STRICT""",
    f"""CREATE TABLE contract_charges (
        party TEXT NOT NULL,{_INTERVAL_COLUMNS},
        component TEXT NOT NULL,
        quantity TEXT NOT NULL,
        unit TEXT NOT NULL CHECK (unit IN ('kWh', 'day', 'month', 'kW')),
        amount TEXT NOT NULL,
        currency TEXT NOT NULL,
        price_state TEXT NOT NULL,
        settled_at TEXT NOT NULL,
        PRIMARY KEY (party, start_s, duration, component)
    ) STRICT""",
    "CREATE INDEX contract_intervals_by_start ON contract_intervals (start_s)",
    "CREATE INDEX contract_charges_by_start ON contract_charges (start_s)",
    *_append_only("contract_intervals"),
    *_append_only("contract_charges"),
)

MIGRATIONS: tuple[tuple[str, ...], ...] = (_V1, _V2, _V3, _V4, _V5)
SCHEMA_VERSION = len(MIGRATIONS)


def schema_version(conn: sqlite3.Connection) -> int:
    return int(conn.execute("PRAGMA user_version").fetchone()[0])


def migrate(conn: sqlite3.Connection, target: int = SCHEMA_VERSION) -> int:
    """Bring the file up to ``target``; returns the version found. Newer files are refused."""
    if not 0 <= target <= SCHEMA_VERSION:
        raise ValueError(f"target version must be in 0..{SCHEMA_VERSION}")
    found = schema_version(conn)
    if found > SCHEMA_VERSION:
        raise LedgerVersionError(found, SCHEMA_VERSION)
    if found == 0:
        tables = conn.execute("SELECT count(*) FROM sqlite_master").fetchone()[0]
        if tables:
            raise LedgerOpenError("the file holds other tables but no hems schema; not a hems ledger")
    else:
        app = int(conn.execute("PRAGMA application_id").fetchone()[0])
        if app != APPLICATION_ID:
            raise LedgerOpenError(f"application id {app:#x} is not a hems ledger's")
    for version in range(found, target):
        with transaction(conn):
            # Another process may have migrated while we waited for the write lock.
            if schema_version(conn) != version:
                continue
            for statement in MIGRATIONS[version]:
                conn.execute(statement)
            conn.execute(f"PRAGMA user_version = {version + 1}")
    return found
