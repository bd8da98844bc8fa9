"""The supervisor restarts failing tasks with capped backoff and stops everything cleanly."""

from __future__ import annotations

import asyncio
import contextlib
from datetime import UTC, datetime

import pytest

from agent.clock import ManualClock, RealClock
from agent.runtime.supervisor import Supervisor


async def test_failing_task_is_restarted_with_capped_backoff_until_it_succeeds() -> None:
    clock = ManualClock(datetime(2026, 1, 1, tzinfo=UTC))
    attempts: list[float] = []

    async def flaky() -> None:
        attempts.append(clock.monotonic_s())
        if len(attempts) < 5:
            raise RuntimeError("link down")

    async def settle() -> None:
        for _ in range(5):
            await asyncio.sleep(0)

    sup = Supervisor(clock, backoff_initial_s=1.0, backoff_max_s=4.0)
    sup.add("flaky", flaky)
    sup.start()
    await settle()
    for _ in range(16):  # step the clock in half seconds to 8 s; retries happen only when due
        clock.advance(0.5)
        await settle()
    # Retries after 1, 2, 4 and then 4 (capped) seconds.
    assert attempts == [0.0, 1.0, 3.0, 7.0]
    clock.advance(2.9)
    await settle()
    assert len(attempts) == 4  # capped at 4 s: not yet at 10.9 s
    clock.advance(0.1)
    await settle()
    assert attempts == [0.0, 1.0, 3.0, 7.0, 11.0]
    assert sup.status()["flaky"] == {
        "state": "finished",
        "restarts": 4,
        "last_error": "RuntimeError: link down",
    }
    await sup.stop()


async def test_stop_cancels_running_tasks_and_runs_their_cleanup() -> None:
    cleaned = asyncio.Event()

    async def forever() -> None:
        try:
            await asyncio.sleep(3600)
        finally:
            cleaned.set()

    sup = Supervisor(RealClock())
    sup.add("loop", forever)
    sup.start()
    await asyncio.sleep(0.01)
    assert sup.states["loop"].state == "running"
    await sup.stop(timeout_s=2)
    assert cleaned.is_set()
    assert sup.states["loop"].state == "stopped"


async def test_one_failing_task_does_not_stop_the_others() -> None:
    ticks = 0

    async def steady() -> None:
        nonlocal ticks
        while True:
            ticks += 1
            await asyncio.sleep(0.005)

    async def broken() -> None:
        raise ValueError("bad config value")

    sup = Supervisor(RealClock(), backoff_initial_s=0.005, backoff_max_s=0.01)
    sup.add("steady", steady)
    sup.add("broken", broken)
    sup.start()
    await asyncio.sleep(0.2)
    assert ticks > 5
    assert sup.states["broken"].restarts >= 3
    assert sup.states["steady"].state == "running"
    await sup.stop()


def test_duplicate_names_are_a_programming_error() -> None:
    sup = Supervisor(RealClock())

    async def nothing() -> None:
        return None

    sup.add("a", nothing)
    with pytest.raises(ValueError, match="already supervised"):
        sup.add("a", nothing)


async def test_a_task_failing_while_it_is_stopped_is_not_restarted() -> None:
    # Seen in a week-long simulation: a device write raised ValueError during shutdown and the
    # supervisor restarted the control cycle against a closed ledger.
    starts = 0

    async def fails_on_cancel() -> None:
        nonlocal starts
        starts += 1
        try:
            await asyncio.sleep(3600)
        except asyncio.CancelledError:
            raise ValueError("cleanup after the devices were closed") from None

    sup = Supervisor(RealClock(), backoff_initial_s=0.001, backoff_max_s=0.001)
    sup.add("cycle", fails_on_cancel)
    sup.start()
    await asyncio.sleep(0.01)
    await sup.stop(timeout_s=2)
    await asyncio.sleep(0.05)
    assert starts == 1
    assert sup.states["cycle"].state == "stopped"
    assert sup.states["cycle"].last_error == "ValueError: cleanup after the devices were closed"


async def test_a_loop_stops_even_when_a_library_swallowed_the_cancellation() -> None:
    # pymodbus turns a cancellation into an I/O error in places; a loop that carried on after
    # that kept "task cycle did not stop within 10 s" in the simulations' logs.
    from agent.cancel import honour_cancellation

    rounds = 0

    async def swallowing_call() -> None:
        with contextlib.suppress(asyncio.CancelledError):  # what the library does
            await asyncio.sleep(0.01)

    async def loop() -> None:
        nonlocal rounds
        while True:
            honour_cancellation()
            rounds += 1
            await swallowing_call()

    sup = Supervisor(RealClock())
    sup.add("cycle", loop)
    sup.start()
    await asyncio.sleep(0.05)
    await sup.stop(timeout_s=2)
    assert sup.states["cycle"].state == "stopped"
    before = rounds
    await asyncio.sleep(0.05)
    assert rounds == before
