"""Schema versions: a new file, an old file, a file from the future, an interrupted step."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import pytest

from agent.ledger import Ledger, LedgerStorageError, LedgerVersionError
from agent.ledger.connection import connect, ledger_path
from agent.ledger.schema import MIGRATIONS, SCHEMA_VERSION, migrate, schema_version
from agent.market.intervals import Duration
from tests.ledger.helpers import BERLIN, HOME, block, tx

HOUR = block("2026-03-29T01:00+01:00", Duration.PT1H)


def tables(path: Path) -> set[str]:
    conn = sqlite3.connect(path)
    try:
        return {row[0] for row in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    finally:
        conn.close()


def test_more_than_one_version_exists() -> None:
    # The migration path from 1 is only exercised if there is a step after it.
    assert SCHEMA_VERSION == len(MIGRATIONS) >= 2


def test_empty_file_is_migrated_to_the_latest(tmp_path: Path) -> None:
    path = ledger_path(tmp_path)
    path.touch()  # an existing, empty file (e.g. created by the packaging)
    with Ledger.open(tmp_path, BERLIN) as book:
        assert book.schema_version == SCHEMA_VERSION
    assert {"transactions", "settlements", "meter_readings", "spot_prices"} <= tables(path)


def test_version_1_file_with_data_is_migrated_keeping_it(tmp_path: Path) -> None:
    path = ledger_path(tmp_path)
    conn = connect(path)
    migrate(conn, target=1)
    assert schema_version(conn) == 1
    conn.execute("INSERT INTO meta VALUES ('site_tz', 'Europe/Berlin'), ('home_party', ?)", (HOME,))
    conn.close()
    assert "settlements" not in tables(path)
    with Ledger.open(tmp_path) as book:
        book.add_transaction(tx("t1", HOUR, "2"))
    with Ledger.open(tmp_path, BERLIN) as book:
        assert book.schema_version == SCHEMA_VERSION
        assert book.home_party == HOME
        assert [t.id for t in book.transactions()] == ["t1"]
        assert book.settlements() == []
        assert book.integrity_check() == ["ok"]


def test_version_2_readings_become_measured_readings_in_version_3(tmp_path: Path) -> None:
    path = ledger_path(tmp_path)
    conn = connect(path)
    migrate(conn, target=2)
    conn.execute("INSERT INTO meta VALUES ('site_tz', 'Europe/Berlin'), ('home_party', ?)", (HOME,))
    conn.execute(
        "INSERT INTO meter_readings VALUES ('m', '2026-03-29T08:00:00+00:00', ?, '1.5', '0', ?)",
        (1774771200 * 1_000_000, "2026-03-29T08:00:01+00:00"),
    )
    conn.close()
    with Ledger.open(tmp_path) as book:
        assert book.schema_version == SCHEMA_VERSION >= 3
        (old,) = book.readings("m", datetime(2026, 3, 29, tzinfo=UTC), datetime(2026, 3, 30, tzinfo=UTC))
        assert old.import_kwh == Decimal("1.5")
        assert old.estimated is False


def test_file_from_a_newer_hems_is_refused_untouched(tmp_path: Path) -> None:
    path = ledger_path(tmp_path)
    with Ledger.open(tmp_path, BERLIN):
        pass
    conn = sqlite3.connect(path)
    conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    conn.close()
    with pytest.raises(LedgerVersionError) as e:
        Ledger.open(tmp_path, BERLIN)
    assert (e.value.found, e.value.known) == (SCHEMA_VERSION + 1, SCHEMA_VERSION)
    conn = sqlite3.connect(path)
    assert conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION + 1
    conn.close()


def test_a_failing_step_leaves_the_old_version(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # A step is one transaction with its version bump: a failure half-way must not leave half a schema.
    path = ledger_path(tmp_path)
    conn = connect(path)
    migrate(conn, target=1)
    broken = (*MIGRATIONS[1][:1], "CREATE TABLE broken (")
    monkeypatch.setattr("agent.ledger.schema.MIGRATIONS", (MIGRATIONS[0], broken))
    with pytest.raises(LedgerStorageError):
        migrate(conn, target=2)
    assert schema_version(conn) == 1
    conn.close()
    assert "settlements" not in tables(path)
