"""Opening the ledger's SQLite file with the settings its durability depends on.

* WAL journal: readers (the web page, ``hems ledger``) never block the writer.
* ``synchronous=FULL``: a commit that returned is on disk (WAL's default NORMAL may lose the last
  transactions on power loss, and an acknowledged trade must survive that).
* Foreign keys on; a busy timeout so a reader's checkpoint does not fail a write.
* Autocommit mode (``isolation_level=None``): every write goes through :func:`transaction`, which
  says ``BEGIN IMMEDIATE`` itself, so the write lock is taken up front and Python's sqlite3 module
  never opens or commits a transaction behind our back.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path

from agent.ledger.errors import LedgerOpenError, LedgerStorageError

LEDGER_FILENAME = "ledger.sqlite3"

# Long enough to ride out a checkpoint or a concurrent reader on a slow SD card, short enough that
# a stuck second writer is reported instead of hanging the control loop.
BUSY_TIMEOUT_MS = 5000


def ledger_path(state_dir: Path) -> Path:
    return state_dir / LEDGER_FILENAME


def connect(path: Path, *, create: bool = True) -> sqlite3.Connection:
    """An open connection with WAL, FULL sync, foreign keys and the busy timeout set."""
    if not create and not path.exists():
        raise LedgerOpenError(f"{path}: no ledger here")
    try:
        if create:
            path.parent.mkdir(parents=True, exist_ok=True)
        # check_same_thread off: the Ledger serialises access itself, so a caller may use a worker
        # thread (asyncio.to_thread) to keep fsync off the event loop.
        conn = sqlite3.connect(
            str(path), isolation_level=None, timeout=BUSY_TIMEOUT_MS / 1000, check_same_thread=False
        )
    except (sqlite3.Error, OSError) as e:
        raise LedgerOpenError(f"{path}: cannot open: {e}") from e
    try:
        conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        mode = conn.execute("PRAGMA journal_mode = WAL").fetchone()[0]
        if str(mode).lower() != "wal":
            raise LedgerOpenError(f"{path}: cannot switch to WAL journal (got {mode})")
        conn.execute("PRAGMA synchronous = FULL")
        conn.execute("PRAGMA foreign_keys = ON")
    except sqlite3.DatabaseError as e:
        conn.close()
        raise LedgerOpenError(f"{path}: not a usable SQLite database: {e}") from e
    except LedgerOpenError:
        conn.close()
        raise
    return conn


@contextmanager
def transaction(conn: sqlite3.Connection) -> Iterator[sqlite3.Connection]:
    """One atomic write: all of the block is committed, or none of it.

    SQLite errors become :class:`LedgerStorageError`; other exceptions (our own typed errors, e.g.
    a conflict found half-way) roll back and pass through unchanged.
    """
    try:
        conn.execute("BEGIN IMMEDIATE")
    except sqlite3.Error as e:
        raise LedgerStorageError(f"cannot start a write: {e}") from e
    try:
        yield conn
    except BaseException as e:
        _rollback(conn)
        if isinstance(e, sqlite3.Error):
            raise LedgerStorageError(f"write failed and was rolled back: {e}") from e
        raise
    try:
        conn.execute("COMMIT")
    except sqlite3.Error as e:
        _rollback(conn)
        raise LedgerStorageError(f"commit failed and was rolled back: {e}") from e


def _rollback(conn: sqlite3.Connection) -> None:
    # The transaction may already be gone: SQLite rolls back by itself after some errors.
    if conn.in_transaction:
        with suppress(sqlite3.Error):
            conn.execute("ROLLBACK")


def integrity_check(conn: sqlite3.Connection) -> list[str]:
    """SQLite's own consistency check; ``["ok"]`` when the file is sound."""
    try:
        return [str(row[0]) for row in conn.execute("PRAGMA integrity_check")]
    except sqlite3.Error as e:
        raise LedgerStorageError(f"integrity check failed to run: {e}") from e
