"""What pricing a tariff horizon costs: ``python -m bench.tariff_prices --json``.

For each example contract in configs/examples/, quotes (prices and standing tenders) a day and a
week of 15-minute intervals ``--repeats`` times and reports the median milliseconds per quote
and per interval. ``week_over_day_per_interval`` near 1 says the cost grows linearly with the
horizon (each interval finds its market price by bisection, not by a scan of all of them).
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
from pathlib import Path
from typing import Any

from agent.config import load_config
from agent.config.tariff import FixedMarketPrice
from agent.market.intervals import Duration, containing, intervals_between
from agent.tariff import FixedPriceSource, TariffCounterparty

EXAMPLES = Path(__file__).parents[1] / "configs" / "examples"
# The ENTSO-E example reads its token from the environment; the benchmark never uses it.
BENCH_ENV = {"ENTSOE_TOKEN": "not-used-by-the-benchmark"}
START = datetime.fromisoformat("2026-03-27T00:00:00+00:00")  # a week holding Europe's DST change


def _median_ms(cp: TariffCounterparty, hours: int, repeats: int) -> tuple[float, int]:
    zone = cp.calendar.zone
    first = containing(START, Duration.PT15M, zone)
    intervals = intervals_between(first.start_utc, START + timedelta(hours=hours), Duration.PT15M, zone)
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        asyncio.run(cp.quote(intervals))
        times.append((time.perf_counter() - t0) * 1e3)
    return statistics.median(times), len(intervals)


def run(repeats: int) -> dict[str, Any]:
    out: dict[str, Any] = {"repeats": repeats, "step": "PT15M", "contracts": {}}
    for path in sorted(EXAMPLES.glob("*.yaml")):
        config = load_config(path, env=BENCH_ENV)
        config = config.model_copy(
            update={"planner": config.planner.model_copy(update={"step": Duration.PT15M})}
        )
        tariff = config.market.tariff
        assert tariff is not None
        # A dynamic contract's prices come from a service on the network; what is measured here is
        # the formula over them, so hourly day-ahead prices stand in (each 15-min interval finds
        # the hour covering it).
        source = (
            None
            if isinstance(tariff.market, FixedMarketPrice)
            else FixedPriceSource(Decimal("0.085"), config.site.currency, config.zone, step=Duration.PT1H)
        )
        cp = TariffCounterparty(config, source)
        day_ms, day_n = _median_ms(cp, 24, repeats)
        week_ms, week_n = _median_ms(cp, 168, repeats)
        out["contracts"][path.stem] = {
            "day_intervals": day_n,
            "day_ms_median": round(day_ms, 2),
            "week_intervals": week_n,
            "week_ms_median": round(week_ms, 2),
            "us_per_interval_week": round(week_ms * 1e3 / week_n, 1),
            "week_over_day_per_interval": round((week_ms / week_n) / (day_ms / day_n), 2),
        }
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.tariff_prices", description=__doc__)
    parser.add_argument("--json", action="store_true", help="print the result as JSON")
    parser.add_argument("--repeats", type=int, default=20, help="quotes per contract and horizon")
    args = parser.parse_args(argv)
    out = run(args.repeats)
    if args.json:
        json.dump(out, sys.stdout, indent=2)
        print()
    else:
        for name, row in out["contracts"].items():
            print(name, " ".join(f"{k}={v}" for k, v in row.items()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
