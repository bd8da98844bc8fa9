"""The planner in a process of its own, so a solve never stalls the control loop.

PIQP's solve is native code that keeps the GIL for its whole run (tens of milliseconds on this
machine, several times that on a Pi), and a plan is one solve plus a probe solve per bid-curve
point. Run in a thread, every solve froze the event loop for that long: the pollers' replies
waited, readings aged, and at the simulator's 2400x a 30 ms solve was 72 simulated seconds of a
house nobody watched. In a child process the solves take a core of their own and the loop keeps
polling, dispatching and answering the retailer meanwhile.

One child, one request at a time (the plan phase runs one plan at a time anyway). The child is
started on the first plan and kept; it holds its own :class:`~agent.optimizer.planner.Planner`
(structure, symbolic factorisation, warm start), so a re-plan only ships the inputs across.
A plan abandoned half-way (the plan phase's timeout cancels it) or a child that died is not
waited for: the child is killed, and the next plan starts a fresh one. The child ends by itself
when its pipe closes, so it never outlives the agent.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import multiprocessing as mp
import signal
from collections.abc import Mapping, Sequence
from multiprocessing.connection import Connection
from multiprocessing.process import BaseProcess
from typing import Any

from agent.optimizer.errors import OptimizerError, SolverError
from agent.optimizer.model import Devices, PlanInputs
from agent.optimizer.plan import Plan
from agent.optimizer.planner import DEFAULT_BID_OFFSETS_PER_KWH, Planner

log = logging.getLogger(__name__)

# A fresh interpreter imports numpy, scipy and PIQP and builds the structure: about a second
# here, several on a Pi's SD card.
START_TIMEOUT_S = 60.0
STOP_TIMEOUT_S = 5.0


def _serve(conn: Connection, devices: Devices, horizon: int, dt_h: float) -> None:
    # Ctrl-C reaches the whole process group; the agent decides when its planner stops.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    planner = Planner(devices, horizon, dt_h)
    conn.send(("ready", None))
    while True:
        try:
            request = conn.recv()
        except (EOFError, OSError):
            return  # the agent is gone
        if request[0] == "stop":
            return
        _, inputs, options = request
        try:
            reply: tuple[str, Any] = ("plan", planner.plan(inputs, **options))
        except OptimizerError as e:
            reply = ("error", e)
        except Exception as e:  # a bug in the planner must not end the worker
            reply = ("error", SolverError(f"planner raised {type(e).__name__}: {e}"))
        conn.send(reply)


class PlannerProcess:
    """:meth:`Planner.plan_async` answered by a child process (see the module's doc)."""

    def __init__(self, devices: Devices, horizon: int, dt_h: float) -> None:
        self._args = (devices, horizon, dt_h)
        self.starts = 0  # children started so far (1 unless one was killed or died)
        self._ctx = mp.get_context("spawn")
        self._proc: BaseProcess | None = None
        self._conn: Connection | None = None
        self._lock = asyncio.Lock()

    async def plan_async(
        self, inputs: PlanInputs, *, elapsed_intervals: int | None = 0,
        bid_intervals: int = 0, bid_offsets_per_kwh: Sequence[float] = DEFAULT_BID_OFFSETS_PER_KWH,
        bid_from: int = 0, bid_price_range: Mapping[int, tuple[float, float]] | None = None,
    ) -> Plan:  # fmt: skip
        options = {
            "elapsed_intervals": elapsed_intervals,
            "bid_intervals": bid_intervals,
            "bid_offsets_per_kwh": tuple(bid_offsets_per_kwh),
            "bid_from": bid_from,
            "bid_price_range": None if bid_price_range is None else dict(bid_price_range),
        }
        async with self._lock:
            try:
                conn = await self._connection()
                conn.send(("plan", inputs, options))
                kind, value = await self._receive(conn)
            except (EOFError, OSError) as e:
                self._kill()
                raise SolverError(f"the planner process stopped: {type(e).__name__}: {e}") from e
            except BaseException:
                # Cancelled (the plan timed out) or worse: the child may be mid-solve, and its
                # answer would be read as the next plan's. A fresh child is cheaper than sorting.
                self._kill()
                raise
        if kind == "error":
            raise value
        if not isinstance(value, Plan):
            raise SolverError(f"the planner process answered {kind!r}")
        return value

    async def _connection(self) -> Connection:
        if self._conn is not None and self._proc is not None and self._proc.is_alive():
            return self._conn
        self._kill()
        ours, theirs = self._ctx.Pipe(duplex=True)
        proc = self._ctx.Process(target=_serve, args=(theirs, *self._args), name="hems-planner", daemon=True)
        proc.start()
        theirs.close()
        self._proc, self._conn = proc, ours
        self.starts += 1
        try:
            kind, _ = await asyncio.wait_for(self._receive(ours), START_TIMEOUT_S)
        except TimeoutError as e:
            raise SolverError(f"the planner process did not start within {START_TIMEOUT_S:g} s") from e
        if kind != "ready":
            raise SolverError(f"the planner process started with {kind!r}")
        log.debug("planner process %d ready", proc.pid)
        return ours

    async def _receive(self, conn: Connection) -> tuple[str, Any]:
        loop = asyncio.get_running_loop()
        readable: asyncio.Future[None] = loop.create_future()
        fd = conn.fileno()

        def ready() -> None:
            if not readable.done():
                readable.set_result(None)

        loop.add_reader(fd, ready)
        try:
            await readable
        finally:
            loop.remove_reader(fd)
        # The child writes a reply in one go; reading it blocks only while the pipe drains.
        reply = conn.recv()
        return reply[0], reply[1]

    def _kill(self) -> None:
        proc, conn = self._proc, self._conn
        self._proc, self._conn = None, None
        if conn is not None:
            conn.close()
        if proc is not None and proc.is_alive():
            proc.kill()
            proc.join(STOP_TIMEOUT_S)

    async def close(self) -> None:
        """Stop the child (it finishes nothing: a plan in flight is abandoned)."""
        proc, conn = self._proc, self._conn
        if proc is None or conn is None:
            return
        with contextlib.suppress(OSError):
            conn.send(("stop", None))
        await asyncio.to_thread(proc.join, STOP_TIMEOUT_S)
        self._kill()
