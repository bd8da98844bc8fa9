"""The ledger's part in matching: the evidence read and the booking happen in one write, a
refused transaction leaves nothing, and a spot price's message id names one interval."""

from __future__ import annotations

import sqlite3
from dataclasses import replace
from decimal import Decimal

import pytest

from agent.ledger import Ledger, LedgerConflict, LedgerStorageError, Stored
from agent.ledger.evidence import Evidence
from agent.market.errors import CodecError
from agent.market.intervals import Duration
from agent.market.records import Transaction
from tests.ledger.helpers import HOME, at, block, spot, tx

HOUR = block("2026-03-10T10:00+01:00", Duration.PT1H)


def refuse(t: Transaction, ev: Evidence) -> None:
    raise CodecError("quantity_kw", "refused by the test's rule", t.id)


def test_a_refused_transaction_leaves_the_ledger_unchanged(ledger: Ledger) -> None:
    with pytest.raises(CodecError):
        ledger.add_transaction(tx("x1", HOUR, "1.5"), match=refuse, party=HOME)
    assert ledger.transaction_count() == 0
    assert ledger.integrity_check() == ["ok"]


def test_the_evidence_holds_the_acceptances_and_what_already_executed(ledger: Ledger) -> None:
    ledger.add_acceptance("acc-1", "t-1", HOME, Decimal("1.5"), at("2026-03-10T09:00+01:00"))
    ledger.add_acceptance("acc-2", "t-1", HOME, Decimal("0.5"), at("2026-03-10T09:01+01:00"))
    ledger.add_acceptance("acc-3", "t-other", HOME, Decimal("4"), at("2026-03-10T09:02+01:00"))
    seen: list[Evidence] = []

    def note(t: Transaction, ev: Evidence) -> None:
        seen.append(ev)

    first = replace(tx("x1", HOUR, "1.5"), tender_id="t-1")
    assert ledger.add_transaction(first, match=note, party=HOME) is Stored.ADDED
    ledger.add_transaction(replace(tx("x2", HOUR, "0.5"), tender_id="t-1"), match=note, party=HOME)
    assert [ev.accepted_kw for ev in seen] == [Decimal(2), Decimal(2)]
    assert [ev.executed for ev in seen] == [(), (first,)]
    assert (seen[0].received, seen[0].posted, seen[0].metered) == (None, None, None)


def test_an_identical_repeat_is_not_judged_again(ledger: Ledger) -> None:
    first = tx("x1", HOUR, "1.5")
    ledger.add_transaction(first)
    assert ledger.add_transaction(first, match=refuse, party=HOME) is Stored.ALREADY


def test_a_spot_message_id_names_one_interval(ledger: Ledger) -> None:
    q1, q2 = HOUR.children(Duration.PT15M)[:2]
    assert ledger.add_spot_price(spot(q1, "0.30"), message_id="s-1") is Stored.ADDED
    assert ledger.add_spot_price(spot(q1, "0.30"), message_id="s-1") is Stored.ALREADY
    with pytest.raises(LedgerConflict) as err:
        ledger.add_spot_price(spot(q2, "0.30"), message_id="s-1")
    assert err.value.field == "interval_start"
    assert ledger.spot_price_for(q2) == []
    # Another id for a stored interval with the same price changes nothing.
    assert ledger.add_spot_price(spot(q1, "0.30"), message_id="s-9") is Stored.ALREADY


def test_a_row_beyond_any_bound_is_a_typed_error_not_an_overflow(ledger: Ledger) -> None:
    # Guards the bill failing with a traceback on a quantity of 1e999999999 kW that an earlier
    # codec let through: the row is named, as a LedgerStorageError.
    ledger.add_transaction(tx("x1", HOUR, "1.5"))
    conn = sqlite3.connect(ledger.path)
    try:
        conn.execute("DROP TRIGGER transactions_no_update")
        conn.execute("UPDATE transactions SET quantity_kw = '1e999999999' WHERE id = 'x1'")
        conn.commit()
    finally:
        conn.close()
    with pytest.raises(LedgerStorageError) as err:
        ledger.bill(HOME, HOUR.start_utc, HOUR.end_utc)
    assert "quantity_kw" in str(err.value)
