"""Live updates for the page: server-sent events, one ``status`` event per completed cycle.

The stream looks at the agent's cycle count a few times a second (wall time: it paces a
browser, not the agent) and sends the live picture when it moved or a control changed, plus a
comment line every 15 s so proxies and the browser keep the connection. The page re-reads the
plan and the bill when ``plan_at`` or the hour changes; the event itself stays small.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from typing import TYPE_CHECKING, Any

from aiohttp import web

from agent.web import live
from agent.web.controls import controls_json
from agent.web.respond import clean

if TYPE_CHECKING:
    from agent.runtime.app import RunningAgent

POLL_S = 0.25
KEEPALIVE_S = 15.0
# A browser that stops reading must not hold a coroutine forever.
WRITE_TIMEOUT_S = 10.0


def live_json(agent: RunningAgent) -> dict[str, Any]:
    state = agent.state
    return {
        "at": agent.clock.now().isoformat(),
        "mode": state.mode,
        "cycles": state.timing.cycles,
        "plan_at": state.timing.last_plan_at.isoformat() if state.timing.last_plan_at else None,
        "last_cycle_ms": round(state.timing.last_cycle_ms, 3),
        "last_plan_ms": round(state.timing.last_plan_ms, 3),
        "last_plan_error": state.timing.last_plan_error,
        "currency": state.currency,
        "flows": [f.to_json() for f in live.flows(agent)],
        "readings": live.readings(agent),
        "heat_mode": live.heat_mode(agent),
        "prices": live.prices_now(agent),
        "health": live.health(agent),
        "controls": controls_json(agent),
        "trading": state.trading.get("totals", {}),
    }


def _frame(event: str, data: dict[str, Any], event_id: int) -> bytes:
    return f"event: {event}\nid: {event_id}\ndata: {json.dumps(data, allow_nan=False)}\n\n".encode()


async def stream(request: web.Request, agent: RunningAgent) -> web.StreamResponse:
    response = web.StreamResponse(
        headers={
            "Content-Type": "text/event-stream",
            "Cache-Control": "no-store",
            "X-Accel-Buffering": "no",
        }
    )
    await response.prepare(request)
    # The browser went away (or stopped reading): nothing to tell anyone.
    with contextlib.suppress(ConnectionResetError, TimeoutError):
        await _follow(response, agent)
    return response


async def _follow(response: web.StreamResponse, agent: RunningAgent) -> None:
    seen: tuple[int, int] | None = None
    idle_s = 0.0
    while True:
        mark = (agent.state.timing.cycles, agent.cycle.overrides_version)
        if mark != seen:
            seen = mark
            idle_s = 0.0
            payload = clean(live_json(agent))
            await asyncio.wait_for(response.write(_frame("status", payload, mark[0])), WRITE_TIMEOUT_S)
        elif idle_s >= KEEPALIVE_S:
            idle_s = 0.0
            await asyncio.wait_for(response.write(b": keep-alive\n\n"), WRITE_TIMEOUT_S)
        await asyncio.sleep(POLL_S)
        idle_s += POLL_S
