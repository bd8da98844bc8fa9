"""Positions: the net forward rate a party holds in each metering interval.

The position of an interval is the sum, over the party's energy transactions whose interval
contains it, of +quantity (bought) or -quantity (sold), in kW. An hourly block therefore counts in
each of its twelve 5-min intervals, and nested blocks add up in every sub-interval.

A horizon is answered with one range query on the epoch columns and a sweep: each transaction
adds its rate to the first interval it contains and removes it after the last, and a running sum
gives every interval's position, so the cost is one pass over transactions plus one over intervals.
"""

from __future__ import annotations

import sqlite3
from bisect import bisect_left, bisect_right
from collections.abc import Sequence
from datetime import timedelta
from decimal import Decimal
from itertools import pairwise

from agent.ledger.columns import dec_value, epoch_s
from agent.ledger.errors import LedgerValueError
from agent.ledger.rows import rows
from agent.market.intervals import Interval
from agent.market.records import Product

# No interval on the ladder is longer than a leap year plus a DST hour; a transaction starting
# earlier than this before a horizon cannot reach into it, which bounds the index range scanned.
MAX_SPAN_S = int(timedelta(days=367).total_seconds())


def positions_kw(conn: sqlite3.Connection, intervals: Sequence[Interval], party: str) -> list[Decimal]:
    """Position of ``party`` in each of ``intervals`` (ascending, non-overlapping), in kW."""
    if not intervals:
        return []
    for a, b in pairwise(intervals):
        if b.start_utc < a.end_utc:
            raise LedgerValueError("intervals", "must be in ascending order and must not overlap")
    starts = [epoch_s(i.start_utc) for i in intervals]
    ends = [epoch_s(i.end_utc) for i in intervals]
    found = rows(
        conn,
        "SELECT buyer, quantity_kw, start_s, end_s FROM transactions "
        "WHERE start_s >= ? AND start_s < ? AND end_s > ? AND product = ? AND (buyer = ? OR seller = ?)",
        (starts[0] - MAX_SPAN_S, ends[-1], starts[0], Product.ENERGY.value, party, party),
    )
    change = [Decimal(0)] * (len(intervals) + 1)
    for row in found:
        first = bisect_left(starts, row["start_s"])  # first interval starting inside the block
        stop = bisect_right(ends, row["end_s"])  # past the last interval ending inside it
        if first < stop:
            rate = dec_value(row["quantity_kw"], "quantity_kw")
            signed = rate if row["buyer"] == party else -rate
            change[first] += signed
            change[stop] -= signed
    out: list[Decimal] = []
    running = Decimal(0)
    for delta in change[:-1]:
        running += delta
        out.append(running)
    return out


def position_kw(conn: sqlite3.Connection, interval: Interval, party: str) -> Decimal:
    return positions_kw(conn, [interval], party)[0]
