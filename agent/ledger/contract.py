"""The household contract's bill in the ledger: each closed metering interval settled once by its charges.

Under a tariff there is no retailer spot price: the meter's energy of a closed interval is billed
at the contract's price. :func:`settle_contract` reads the interval's readings, what the month has
booked so far (its import for tiers, its demand peak, whether the day's and the month's standing
charges are in) and writes the interval with its charges in one write transaction, so a crash
leaves the interval either wholly settled or not at all, and a settled interval is never
recomputed. What the charges are is the caller's (agent/tariff/contract_charges.py): the ledger
only measures, stores and sums.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from agent.ledger import rows as r
from agent.ledger.columns import dec_text, dec_value, interval_columns, interval_value, ts_text, ts_value
from agent.ledger.connection import transaction
from agent.ledger.errors import SettlementDeferred
from agent.ledger.settling import label, require_closed
from agent.market.intervals import Duration, Interval, containing
from agent.market.records import Delivery
from agent.market.settlement import MissingReadingError, settle_interval

if TYPE_CHECKING:
    from agent.ledger.store import Ledger

CONTRACT_INTERVALS = r.Table(
    "contract_intervals",
    ("party", "start_s", "duration"),
    frozenset({"import_kwh", "export_kwh", "amount"}),
    frozenset({"start_reading_ts", "end_reading_ts"}),
)
CONTRACT_CHARGES = r.Table(
    "contract_charges", ("party", "start_s", "duration", "component"), frozenset({"quantity", "amount"})
)
# The demand component's rows are increments of the month's peak kW: their sum is the peak.
DEMAND = "demand"


@dataclass(frozen=True, slots=True)
class ContractCharge:
    """One component of the bill, on a metering interval or on a standing charge's local day or month."""

    interval: Interval
    component: str
    quantity: Decimal
    unit: str  # kWh, day, month or kW
    amount: Decimal  # currency; negative: a credit
    price_state: str


@dataclass(frozen=True, slots=True)
class ContractSettlement:
    """A metering interval settled by the contract, with the charges booked with it."""

    interval: Interval
    party: str
    source: str
    import_kwh: Decimal
    export_kwh: Decimal
    amount: Decimal
    currency: str
    price_state: str
    flags: tuple[str, ...]
    start_reading_ts: datetime
    end_reading_ts: datetime
    charges: tuple[ContractCharge, ...] = ()

    @property
    def net_kwh(self) -> Decimal:
        return self.import_kwh - self.export_kwh

    @property
    def deviation_kwh(self) -> Decimal:
        # No forward position under a contract: all metered energy is billed at its price.
        return self.net_kwh

    @property
    def delivery(self) -> Delivery:
        return Delivery(self.interval, self.party, self.import_kwh, self.export_kwh)


@dataclass(frozen=True, slots=True)
class Metered:
    interval: Interval
    import_kwh: Decimal
    export_kwh: Decimal


@dataclass(frozen=True, slots=True)
class MonthSoFar:
    """What the interval's local month has booked before it."""

    day: Interval
    month: Interval
    import_kwh: Decimal
    peak_kw: Decimal
    day_charged: bool
    month_charged: bool


Charges = Callable[[Metered, MonthSoFar], Sequence[ContractCharge]]


def stored(
    conn: sqlite3.Connection, tz: ZoneInfo, party: str, interval: Interval
) -> list[ContractSettlement]:
    _, duration, start_s, _ = interval_columns(interval)
    sql = "SELECT * FROM contract_intervals WHERE party = ? AND start_s = ? AND duration = ?"
    return [_settlement_from(row, tz) for row in r.rows(conn, sql, (party, start_s, duration))]


def settle_contract(
    ledger: Ledger,
    conn: sqlite3.Connection,
    interval: Interval,
    *,
    party: str,
    source: str,
    currency: str,
    price_state: str,
    charges: Charges,
    tolerance: timedelta,
    now: datetime,
) -> tuple[ContractSettlement, r.Stored]:
    """Settle ``interval`` by ``charges``, or return the stored settlement.

    Raises :class:`SettlementDeferred` (writing nothing) while the interval is open, while a
    reading nearer its end may still arrive, or while a reading at a bound is missing.
    """
    with transaction(conn):
        done = stored(conn, ledger.tz, party, interval)
        if done:
            return done[0], r.Stored.ALREADY
        require_closed(ledger, interval, source, now, tolerance)
        readings = ledger.readings(source, interval.start_utc - tolerance, interval.end_utc + tolerance)
        try:
            # The retailer path's measurement (bound readings, counter deltas, reset flags) with
            # no position and no spot price: only its metered energy and flags are used.
            measured = settle_interval(
                interval=interval,
                party=party,
                position_kw=Decimal(0),
                readings=readings,
                spot_price_per_kwh=Decimal(0),
                currency=currency,
                tolerance=tolerance,
            )
        except MissingReadingError as e:
            raise SettlementDeferred(label(interval), f"{e} (meter {source})") from e
        metered = Metered(interval, measured.import_kwh, measured.export_kwh)
        booked = tuple(charges(metered, _month_so_far(conn, ledger.tz, party, interval)))
        result = ContractSettlement(
            interval=interval,
            party=party,
            source=source,
            import_kwh=measured.import_kwh,
            export_kwh=measured.export_kwh,
            amount=sum((c.amount for c in booked), Decimal(0)),
            currency=currency,
            price_state=price_state,
            flags=measured.flags,
            start_reading_ts=measured.start_reading_ts,
            end_reading_ts=measured.end_reading_ts,
            charges=booked,
        )
        r.insert_once(conn, CONTRACT_INTERVALS, _settlement_row(result, now))
        for charge in booked:
            r.insert_once(conn, CONTRACT_CHARGES, _charge_row(party, currency, charge, now))
    return result, r.Stored.ADDED


def _month_so_far(conn: sqlite3.Connection, tz: ZoneInfo, party: str, interval: Interval) -> MonthSoFar:
    day = containing(interval.start_utc, Duration.P1D, tz)
    month = containing(interval.start_utc, Duration.P1M, tz)
    _, _, month_s, month_end_s = interval_columns(month)
    span = (party, month_s, month_end_s)
    sql = "SELECT import_kwh FROM contract_intervals WHERE party = ? AND start_s >= ? AND start_s < ?"
    imported = sum((dec_value(row[0], "import_kwh") for row in r.rows(conn, sql, span)), Decimal(0))
    return MonthSoFar(
        day,
        month,
        imported,
        month_peak_kw(conn, party, month),
        _has_charges(conn, party, day),
        _has_charges(conn, party, month),
    )


def month_peak_kw(conn: sqlite3.Connection, party: str, month: Interval) -> Decimal:
    """The demand peak booked so far in ``month``: the sum of its demand rises (0 without any)."""
    _, _, month_s, month_end_s = interval_columns(month)
    sql = (
        "SELECT quantity FROM contract_charges WHERE party = ? AND start_s >= ? AND start_s < ? "
        "AND component = ? AND unit = 'kW'"
    )
    rows = r.rows(conn, sql, (party, month_s, month_end_s, DEMAND))
    return sum((dec_value(row[0], "quantity") for row in rows), Decimal(0))


def _has_charges(conn: sqlite3.Connection, party: str, interval: Interval) -> bool:
    _, duration, start_s, _ = interval_columns(interval)
    sql = "SELECT 1 FROM contract_charges WHERE party = ? AND start_s = ? AND duration = ? LIMIT 1"
    return bool(r.rows(conn, sql, (party, start_s, duration)))


def load_settlements(
    conn: sqlite3.Connection, tz: ZoneInfo, lo_s: int, hi_s: int, party: str
) -> list[ContractSettlement]:
    sql = "SELECT * FROM contract_intervals WHERE party = ? AND start_s >= ? AND start_s < ? ORDER BY start_s"
    return [_settlement_from(row, tz) for row in r.rows(conn, sql, (party, lo_s, hi_s))]


def load_charges(
    conn: sqlite3.Connection, tz: ZoneInfo, lo_s: int, hi_s: int, party: str
) -> list[ContractCharge]:
    """Charges whose interval starts in ``[lo_s, hi_s)``, in the order they were booked."""
    sql = (
        "SELECT * FROM contract_charges WHERE party = ? AND start_s >= ? AND start_s < ? "
        "ORDER BY start_s, rowid"
    )
    return [
        ContractCharge(
            interval=interval_value(row["interval_start"], row["duration"], tz),
            component=row["component"],
            quantity=dec_value(row["quantity"], "quantity"),
            unit=row["unit"],
            amount=dec_value(row["amount"], "amount"),
            price_state=row["price_state"],
        )
        for row in r.rows(conn, sql, (party, lo_s, hi_s))
    ]


def _settlement_row(s: ContractSettlement, now: datetime) -> dict[str, Any]:
    start, duration, start_s, end_s = interval_columns(s.interval)
    return {
        "party": s.party,
        "interval_start": start,
        "duration": duration,
        "start_s": start_s,
        "end_s": end_s,
        "source": s.source,
        "import_kwh": dec_text(s.import_kwh, "import_kwh"),
        "export_kwh": dec_text(s.export_kwh, "export_kwh"),
        "amount": dec_text(s.amount, "amount"),
        "currency": s.currency,
        "price_state": s.price_state,
        "flags": ",".join(s.flags),
        "start_reading_ts": ts_text(s.start_reading_ts, "start_reading_ts"),
        "end_reading_ts": ts_text(s.end_reading_ts, "end_reading_ts"),
        "settled_at": ts_text(now, "settled_at"),
    }


def _charge_row(party: str, currency: str, c: ContractCharge, now: datetime) -> dict[str, Any]:
    start, duration, start_s, end_s = interval_columns(c.interval)
    return {
        "party": party,
        "interval_start": start,
        "duration": duration,
        "start_s": start_s,
        "end_s": end_s,
        "component": c.component,
        "quantity": dec_text(c.quantity, "quantity"),
        "unit": c.unit,
        "amount": dec_text(c.amount, "amount"),
        "currency": currency,
        "price_state": c.price_state,
        "settled_at": ts_text(now, "settled_at"),
    }


def _settlement_from(row: sqlite3.Row, tz: ZoneInfo) -> ContractSettlement:
    flags = row["flags"]
    return ContractSettlement(
        interval=interval_value(row["interval_start"], row["duration"], tz),
        party=row["party"],
        source=row["source"],
        import_kwh=dec_value(row["import_kwh"], "import_kwh"),
        export_kwh=dec_value(row["export_kwh"], "export_kwh"),
        amount=dec_value(row["amount"], "amount"),
        currency=row["currency"],
        price_state=row["price_state"],
        flags=tuple(flags.split(",")) if flags else (),
        start_reading_ts=ts_value(row["start_reading_ts"], "start_reading_ts"),
        end_reading_ts=ts_value(row["end_reading_ts"], "end_reading_ts"),
    )
