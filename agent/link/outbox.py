"""The durable outbox: what the home sends stays on disk until the broker acknowledged it.

One SQLite file, ``link.sqlite3`` in the state directory (WAL, ``synchronous=FULL``). ``enqueue``
commits before anything is published; a row is marked acknowledged only on PUBACK; every row not
yet acknowledged is published again after a reconnect or a restart, with the same message id, so
the retailer can drop the copy. Acknowledged rows are kept for a while (what was sent, for the
status page and for rebuilding the book after a restart), then pruned.

The methods are blocking; the link calls them through ``asyncio.to_thread``. One connection,
serialised by a lock, so any thread may call.
"""

from __future__ import annotations

import sqlite3
import threading
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from types import TracebackType

from agent.link.errors import OutboxConflict, OutboxError

FILE_NAME = "link.sqlite3"
# A lock held by another process (a second agent on the same state dir) is waited for this long.
BUSY_TIMEOUT_MS = 5000

_SCHEMA = """
CREATE TABLE IF NOT EXISTS outbox (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    kind TEXT NOT NULL,
    message_id TEXT NOT NULL,
    topic TEXT NOT NULL,
    payload TEXT NOT NULL,
    retain INTEGER NOT NULL DEFAULT 0,
    created TEXT NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    acked TEXT,
    UNIQUE (kind, message_id)
);
CREATE INDEX IF NOT EXISTS outbox_pending ON outbox (seq) WHERE acked IS NULL;
"""


@dataclass(frozen=True, slots=True)
class OutboxRow:
    seq: int
    kind: str
    message_id: str
    topic: str
    payload: str
    retain: bool
    created: datetime
    attempts: int
    acked: datetime | None


def _ts(at: datetime) -> str:
    if at.tzinfo is None:
        raise OutboxError("timestamps must be timezone-aware")
    return at.astimezone(UTC).isoformat()


class Outbox:
    def __init__(self, conn: sqlite3.Connection, path: Path) -> None:
        self._conn = conn
        self._lock = threading.Lock()
        self.path = path

    @classmethod
    def open(cls, state_dir: Path) -> Outbox:
        path = state_dir / FILE_NAME
        try:
            state_dir.mkdir(parents=True, exist_ok=True)
            conn = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
            conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
            mode = conn.execute("PRAGMA journal_mode = WAL").fetchone()[0]
            if str(mode).lower() != "wal":
                raise OutboxError(f"{path}: cannot switch to WAL (journal mode {mode})")
            conn.execute("PRAGMA synchronous = FULL")
            conn.executescript(_SCHEMA)
        except (sqlite3.Error, OSError) as e:
            raise OutboxError(f"{path}: cannot open the outbox: {e}") from e
        return cls(conn, path)

    def close(self) -> None:
        with self._lock:
            self._conn.close()

    def __enter__(self) -> Outbox:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def _run(self, sql: str, params: tuple[object, ...] = ()) -> list[sqlite3.Row]:
        with self._lock:
            try:
                self._conn.row_factory = sqlite3.Row
                return list(self._conn.execute(sql, params))
            except sqlite3.Error as e:
                raise OutboxError(f"{self.path}: {e}") from e

    def enqueue(
        self, kind: str, message_id: str, topic: str, payload: str, at: datetime, *, retain: bool = False
    ) -> bool:
        """Store a message to send; True if new, False if the very same one is already queued."""
        with self._lock:
            try:
                self._conn.execute("BEGIN IMMEDIATE")
                try:
                    found = self._conn.execute(
                        "SELECT payload FROM outbox WHERE kind = ? AND message_id = ?", (kind, message_id)
                    ).fetchone()
                    if found is None:
                        self._conn.execute(
                            "INSERT INTO outbox (kind, message_id, topic, payload, retain, created) "
                            "VALUES (?, ?, ?, ?, ?, ?)",
                            (kind, message_id, topic, payload, int(retain), _ts(at)),
                        )
                    self._conn.execute("COMMIT")
                except BaseException:
                    self._conn.execute("ROLLBACK")
                    raise
            except sqlite3.Error as e:
                raise OutboxError(f"{self.path}: cannot queue {kind} {message_id}: {e}") from e
        if found is not None and found[0] != payload:
            raise OutboxConflict(kind, message_id)
        return found is None

    def pending(self, limit: int = 100) -> list[OutboxRow]:
        """Rows not yet acknowledged, oldest first."""
        rows = self._run("SELECT * FROM outbox WHERE acked IS NULL ORDER BY seq LIMIT ?", (limit,))
        return [_row(r) for r in rows]

    def rows(self, kind: str | None = None) -> list[OutboxRow]:
        """Every kept row (of ``kind``), oldest first."""
        if kind is None:
            return [_row(r) for r in self._run("SELECT * FROM outbox ORDER BY seq")]
        return [_row(r) for r in self._run("SELECT * FROM outbox WHERE kind = ? ORDER BY seq", (kind,))]

    def pending_count(self) -> int:
        return int(self._run("SELECT count(*) FROM outbox WHERE acked IS NULL")[0][0])

    def note_attempt(self, seq: int) -> None:
        self._run("UPDATE outbox SET attempts = attempts + 1 WHERE seq = ?", (seq,))

    def mark_acked(self, seq: int, at: datetime) -> None:
        self._run("UPDATE outbox SET acked = ? WHERE seq = ? AND acked IS NULL", (_ts(at), seq))

    def prune(self, acked_before: datetime) -> int:
        """Forget acknowledged rows older than ``acked_before``; never an unacknowledged one."""
        with self._lock:
            try:
                cur = self._conn.execute(
                    "DELETE FROM outbox WHERE acked IS NOT NULL AND acked < ?", (_ts(acked_before),)
                )
                return cur.rowcount
            except sqlite3.Error as e:
                raise OutboxError(f"{self.path}: {e}") from e


def _row(r: sqlite3.Row) -> OutboxRow:
    return OutboxRow(
        seq=int(r["seq"]),
        kind=str(r["kind"]),
        message_id=str(r["message_id"]),
        topic=str(r["topic"]),
        payload=str(r["payload"]),
        retain=bool(r["retain"]),
        created=datetime.fromisoformat(r["created"]),
        attempts=int(r["attempts"]),
        acked=None if r["acked"] is None else datetime.fromisoformat(r["acked"]),
    )
