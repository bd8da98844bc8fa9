"""The durable ledger (SQLite, WAL): trades, tenders, meter readings, spot prices, settlements."""

from agent.ledger.errors import (
    LedgerConflict,
    LedgerError,
    LedgerOpenError,
    LedgerStorageError,
    LedgerValueError,
    LedgerVersionError,
    SettlementDeferred,
)
from agent.ledger.rows import Stored
from agent.ledger.store import Ledger, TenderStatus

__all__ = [
    "Ledger",
    "LedgerConflict",
    "LedgerError",
    "LedgerOpenError",
    "LedgerStorageError",
    "LedgerValueError",
    "LedgerVersionError",
    "SettlementDeferred",
    "Stored",
    "TenderStatus",
]
