"""The ledger: the home's durable, append-only book of trades, readings and settlements.

One SQLite file, ``ledger.sqlite3`` in the state directory. Every write is one SQLite transaction
committed with ``synchronous=FULL``: when a method returns, the record is on disk. Records are
idempotent by identity (see :mod:`agent.ledger.rows`), so a message replayed after a crash or a
reconnect is harmless.

The file remembers the site's time zone (intervals are rebuilt in it) and, optionally, the home's
party id, so ``hems ledger`` can read it without the config.
"""

from __future__ import annotations

import functools
import sqlite3
import threading
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from pathlib import Path
from types import TracebackType
from typing import Concatenate, ParamSpec, TypeVar
from zoneinfo import ZoneInfo

from agent.clock import Clock, RealClock
from agent.ledger import contract, settling
from agent.ledger import rows as r
from agent.ledger.columns import dec_text, epoch_s, epoch_us, interval_columns, ts_text, ts_value
from agent.ledger.connection import connect, integrity_check, ledger_path, transaction
from agent.ledger.errors import LedgerConflict, LedgerError, LedgerOpenError, LedgerValueError
from agent.ledger.evidence import Match, gather
from agent.ledger.positions import positions_kw
from agent.ledger.schema import migrate, schema_version
from agent.market.errors import MarketError
from agent.market.intervals import Duration, Interval, containing, zone
from agent.market.records import SpotPrice, Tender, Transaction
from agent.market.settlement import DEFAULT_READING_TOLERANCE, Bill, MeterReading, Settlement

P = ParamSpec("P")
R = TypeVar("R")


def _locked(method: Callable[Concatenate[Ledger, P], R]) -> Callable[Concatenate[Ledger, P], R]:
    """Serialise use of the one connection: callers may hop threads (``asyncio.to_thread``)."""

    @functools.wraps(method)
    def wrapper(self: Ledger, /, *args: P.args, **kwargs: P.kwargs) -> R:
        with self._lock:
            return method(self, *args, **kwargs)

    return wrapper


META_TZ = "site_tz"
META_PARTY = "home_party"


@dataclass(frozen=True, slots=True)
class TenderStatus:
    """One status change of a tender the home posted (posted, withdrawn, expired, executed...)."""

    tender_id: str
    status: str
    at: datetime
    note: str = ""


class Ledger:
    """Open with :meth:`open`; use as a context manager or call :meth:`close`."""

    def __init__(self, conn: sqlite3.Connection, path: Path, tz: ZoneInfo, clock: Clock) -> None:
        self._conn = conn
        self.path = path
        self.tz = tz
        self._clock = clock
        self._lock = threading.RLock()

    @classmethod
    def open(
        cls,
        state_dir: Path,
        tz: ZoneInfo | None = None,
        *,
        home_party: str | None = None,
        clock: Clock | None = None,
        create: bool = True,
    ) -> Ledger:
        """Open (and create or migrate) the ledger in ``state_dir``.

        ``tz`` is the site zone; it is stored on first open and must match afterwards. Without it
        the stored zone is used (read-only tools). ``create=False`` refuses a missing file.
        """
        path = ledger_path(state_dir)
        conn = connect(path, create=create)
        try:
            conn.row_factory = sqlite3.Row
            migrate(conn)
            with transaction(conn):
                site_tz = _meta_once(conn, META_TZ, tz.key if tz is not None else None)
                if home_party is not None:
                    _meta_once(conn, META_PARTY, home_party)
            if site_tz is None:
                raise LedgerOpenError(f"{path}: the ledger has no site time zone yet; open it with one")
            return cls(conn, path, zone(site_tz), clock or RealClock())
        except (LedgerError, MarketError):
            conn.close()
            raise

    @_locked
    def close(self) -> None:
        self._conn.close()

    def __enter__(self) -> Ledger:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    # --- file -----------------------------------------------------------------------------

    @property
    @_locked
    def schema_version(self) -> int:
        return schema_version(self._conn)

    @property
    @_locked
    def home_party(self) -> str | None:
        row = self._conn.execute("SELECT value FROM meta WHERE key = ?", (META_PARTY,)).fetchone()
        return None if row is None else str(row[0])

    @_locked
    def integrity_check(self) -> list[str]:
        return integrity_check(self._conn)

    # --- appending ------------------------------------------------------------------------

    @_locked
    def add_transaction(self, t: Transaction, *, match: Match | None = None, party: str = "") -> r.Stored:
        """Store ``t``; with ``match``, a new transaction is first judged against the ledger's
        :class:`Evidence` about its tender (``party``'s settlements) in the same write, and
        whatever ``match`` raises leaves the ledger unchanged. An identical repeat is not judged
        again: it is :attr:`Stored.ALREADY`."""
        row = r.transaction_row(t, self._clock.now())
        with transaction(self._conn) as conn:
            if match is not None and not r.key_exists(conn, r.TRANSACTIONS, row):
                match(t, gather(conn, self.tz, t, party))
            return r.insert_once(conn, r.TRANSACTIONS, row)

    @_locked
    def add_acceptance(
        self, acceptance_id: str, tender_id: str, party: str, quantity_kw: Decimal, sent: datetime
    ) -> r.Stored:
        """Record an acceptance the home sends (before it is sent): the kilowatts a retailer's
        confirmation of that tender may not exceed."""
        row = {
            "id": acceptance_id,
            "tender_id": tender_id,
            "party": party,
            "quantity_kw": dec_text(quantity_kw, "quantity_kw"),
            "sent": ts_text(sent, "sent"),
            "recorded_at": ts_text(self._clock.now(), "recorded_at"),
        }
        with transaction(self._conn) as conn:
            return r.insert_once(conn, r.ACCEPTANCES, row)

    @_locked
    def add_transactions(self, batch: Iterable[Transaction]) -> list[r.Stored]:
        """All of ``batch`` or, on a conflict, none of it."""
        now = self._clock.now()
        with transaction(self._conn) as conn:
            return [r.insert_once(conn, r.TRANSACTIONS, r.transaction_row(t, now)) for t in batch]

    @_locked
    def add_received_tender(self, t: Tender) -> r.Stored:
        with transaction(self._conn) as conn:
            return r.insert_once(conn, r.TENDERS_RECEIVED, r.tender_row(t, self._clock.now()))

    @_locked
    def add_posted_tender(self, t: Tender) -> r.Stored:
        """Record a tender the home posted, with its first status event ``posted``."""
        now = self._clock.now()
        with transaction(self._conn) as conn:
            stored = r.insert_once(conn, r.TENDERS_POSTED, r.tender_row(t, now))
            if stored is r.Stored.ADDED:
                _status(conn, TenderStatus(t.id, "posted", now))
            return stored

    @_locked
    def add_tender_status(self, event: TenderStatus) -> r.Stored:
        with transaction(self._conn) as conn:
            return _status(conn, event)

    def add_reading(self, reading: MeterReading) -> r.Stored:
        return self.add_readings([reading])[0]

    @_locked
    def add_readings(self, batch: Iterable[MeterReading]) -> list[r.Stored]:
        now = self._clock.now()
        with transaction(self._conn) as conn:
            return [r.insert_once(conn, r.METER_READINGS, r.reading_row(x, now)) for x in batch]

    @_locked
    def add_spot_price(self, s: SpotPrice, message_id: str | None = None) -> r.Stored:
        """Store a spot price once per interval; a ``message_id`` already used for another
        interval is a :class:`LedgerConflict` on ``interval_start``."""
        row = r.spot_price_row(s, self._clock.now(), message_id)
        with transaction(self._conn) as conn:
            if message_id is not None:
                sql = "SELECT start_s, duration FROM spot_prices WHERE message_id = ?"
                for old in r.rows(conn, sql, (message_id,)):
                    if (old["start_s"], old["duration"]) != (row["start_s"], row["duration"]):
                        raise LedgerConflict(r.SPOT_PRICES.name, message_id, "interval_start")
            stored = r.insert_once(conn, r.SPOT_PRICES, row)
            return stored

    # --- reading back ---------------------------------------------------------------------

    @_locked
    def transactions(
        self, start: datetime | None = None, end: datetime | None = None, party: str | None = None
    ) -> list[Transaction]:
        """Transactions whose interval overlaps ``[start, end)``, by interval start then id."""
        sql = "SELECT * FROM transactions WHERE end_s > ? AND start_s < ?"
        params: list[object] = [_lo(start), _hi(end)]
        if party is not None:
            sql += " AND (buyer = ? OR seller = ?)"
            params += [party, party]
        found = r.rows(self._conn, sql + " ORDER BY start_s, id", params)
        return [r.transaction_from(row, self.tz) for row in found]

    @_locked
    def transaction_count(self) -> int:
        return int(r.rows(self._conn, "SELECT count(*) FROM transactions")[0][0])

    def received_tenders(self, start: datetime | None = None, end: datetime | None = None) -> list[Tender]:
        return self._tenders("tenders_received", start, end)

    def posted_tenders(self, start: datetime | None = None, end: datetime | None = None) -> list[Tender]:
        return self._tenders("tenders_posted", start, end)

    @_locked
    def _tenders(self, table: str, start: datetime | None, end: datetime | None) -> list[Tender]:
        sql = f"SELECT * FROM {table} WHERE end_s > ? AND start_s < ? ORDER BY start_s, id"
        return [r.tender_from(row, self.tz) for row in r.rows(self._conn, sql, (_lo(start), _hi(end)))]

    @_locked
    def tender_history(self, tender_id: str) -> list[TenderStatus]:
        sql = "SELECT tender_id, status, at, note FROM tender_status WHERE tender_id = ? ORDER BY seq"
        return [
            TenderStatus(row["tender_id"], row["status"], ts_value(row["at"], "at"), row["note"])
            for row in r.rows(self._conn, sql, (tender_id,))
        ]

    @_locked
    def readings(self, source: str, start: datetime, end: datetime) -> list[MeterReading]:
        """Readings of ``source`` with ``start <= ts <= end``, in time order."""
        sql = "SELECT * FROM meter_readings WHERE source = ? AND ts_us BETWEEN ? AND ? ORDER BY ts_us"
        found = r.rows(self._conn, sql, (source, epoch_us(start), epoch_us(end)))
        return [r.reading_from(row) for row in found]

    @_locked
    def has_reading_from(self, source: str, instant: datetime) -> bool:
        sql = "SELECT 1 FROM meter_readings WHERE source = ? AND ts_us >= ? LIMIT 1"
        return bool(r.rows(self._conn, sql, (source, epoch_us(instant))))

    @_locked
    def spot_prices(self, start: datetime | None = None, end: datetime | None = None) -> list[SpotPrice]:
        sql = "SELECT * FROM spot_prices WHERE end_s > ? AND start_s < ? ORDER BY start_s"
        return [r.spot_price_from(row, self.tz) for row in r.rows(self._conn, sql, (_lo(start), _hi(end)))]

    @_locked
    def spot_price_for(self, interval: Interval) -> list[SpotPrice]:
        """The spot price of exactly ``interval`` (a list of at most one)."""
        _, duration, start_s, _ = interval_columns(interval)
        sql = "SELECT * FROM spot_prices WHERE start_s = ? AND duration = ?"
        return [r.spot_price_from(row, self.tz) for row in r.rows(self._conn, sql, (start_s, duration))]

    # --- positions, settlement, bill ------------------------------------------------------

    @_locked
    def positions(self, intervals: Sequence[Interval], party: str) -> list[Decimal]:
        return positions_kw(self._conn, intervals, party)

    def position(self, interval: Interval, party: str) -> Decimal:
        return positions_kw(self._conn, [interval], party)[0]

    @_locked
    def settle(
        self,
        interval: Interval,
        party: str,
        source: str,
        *,
        modulus_kwh: Decimal | None = None,
        tolerance: timedelta = DEFAULT_READING_TOLERANCE,
    ) -> tuple[Settlement, r.Stored]:
        """Settle a closed metering interval once; see :func:`agent.ledger.settling.settle`."""
        return settling.settle(
            self,
            self._conn,
            interval,
            party=party,
            source=source,
            modulus_kwh=modulus_kwh,
            tolerance=tolerance,
            now=self._clock.now(),
        )

    @_locked
    def settlements(
        self, start: datetime | None = None, end: datetime | None = None, party: str | None = None
    ) -> list[Settlement]:
        """Settlements whose interval starts in ``[start, end)``."""
        return settling.load(self._conn, self.tz, _lo(start), _hi(end), party)

    @_locked
    def bill(self, party: str, start: datetime, end: datetime) -> Bill:
        return settling.bill(self, party, start, end)

    # --- the household contract's bill ----------------------------------------------------

    @_locked
    def settle_contract(
        self,
        interval: Interval,
        party: str,
        source: str,
        *,
        currency: str,
        price_state: str,
        charges: contract.Charges,
        tolerance: timedelta = DEFAULT_READING_TOLERANCE,
    ) -> tuple[contract.ContractSettlement, r.Stored]:
        """Settle a closed metering interval by the contract once; see :func:`contract.settle_contract`."""
        return contract.settle_contract(
            self,
            self._conn,
            interval,
            party=party,
            source=source,
            currency=currency,
            price_state=price_state,
            charges=charges,
            tolerance=tolerance,
            now=self._clock.now(),
        )

    @_locked
    def contract_settlement_for(self, interval: Interval, party: str) -> list[contract.ContractSettlement]:
        """The contract settlement of exactly ``interval`` (a list of at most one)."""
        return contract.stored(self._conn, self.tz, party, interval)

    @_locked
    def contract_settlements(
        self, party: str, start: datetime | None = None, end: datetime | None = None
    ) -> list[contract.ContractSettlement]:
        """Contract settlements whose interval starts in ``[start, end)``."""
        return contract.load_settlements(self._conn, self.tz, _lo(start), _hi(end), party)

    @_locked
    def contract_charges(
        self, party: str, start: datetime | None = None, end: datetime | None = None
    ) -> list[contract.ContractCharge]:
        """Contract charges whose interval (metering interval, day or month) starts in ``[start, end)``."""
        return contract.load_charges(self._conn, self.tz, _lo(start), _hi(end), party)

    @_locked
    def contract_peak_kw(self, party: str, at: datetime) -> Decimal:
        """The demand peak booked so far in the local month holding ``at`` (what the month's
        intervals settled up to now set it to; 0 before any)."""
        return contract.month_peak_kw(self._conn, party, containing(at, Duration.P1M, self.tz))


def _lo(instant: datetime | None) -> int:
    return -(2**62) if instant is None else epoch_s(instant)


def _hi(instant: datetime | None) -> int:
    return 2**62 if instant is None else epoch_s(instant)


def _status(conn: sqlite3.Connection, event: TenderStatus) -> r.Stored:
    row = {"tender_id": event.tender_id, "status": event.status, "at": ts_text(event.at, "at")}
    row["note"] = event.note
    if conn.execute("SELECT 1 FROM tenders_posted WHERE id = ?", (event.tender_id,)).fetchone() is None:
        raise LedgerValueError("tender_id", f"{event.tender_id!r} is not a tender the home posted")
    return r.insert_once(conn, r.TENDER_STATUS, row)


def _meta_once(conn: sqlite3.Connection, key: str, value: str | None) -> str | None:
    """The stored ``key``; stores ``value`` if absent; a different stored value is refused."""
    row = conn.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
    if row is None:
        if value is not None:
            conn.execute("INSERT INTO meta (key, value) VALUES (?, ?)", (key, value))
        return value
    stored = str(row[0])
    if value is not None and value != stored:
        raise LedgerOpenError(f"ledger {key} is {stored!r}, not {value!r}; one ledger per site")
    return stored
