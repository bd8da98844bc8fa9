"""The writer the crash-safety test kills: appends transactions and acknowledges each commit.

Usage: ``python -m tests.ledger.crash_writer STATE_DIR FIRST COUNT SEED``. It first replays the
five ids before FIRST (already acknowledged or perhaps committed unacknowledged by the previous,
killed, writer), then writes ids FIRST.. in batches of 1-5. For each batch it prints
``begin <ids>`` before the commit and ``ack <ids>`` only after the commit returned: the ack is the
promise the test holds the ledger to.
"""

from __future__ import annotations

import random
import sys
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

from agent.ledger import Ledger
from agent.market.intervals import Duration, containing
from agent.market.records import Transaction
from tests.ledger.helpers import BERLIN, HOME, RETAILER, at, tx

BASE = at("2026-03-28T00:00+01:00")


def transaction(n: int) -> Transaction:
    """The n-th transaction: the same content every time it is built."""
    duration = (Duration.PT5M, Duration.PT15M, Duration.PT1H)[n % 3]
    interval = containing(BASE + timedelta(minutes=5 * n), duration, BERLIN)
    qty = Decimal(n % 97 + 1) / 10
    buyer, seller = (HOME, RETAILER) if n % 2 else (RETAILER, HOME)
    return tx(f"c{n:06d}", interval, str(qty), f"0.{n % 89 + 10}", buyer=buyer, seller=seller)


def main(state_dir: str, first: int, count: int, seed: int) -> int:
    rng = random.Random(seed)
    with Ledger.open(Path(state_dir), BERLIN, home_party=HOME) as ledger:
        for n in range(max(0, first - 5), first):
            stored = ledger.add_transaction(transaction(n))
            print(f"replayed c{n:06d} {stored.value}", flush=True)
        print("ready", flush=True)
        n = first
        while n < first + count:
            batch = [transaction(i) for i in range(n, min(n + rng.randint(1, 5), first + count))]
            ids = " ".join(t.id for t in batch)
            print(f"begin {ids}", flush=True)
            ledger.add_transactions(batch)
            print(f"ack {ids}", flush=True)
            n += len(batch)
    print("done", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])))
