"""The web server task: the status page, the JSON API and ``/metrics`` on one aiohttp app.

``web_task`` runs under the agent's supervisor (restarted if it fails, cancelled on stop); it
binds as configured (default loopback only) and always cleans up its runner. Home Assistant
discovery, when configured, runs beside it in the same task.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING

from aiohttp import web

from agent.web import metrics
from agent.web.api import Api
from agent.web.guard import errors_and_headers, local_names
from agent.web.openapi import document
from agent.web.token import load_or_create_token

if TYPE_CHECKING:
    from agent.runtime.app import RunningAgent

log = logging.getLogger(__name__)

STATIC_DIR = Path(str(resources.files("agent.web") / "static"))
# Requests larger than this are refused by aiohttp before a handler sees them.
MAX_REQUEST_BYTES = 64 * 1024


def make_app(agent: RunningAgent, token: str) -> web.Application:
    app = web.Application(middlewares=[errors_and_headers], client_max_size=MAX_REQUEST_BYTES)
    api = Api(agent, token, local_names() | {agent.config.web.bind.lower()})
    app.add_routes(api.routes())

    async def index(_request: web.Request) -> web.FileResponse:
        return web.FileResponse(STATIC_DIR / "index.html", headers={"Cache-Control": "no-cache"})

    async def openapi(_request: web.Request) -> web.Response:
        return web.json_response(document())

    async def prometheus(_request: web.Request) -> web.Response:
        return web.Response(
            body=metrics.render(agent).encode(), headers={"Content-Type": metrics.CONTENT_TYPE}
        )

    app.add_routes(
        [
            web.get("/", index),
            web.get("/api/openapi.json", openapi),
            web.get("/metrics", prometheus),
            web.static("/static", STATIC_DIR, show_index=False, follow_symlinks=False),
        ]
    )
    return app


async def web_task(agent: RunningAgent) -> None:
    """Serve until cancelled."""
    cfg = agent.config.web
    if not cfg.enabled:
        return
    token = await asyncio.to_thread(load_or_create_token, agent.config)
    runner = web.AppRunner(
        make_app(agent, token), access_log=None, handle_signals=False, shutdown_timeout=2.0
    )
    await runner.setup()
    bridge_task: asyncio.Task[None] | None = None
    try:
        site = web.TCPSite(runner, cfg.bind, cfg.port)
        await site.start()
        log.info("status page on http://%s:%d/", cfg.bind, cfg.port)
        if cfg.home_assistant is not None:
            from agent.web.ha.bridge import run_bridge

            bridge_task = asyncio.create_task(run_bridge(agent, cfg.home_assistant), name="home-assistant")
            await bridge_task  # runs until cancelled; a failure restarts the whole web task
        else:
            await asyncio.Event().wait()
    finally:
        if bridge_task is not None:
            bridge_task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await bridge_task
        await runner.cleanup()
