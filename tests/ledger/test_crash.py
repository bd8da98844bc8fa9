"""Crash safety: SIGKILL the writer at random points; every acknowledged transaction survives once.

A child process writes a burst of transactions and prints each batch's ids only after its commit
returned. The test kills it with SIGKILL after a random delay (sometimes while it is still opening
the file), several rounds in a row, each round continuing where the last acknowledgement left off
and replaying the ids just before it. After each kill the ledger is reopened and checked.
"""

from __future__ import annotations

import os
import random
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

from agent.ledger import Ledger
from agent.ledger.connection import ledger_path
from tests.ledger.crash_writer import transaction
from tests.ledger.helpers import BERLIN

REPO = Path(__file__).resolve().parents[2]
ROUNDS = 8
READY_TIMEOUT_S = 30.0


def spawn(state_dir: Path, first: int, count: int, seed: int, out: Path) -> subprocess.Popen[bytes]:
    with out.open("wb") as sink:
        return subprocess.Popen(
            [
                sys.executable,
                "-m",
                "tests.ledger.crash_writer",
                str(state_dir),
                str(first),
                str(count),
                str(seed),
            ],
            cwd=REPO,
            stdout=sink,
            stderr=subprocess.PIPE,
        )


def complete_lines(out: Path) -> list[str]:
    # A line cut by the kill has no newline: it was never fully printed, so it promises nothing.
    text = out.read_text()
    return text.split("\n")[:-1]


def wait_for_ready(proc: subprocess.Popen[bytes], out: Path) -> None:
    deadline = time.monotonic() + READY_TIMEOUT_S
    while "ready" not in complete_lines(out):
        assert proc.poll() is None, f"writer died before ready: {proc.stderr.read() if proc.stderr else ''!r}"
        assert time.monotonic() < deadline, "writer not ready in time"
        time.sleep(0.01)


def stored_ids(state_dir: Path) -> list[str]:
    conn = sqlite3.connect(ledger_path(state_dir))
    try:
        return [row[0] for row in conn.execute("SELECT id FROM transactions ORDER BY id")]
    finally:
        conn.close()


def test_sigkill_loses_no_acknowledged_transaction(tmp_path: Path) -> None:
    seed = int(os.environ.get("HEMS_CRASH_SEED", random.randrange(2**32)))
    rng = random.Random(seed)
    state = tmp_path / "state"
    acked: set[str] = set()
    first = 0
    kills_while_writing = 0
    stored_before: set[str] = set()
    for round_no in range(ROUNDS):
        out = tmp_path / f"round{round_no}.out"
        proc = spawn(state, first, 1_000_000, rng.randrange(2**32), out)
        if rng.random() < 0.25:
            time.sleep(rng.uniform(0.0, 0.5))  # may land while it opens or migrates the file
        else:
            wait_for_ready(proc, out)
            time.sleep(rng.uniform(0.0, 0.4))
        proc.send_signal(signal.SIGKILL)
        assert proc.wait(timeout=10) == -signal.SIGKILL, f"seed {seed}: writer ended on its own"
        lines = complete_lines(out)
        begun: list[list[str]] = []  # this run's batches, judged against the file right after the kill
        for line in lines:
            word, _, rest = line.partition(" ")
            if word == "begin":
                begun.append(rest.split())
            elif word == "ack":
                acked.update(rest.split())
            elif word == "replayed":
                tid, outcome = rest.split()
                assert outcome in ("added", "already"), f"seed {seed}: {line}"
        kills_while_writing += any(line.startswith("begin") for line in lines)

        with Ledger.open(state, BERLIN) as ledger:
            assert ledger.integrity_check() == ["ok"], f"seed {seed}, round {round_no}"
            stored = {t.id: t for t in ledger.transactions()}
        ids = stored_ids(state)
        assert len(ids) == len(set(ids)), f"seed {seed}: duplicated ids"
        missing = acked - stored.keys()
        assert not missing, f"seed {seed}, round {round_no}: acknowledged but lost: {sorted(missing)[:5]}"
        for tid, t in stored.items():
            assert t == transaction(int(tid[1:])), f"seed {seed}: {tid} stored with other content"
        for batch in begun:
            # Ids the last round committed but never acknowledged are written again in this round's
            # batches (it starts after the last acknowledgement): they were stored before it began,
            # so a batch straddling them is judged by its new ids (a run once read c549 of the last
            # round as half of this round's c549-c551).
            fresh = [tid for tid in batch if tid not in stored_before]
            present = [tid in stored for tid in fresh]
            assert all(present) or not any(present), f"seed {seed}: half a batch stored: {batch}"
        stored_before = set(stored)
        # Stored ids are a prefix: acknowledged ones plus at most the batch in flight at the kill.
        if stored:
            top = max(int(tid[1:]) for tid in stored)
            assert set(stored) == {f"c{n:06d}" for n in range(top + 1)}, f"seed {seed}: gap in ids"
        # Acknowledgements come in id order, so they form a prefix; continue right after it.
        first = len(acked)
        assert acked == {f"c{n:06d}" for n in range(first)}, f"seed {seed}: acks out of order"
        print(f"round {round_no}: {len(lines)} lines, {first} acknowledged, {len(stored)} stored")

    assert kills_while_writing >= ROUNDS // 2, f"seed {seed}: too few kills landed mid-burst"
    assert len(acked) > 0
    # The writer carries on after all that: replays the last ids and finishes a short burst.
    out = tmp_path / "final.out"
    proc = spawn(state, first, 50, 1, out)
    assert proc.wait(timeout=60) == 0, proc.stderr.read() if proc.stderr else b""
    assert complete_lines(out)[-1] == "done"
    with Ledger.open(state, BERLIN) as ledger:
        assert ledger.integrity_check() == ["ok"]
        assert ledger.transaction_count() >= first + 50
        assert acked <= {t.id for t in ledger.transactions()}
