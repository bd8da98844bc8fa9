"""The discrete-event event loop: asyncio whose time is virtual and jumps to the next timer.

Built on ``looptime`` (a maintained asyncio time-compaction loop): when no callback is ready and
no I/O is pending, the loop's ``time()`` jumps to the next scheduled timer instead of sleeping,
so ``asyncio.sleep``, ``asyncio.timeout`` and every ``call_later`` run on simulated seconds and a
cycle costs only its computation.

Two things keep a run deterministic and the wall clock out of it:

* the default executor runs its work inline (:class:`InlineExecutor`): ``asyncio.to_thread``
  (the ledger's SQLite calls, the planner's solve) completes before the loop looks at its timers
  again, so no thread races the virtual clock (looptime would otherwise step time in real
  seconds while a thread works);
* looptime's "no-op cycles" (meant for test suites that create timers lazily) are cut to one:
  the loop only asks to sleep when nothing is ready, which in this process means every task waits
  on a timer or on a message that a timer will bring.

* the loop's selector asks the kernel only one in :data:`POLL_EVERY` times it is polled without
  a timeout (:class:`ThinPollSelector`): asyncio polls once per turn of the loop, a simulated
  year turns it some ten million times, and nothing in the simulation does I/O. A wait with a
  timeout (nothing scheduled at all) always reaches it.

* asyncio takes a timer as due when it falls before ``time() + clock resolution``, with the
  monotonic clock's resolution (1 ns) as the margin. Past 2**24 virtual seconds (194 days) a
  float's spacing is over twice that, so ``time() + 1 ns == time()``, and a timer set for the
  present instant (a zero delay) is never due: the loop polls forever at one instant. The margin
  is set to looptime's own tick (1 µs), which the clock never splits anyway.

Nothing in the simulation does real I/O; a run that waits on none (every task blocked with no
timer) ends with looptime's ``IdleTimeoutError`` after ``IDLE_TIMEOUT_S`` virtual seconds rather
than hanging.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import selectors
import weakref
from collections.abc import Callable, Coroutine, Mapping
from typing import Any, TypeVar, cast

import looptime

T = TypeVar("T")

# Virtual seconds a loop with no timer and nothing ready may idle before every task is failed.
IDLE_TIMEOUT_S = 1.0
# Idle cycles before a jump: looptime's default (42) is for tests that schedule timers late; here
# a select with a timeout only ever comes when nothing at all is ready.
NOOP_CYCLES = 1
# looptime's time step (its default resolution), and the margin by which a timer is due.
TICK_S = 1e-6


_LOOPTIME_SYNC_FUTURES = "_LoopTimeEventLoop__sync_futures"
# A zero-timeout poll reaches the kernel once in this many (see the module's doc).
POLL_EVERY = 64


class ThinPollSelector(selectors.BaseSelector):
    """The platform's selector, asked only one in :data:`POLL_EVERY` zero-timeout polls."""

    def __init__(self) -> None:
        self._inner = selectors.DefaultSelector()
        self._skipped = 0

    def register(self, fileobj: Any, events: int, data: Any = None) -> selectors.SelectorKey:
        return self._inner.register(fileobj, events, data)

    def unregister(self, fileobj: Any) -> selectors.SelectorKey:
        return self._inner.unregister(fileobj)

    def modify(self, fileobj: Any, events: int, data: Any = None) -> selectors.SelectorKey:
        return self._inner.modify(fileobj, events, data)

    def select(self, timeout: float | None = None) -> list[tuple[selectors.SelectorKey, int]]:
        if timeout is not None and timeout <= 0:
            if self._skipped < POLL_EVERY - 1:
                self._skipped += 1
                return []
            self._skipped = 0
        return self._inner.select(timeout)

    def close(self) -> None:
        self._inner.close()

    def get_map(self) -> Mapping[Any, selectors.SelectorKey]:
        return self._inner.get_map()


class InlineExecutor(concurrent.futures.ThreadPoolExecutor):
    """Runs each submitted call at once, in the caller's thread, and hands back a done future.

    A thread pool by type only (asyncio accepts nothing else as the default executor); it never
    starts a thread.
    """

    def submit(self, fn: Callable[..., T], /, *args: Any, **kwargs: Any) -> concurrent.futures.Future[T]:
        fut: concurrent.futures.Future[T] = concurrent.futures.Future()
        try:
            fut.set_result(fn(*args, **kwargs))
        except BaseException as e:  # handed to the awaiting coroutine, as a thread pool would
            fut.set_exception(e)
        return fut


def _copy_state(source: concurrent.futures.Future[T], dest: asyncio.Future[T]) -> None:
    if dest.cancelled():
        return
    error = source.exception()
    if error is not None:
        dest.set_exception(error)
    else:
        dest.set_result(source.result())


def _inline_run_in_executor(
    loop: asyncio.AbstractEventLoop,
) -> Callable[..., asyncio.Future[Any]]:
    """``loop.run_in_executor`` that runs work for the default executor inline and hands the
    result over with a plain ``call_soon``: the same turn of the loop as a thread pool's
    ``call_soon_threadsafe`` would take, without its write to the loop's wake-up pipe, its read
    back and looptime's bookkeeping of futures from threads (a plan makes tens of such calls).
    Any other executor is used as asyncio would."""
    original = loop.run_in_executor
    inline = InlineExecutor()

    def run_in_executor(executor: Any, func: Callable[..., T], *args: Any) -> asyncio.Future[T]:
        if executor is not None and not isinstance(executor, InlineExecutor):
            return original(executor, func, *args)
        source = inline.submit(func, *args)
        dest: asyncio.Future[T] = loop.create_future()
        loop.call_soon(_copy_state, source, dest)
        return dest

    return run_in_executor


def new_virtual_loop(start_s: float = 0.0) -> asyncio.AbstractEventLoop:
    """A fresh event loop on virtual time starting at ``start_s``, with the inline default executor."""
    loop = looptime.patch_event_loop(
        asyncio.SelectorEventLoop(ThinPollSelector()),
        start=start_s, noop_cycles=NOOP_CYCLES, idle_timeout=IDLE_TIMEOUT_S, resolution=TICK_S,
    )  # fmt: skip
    # asyncio's own margin for a due timer (see the module's doc); private, but read only there.
    cast(asyncio.BaseEventLoop, loop)._clock_resolution = TICK_S  # type: ignore[attr-defined]
    loop.set_default_executor(InlineExecutor())
    loop.run_in_executor = _inline_run_in_executor(loop)  # type: ignore[method-assign]
    # looptime walks its weak set of futures from threads on every idle turn; with the default
    # executor inline it stays empty, and an empty plain set is walked for nothing. (Private to
    # looptime: left alone if it is not there.)
    if isinstance(getattr(loop, _LOOPTIME_SYNC_FUTURES, None), weakref.WeakSet):
        setattr(loop, _LOOPTIME_SYNC_FUTURES, set())
    return loop


def run_virtual(main: Coroutine[Any, Any, T]) -> T:
    """``asyncio.run`` on a virtual-time loop."""
    with asyncio.Runner(loop_factory=new_virtual_loop) as runner:
        return runner.run(main)
