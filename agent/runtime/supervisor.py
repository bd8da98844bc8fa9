"""Keeps the agent's long-running tasks alive.

Each task is a coroutine factory. A task that raises is logged (once; repeats at debug) and
started again after a capped exponential backoff; one that returns has finished its work and is
not restarted. ``stop`` cancels everything and waits, bounded, for the tasks to wind down.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from agent.clock import Clock

log = logging.getLogger(__name__)

# First retry after a second; a task that keeps failing is retried at most every minute so a
# broken part neither hammers its peer nor stays down long after the fault clears.
BACKOFF_INITIAL_S = 1.0
BACKOFF_MAX_S = 60.0
# How long tasks get to finish their cleanup (safe states, closing links) after cancellation.
STOP_TIMEOUT_S = 10.0


@dataclass
class TaskState:
    name: str
    state: str = "pending"  # pending | running | backoff | finished | stopped
    restarts: int = 0
    last_error: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {"state": self.state, "restarts": self.restarts, "last_error": self.last_error}


class Supervisor:
    def __init__(
        self,
        clock: Clock,
        *,
        backoff_initial_s: float = BACKOFF_INITIAL_S,
        backoff_max_s: float = BACKOFF_MAX_S,
    ) -> None:
        self._clock = clock
        self._initial_s = backoff_initial_s
        self._max_s = backoff_max_s
        self._factories: dict[str, Callable[[], Awaitable[None]]] = {}
        self._tasks: dict[str, asyncio.Task[None]] = {}
        self.states: dict[str, TaskState] = {}
        self._stopping = False

    def add(self, name: str, factory: Callable[[], Awaitable[None]]) -> None:
        if name in self._factories:
            raise ValueError(f"task {name!r} is already supervised")
        self._factories[name] = factory
        self.states[name] = TaskState(name)
        if self._tasks:  # already running: start it now
            self._tasks[name] = asyncio.create_task(self._guard(name), name=name)

    def start(self) -> None:
        for name in self._factories:
            if name not in self._tasks:
                self._tasks[name] = asyncio.create_task(self._guard(name), name=name)

    async def _guard(self, name: str) -> None:
        state = self.states[name]
        delay_s = self._initial_s
        while True:
            state.state = "running"
            started_s = self._clock.monotonic_s()
            try:
                await self._factories[name]()
            except asyncio.CancelledError:
                state.state = "stopped"
                raise
            except Exception as e:  # the whole point: one failing part must not end the agent
                if self._stopping:
                    # A task failing while it is being stopped is not restarted (it would run
                    # against parts already closed); its error is kept for the log.
                    state.state, state.last_error = "stopped", f"{type(e).__name__}: {e}"
                    return
                state.restarts += 1
                text = f"{type(e).__name__}: {e}"
                if state.last_error != text:
                    log.warning("task %s failed (%s); restarting in %.1f s", name, text, delay_s, exc_info=e)
                else:
                    log.debug("task %s failed again (%s)", name, text)
                state.last_error = text
                state.state = "backoff"
                # A task that ran a good while before failing starts its backoff afresh.
                if self._clock.monotonic_s() - started_s > self._max_s:
                    delay_s = self._initial_s
                await self._clock.sleep(delay_s)
                delay_s = min(delay_s * 2, self._max_s)
                continue
            state.state = "finished"
            if state.last_error is not None:
                log.info("task %s recovered and finished", name)
            return

    async def stop(self, timeout_s: float = STOP_TIMEOUT_S) -> None:
        self._stopping = True
        tasks = list(self._tasks.values())
        for task in tasks:
            task.cancel()
        if tasks:
            done, pending = await asyncio.wait(tasks, timeout=timeout_s)
            for task in pending:
                log.error("task %s did not stop within %.0f s", task.get_name(), timeout_s)
            for task in done:
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    task.result()
        self._tasks.clear()

    def status(self) -> dict[str, dict[str, Any]]:
        return {name: s.to_dict() for name, s in self.states.items()}
