"""The virtual-time loop: timers jump, executor work runs inline, the wall clock is never slept on."""

from __future__ import annotations

import asyncio
import concurrent.futures
import selectors
import threading
from typing import Any

import pytest

from hil.fast.vloop import POLL_EVERY, ThinPollSelector, run_virtual


def test_a_day_of_minute_sleeps_passes_on_virtual_time() -> None:
    async def main() -> tuple[float, int]:
        loop = asyncio.get_running_loop()
        t0, n = loop.time(), 0
        for _ in range(1440):
            await asyncio.sleep(60.0)
            n += 1
        return loop.time() - t0, n

    elapsed_s, sleeps = run_virtual(main())
    assert sleeps == 1440
    assert elapsed_s == pytest.approx(86400.0)


def test_to_thread_runs_inline_so_time_stands_still_meanwhile() -> None:
    seen: list[str] = []

    async def main() -> float:
        loop = asyncio.get_running_loop()
        t0 = loop.time()
        await asyncio.to_thread(lambda: seen.append(threading.current_thread().name))
        return loop.time() - t0

    assert run_virtual(main()) == 0.0
    assert seen == [threading.main_thread().name]


def test_timeouts_fire_on_virtual_seconds() -> None:
    async def main() -> float:
        loop = asyncio.get_running_loop()
        t0 = loop.time()
        with pytest.raises(TimeoutError):
            async with asyncio.timeout(3600.0):
                await asyncio.Event().wait()
        return loop.time() - t0

    assert run_virtual(main()) == pytest.approx(3600.0)


def test_the_selector_is_only_ever_polled_and_seldom_asked(monkeypatch: pytest.MonkeyPatch) -> None:
    # The loop never blocks on the wall clock: every select it makes has a zero timeout, and
    # only one turn in POLL_EVERY reaches the kernel.
    turns: list[Any] = []
    polls: list[Any] = []
    original = selectors.EpollSelector.select
    thin = ThinPollSelector.select

    def spy(self: selectors.EpollSelector, timeout: float | None = None) -> Any:
        polls.append(timeout)
        return original(self, timeout)

    def turn(self: ThinPollSelector, timeout: float | None = None) -> Any:
        turns.append(timeout)
        return thin(self, timeout)

    monkeypatch.setattr(selectors.EpollSelector, "select", spy)
    monkeypatch.setattr(ThinPollSelector, "select", turn)

    async def main() -> None:
        for _ in range(1000):
            await asyncio.sleep(900.0)

    run_virtual(main())
    assert len(turns) >= 1000
    assert set(turns) == {0}
    assert set(polls) == {0}
    assert len(polls) == len(turns) // POLL_EVERY


PAST_2_POW_24 = """
import asyncio
from hil.fast.vloop import new_virtual_loop

async def main():
    loop = asyncio.get_running_loop()
    for _ in range(3):
        await asyncio.sleep(60.0)
        due = loop.create_future()
        loop.call_at(loop.time(), due.set_result, "due")  # a timer for this very instant
        await due
        await asyncio.sleep(0.25)
    return loop.time()

with asyncio.Runner(loop_factory=lambda: new_virtual_loop(2.0**24 - 30.0)) as runner:
    print(runner.run(main()))
"""


def test_a_timer_for_the_present_instant_is_due_past_194_days() -> None:
    # Past 2**24 s a float's spacing exceeds twice asyncio's 1 ns margin for a due timer, and a
    # zero-delay timer was never due: a year's run stood still at 194 days, polling. A child
    # process, as such a loop never returns.
    import subprocess
    import sys

    done = subprocess.run(
        [sys.executable, "-c", PAST_2_POW_24], capture_output=True, text=True, timeout=60, check=False
    )
    assert done.returncode == 0, done.stderr
    assert float(done.stdout) == pytest.approx(2.0**24 - 30.0 + 3 * 60.25)


def test_executor_work_hands_over_its_result_and_errors_on_the_next_turn() -> None:
    """The result comes back on the loop's next turn (as a thread pool's would), errors are
    raised in the awaiting task, and a cancelled waiter leaves the loop running."""
    order: list[str] = []

    async def other() -> None:
        order.append("other task ran")

    def fail() -> None:
        raise ValueError("from the executor")

    async def main() -> tuple[int, str, bool]:
        asyncio.get_running_loop().create_task(other())
        value = await asyncio.to_thread(lambda: 41 + 1)
        order.append("result")
        try:
            await asyncio.to_thread(fail)
        except ValueError as e:
            error = str(e)
        waiter = asyncio.ensure_future(asyncio.to_thread(lambda: 1))
        waiter.cancel()
        await asyncio.sleep(0)
        await asyncio.sleep(0)
        return value, error, waiter.cancelled()

    assert run_virtual(main()) == (42, "from the executor", True)
    assert order == ["other task ran", "result"]


def test_a_named_executor_is_used_as_asyncio_would() -> None:
    async def main() -> str:
        with concurrent.futures.ThreadPoolExecutor(1, thread_name_prefix="named") as pool:
            return await asyncio.get_running_loop().run_in_executor(
                pool, lambda: threading.current_thread().name
            )

    assert run_virtual(main()).startswith("named")
