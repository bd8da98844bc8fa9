"""Errors of the ledger: the durable SQLite store of trades, readings and settlements."""

from __future__ import annotations

from agent.errors import HemsError


class LedgerError(HemsError):
    """Root of ledger errors."""


class LedgerOpenError(LedgerError):
    """The ledger file cannot be opened or is not a hems ledger."""


class LedgerVersionError(LedgerOpenError):
    """The file was written by a newer hems (its schema version is unknown to this one)."""

    def __init__(self, found: int, known: int) -> None:
        super().__init__(
            f"ledger schema version {found} is newer than this hems knows ({known}); upgrade hems"
        )
        self.found = found
        self.known = known


class LedgerStorageError(LedgerError):
    """SQLite failed while reading or writing (disk full, I/O error, locked too long)."""


class LedgerConflict(LedgerError):
    """A record whose id is already stored with different content: never overwritten."""

    def __init__(self, kind: str, key: str, field: str) -> None:
        super().__init__(f"{kind} {key}: already stored with a different {field}; not overwritten")
        self.kind = kind
        self.key = key
        self.field = field


class LedgerValueError(LedgerError):
    """A value that cannot be stored exactly (NaN, infinity, a naive datetime); names the field."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.reason = message


class SettlementDeferred(LedgerError):
    """A metering interval cannot be settled yet (a missing reading or spot price); nothing was written."""

    def __init__(self, interval: str, missing: str) -> None:
        super().__init__(f"settlement of {interval} deferred: {missing}")
        self.interval = interval
        self.missing = missing
