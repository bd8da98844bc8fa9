"""Exact conversions between Python values and the ledger's columns.

Decimals are stored as their exact text (``str``), never as REAL; instants as ISO 8601 in UTC;
intervals as the wire start (with the site's offset), the duration and epoch seconds.
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from zoneinfo import ZoneInfo

from agent.ledger.errors import LedgerStorageError, LedgerValueError
from agent.market.errors import MarketError
from agent.market.intervals import Duration, Interval, parse_interval

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def dec_text(value: Decimal, field: str) -> str:
    if not isinstance(value, Decimal):
        raise LedgerValueError(field, f"must be a Decimal, got {type(value).__name__}")
    if not value.is_finite():
        raise LedgerValueError(field, f"must be finite, got {value}")
    return str(value)


# No stored amount, price, quantity or energy comes near 10^18; a larger one (a row written
# before the wire's bounds were enforced, "1e999999999" kW) would overflow the bill's arithmetic.
MAX_STORED_ADJUSTED = 18


def dec_value(text: str, field: str) -> Decimal:
    try:
        value = Decimal(text)
    except (InvalidOperation, TypeError) as e:
        raise LedgerStorageError(f"stored {field} {text!r} is not a decimal") from e
    if not value.is_finite() or (value and value.adjusted() > MAX_STORED_ADJUSTED):
        shown = text if len(text) <= 40 else f"{text[:40]}..."
        raise LedgerStorageError(f"stored {field} {shown!r} is beyond any value the ledger can bill")
    return value


def ts_text(instant: datetime, field: str) -> str:
    if instant.tzinfo is None or instant.utcoffset() is None:
        raise LedgerValueError(field, "must be timezone-aware")
    return instant.astimezone(UTC).isoformat()


def ts_value(text: str, field: str) -> datetime:
    try:
        value = datetime.fromisoformat(text)
    except ValueError as e:
        raise LedgerStorageError(f"stored {field} {text!r} is not an ISO 8601 instant") from e
    if value.tzinfo is None:
        raise LedgerStorageError(f"stored {field} {text!r} has no UTC offset")
    return value.astimezone(UTC)


def epoch_s(instant: datetime) -> int:
    """Whole UTC epoch seconds; interval bounds always fall on whole seconds."""
    return int((instant.astimezone(UTC) - _EPOCH).total_seconds())


def epoch_us(instant: datetime) -> int:
    delta = instant.astimezone(UTC) - _EPOCH
    return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds


def interval_columns(interval: Interval) -> tuple[str, str, int, int]:
    """(interval_start, duration, start_s, end_s) of an interval."""
    return (
        interval.start.isoformat(),
        interval.duration.value,
        epoch_s(interval.start_utc),
        epoch_s(interval.end_utc),
    )


def interval_value(start: str, duration: str, tz: ZoneInfo) -> Interval:
    try:
        return parse_interval(start, duration, tz)
    except MarketError as e:
        raise LedgerStorageError(f"stored interval {start} {duration} is not valid in {tz.key}: {e}") from e


def duration_value(text: str) -> Duration:
    try:
        return Duration.parse(text)
    except MarketError as e:
        raise LedgerStorageError(f"stored duration {text!r}: {e}") from e
