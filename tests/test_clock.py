"""The injected clocks: real, scaled (faster than real time) and manual."""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime, timedelta

import pytest

from agent.clock import Clock, ManualClock, RealClock, ScaledClock

START = datetime(2026, 6, 1, tzinfo=UTC)


def test_real_clock_is_aware_utc() -> None:
    now = RealClock().now()
    assert now.tzinfo is UTC
    assert abs((now - datetime.now(UTC)).total_seconds()) < 5


async def test_scaled_clock_runs_faster_than_real_time() -> None:
    clock = ScaledClock(START, speed=600.0)
    real0 = time.monotonic()
    await clock.sleep(60.0)  # a simulated minute is 0.1 s of real time
    real_s = time.monotonic() - real0
    simulated_s = (clock.now() - START).total_seconds()
    assert simulated_s >= 60.0
    # Upper bound generous for a loaded machine; the point is "not 60 real seconds".
    assert real_s < 5.0
    assert clock.monotonic_s() >= 60.0


def test_scaled_clock_jump_moves_wall_time_but_not_monotonic() -> None:
    clock = ScaledClock(START, speed=1.0)
    mono = clock.monotonic_s()
    clock.jump(3600)
    assert clock.now() - START >= timedelta(hours=1)
    assert clock.monotonic_s() - mono < 1.0


def test_clocks_refuse_naive_start_and_bad_speed() -> None:
    with pytest.raises(ValueError, match="aware"):
        ScaledClock(datetime(2026, 1, 1))
    with pytest.raises(ValueError, match="speed"):
        ScaledClock(START, speed=0)
    with pytest.raises(ValueError, match="aware"):
        ManualClock(datetime(2026, 1, 1))


async def test_manual_clock_wakes_sleepers_in_deadline_order() -> None:
    clock = ManualClock(START)
    woke: list[str] = []

    async def sleeper(name: str, seconds: float) -> None:
        await clock.sleep(seconds)
        woke.append(f"{name}@{(clock.now() - START).total_seconds():.0f}")

    tasks = [asyncio.create_task(sleeper("late", 10)), asyncio.create_task(sleeper("early", 5))]
    await asyncio.sleep(0)
    clock.advance(4)
    await asyncio.sleep(0)
    assert woke == []
    clock.advance(6)
    await asyncio.gather(*tasks)
    assert woke == ["early@10", "late@10"]
    with pytest.raises(ValueError, match="forward"):
        clock.advance(-1)


def test_every_clock_satisfies_the_protocol() -> None:
    clocks: list[Clock] = [RealClock(), ScaledClock(START), ManualClock(START)]
    for clock in clocks:
        assert clock.now().tzinfo is not None
