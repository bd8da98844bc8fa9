"""What the planner process costs and buys: ``python -m bench.planner_process --json``.

For the running agent's shape (a day at 15-minute steps, 3 bid curves per plan, as the plan
phase asks), each mode plans ``--plans`` times from an event loop while a ticker task sleeps
1 ms at a time, and reports the median plan time and the event loop's longest stall (the
longest gap between two ticks):

* ``thread``: ``Planner.plan_async`` (the solve in a worker thread; PIQP keeps the GIL);
* ``process``: :class:`agent.optimizer.worker.PlannerProcess` (the solve in a child process).

``process_overhead_ms_median`` is the process's extra time per plan (shipping the inputs and the
plan through the pipe); ``stall_ratio`` the thread's longest stall over the process's.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import sys
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from agent.optimizer import Plan, PlanInputs, Planner, synthetic
from agent.optimizer.worker import PlannerProcess

HORIZON, DT_H, BIDS = 96, 0.25, 3
PlanFn = Callable[[PlanInputs], Awaitable[Plan]]


@dataclass(frozen=True)
class Stalls:
    plan_ms_median: float
    stall_ms_max: float  # the event loop's longest gap between two 1 ms ticks
    ticks: int


async def measure(plan: PlanFn, plans: int) -> Stalls:
    """Plan ``plans`` times (after one warm-up plan) while a ticker task sleeps 1 ms at a time."""
    await plan(synthetic.inputs(HORIZON, DT_H, 0, 0))  # started and warm
    gaps: list[float] = []

    async def tick() -> None:
        last = time.perf_counter()
        while True:
            await asyncio.sleep(0.001)
            now = time.perf_counter()
            gaps.append(now - last)
            last = now

    ticker = asyncio.create_task(tick())
    times = []
    for k in range(1, plans + 1):
        inputs = synthetic.inputs(HORIZON, DT_H, k, k)
        t0 = time.perf_counter()
        await plan(inputs)
        times.append((time.perf_counter() - t0) * 1e3)
    ticker.cancel()
    return Stalls(statistics.median(times), max(gaps) * 1e3, len(gaps))


async def run(plans: int) -> dict[str, Any]:
    planner = Planner(synthetic.devices(), HORIZON, DT_H)
    worker = PlannerProcess(synthetic.devices(), HORIZON, DT_H)

    async def in_thread(inputs: PlanInputs) -> Plan:
        return await planner.plan_async(inputs, elapsed_intervals=1, bid_intervals=BIDS, bid_from=1)

    async def in_process(inputs: PlanInputs) -> Plan:
        return await worker.plan_async(inputs, elapsed_intervals=1, bid_intervals=BIDS, bid_from=1)

    try:
        thread = await measure(in_thread, plans)
        process = await measure(in_process, plans)
    finally:
        await worker.close()
    return {
        "intervals": HORIZON,
        "bid_intervals": BIDS,
        "plans": plans,
        "thread_plan_ms_median": round(thread.plan_ms_median, 2),
        "process_plan_ms_median": round(process.plan_ms_median, 2),
        "process_overhead_ms_median": round(process.plan_ms_median - thread.plan_ms_median, 2),
        "thread_loop_stall_ms_max": round(thread.stall_ms_max, 2),
        "process_loop_stall_ms_max": round(process.stall_ms_max, 2),
        "stall_ratio": round(thread.stall_ms_max / max(process.stall_ms_max, 1e-9), 1),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.planner_process", description=__doc__)
    parser.add_argument("--json", action="store_true", help="print the result as JSON")
    parser.add_argument("--plans", type=int, default=30, help="plans per mode")
    args = parser.parse_args(argv)
    out = asyncio.run(run(args.plans))
    if args.json:
        json.dump(out, sys.stdout, indent=2)
        print()
    else:
        for k, v in out.items():
            print(f"{k:<28} {v}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
