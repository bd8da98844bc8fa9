"""What pricing a horizon under an OpenADR program costs: ``python -m bench.openadr_program --json``.

A program book holding a week of quarter-hour price events (672 spans, the most an hourly-price
program sends ahead) prices a day and a week of 15-minute intervals ``--repeats`` times; the
median milliseconds per horizon and per interval are reported. ``week_over_day_per_interval``
near 1 says the cost grows linearly with the horizon (each interval finds the spans over it by
bisection, not by a scan of every span).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import sys
import time
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from agent.clock import ManualClock
from agent.market.intervals import Duration
from agent.openadr import PriceSpan, ProgramBook, ProgramEvent

START = datetime.fromisoformat("2026-03-27T00:00:00+00:00")
ZONE = ZoneInfo("Europe/Berlin")
QUARTER = timedelta(minutes=15)


def _book(days: int) -> ProgramBook:
    clock = ManualClock(START)
    book = ProgramBook(Decimal("0.14"), "EUR", ZONE, clock, step=Duration.PT15M, hold_s=86_400.0)
    book.heard()
    for d in range(days):
        day = START + timedelta(days=d)
        spans = tuple(
            PriceSpan(
                day + k * QUARTER, day + (k + 1) * QUARTER, "price", Decimal("0.20") + Decimal(k) / 1000
            )
            for k in range(96)
        )
        book.put(ProgramEvent(f"day-{d}", 0, 0, START, "oadr://bench/program", "far", spans))
    return book


def _median_ms(book: ProgramBook, hours: int, repeats: int) -> tuple[float, int]:
    times = []
    count = 0
    for _ in range(repeats):
        t0 = time.perf_counter()
        count = len(asyncio.run(book.prices(START, START + timedelta(hours=hours))))
        times.append((time.perf_counter() - t0) * 1e3)
    return statistics.median(times), count


def run(repeats: int) -> dict[str, Any]:
    book = _book(7)
    day_ms, day_n = _median_ms(book, 24, repeats)
    week_ms, week_n = _median_ms(book, 168, repeats)
    return {
        "repeats": repeats,
        "step": "PT15M",
        "spans": sum(len(e.spans) for e in book.events),
        "day_intervals": day_n,
        "day_ms_median": round(day_ms, 2),
        "week_intervals": week_n,
        "week_ms_median": round(week_ms, 2),
        "us_per_interval_week": round(week_ms * 1e3 / week_n, 1),
        "week_over_day_per_interval": round((week_ms / week_n) / (day_ms / day_n), 2),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.openadr_program", description=__doc__)
    parser.add_argument("--json", action="store_true", help="print the result as JSON")
    parser.add_argument("--repeats", type=int, default=20, help="pricings per horizon")
    args = parser.parse_args(argv)
    out = run(args.repeats)
    if args.json:
        json.dump(out, sys.stdout, indent=2)
        print()
    else:
        print(" ".join(f"{k}={v}" for k, v in out.items()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
